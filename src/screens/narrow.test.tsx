// Every screen at 80, 60 and 40 columns: no line wider than the terminal (ANSI stripped, measured
// the way Ink measures, with string-width), and what the operator needs still on screen.
import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { Action, PreflightDetail, WizardState } from '../wizard/state.js';
import { initialState } from '../wizard/state.js';
import { CERTS, INVENTORY } from '../wizard/test-fixtures.js';
import { KEY, renderWizard, stateAfter, TO_CERTS, TO_PLAN, TO_PREFLIGHT } from './test-harness.js';

afterEach(cleanup);

const LONG_DIR = '/var/lib/postgresql/15/main-with-a-rather-long-cluster-directory-name';
const FINGERPRINT = 'SHA256:q9Xg0sO1y7W2b8fTz4XlY0aA3tH5eV6mN1cR2dK7pLs';
const DETAIL: PreflightDetail = {
  node: 'pg1',
  sshUser: 'administrator',
  access: 'sudo',
  pgVersion: '15.8',
  role: 'primary',
  dataDir: LONG_DIR,
  hbaFile: `${LONG_DIR}/pg_hba.conf`,
  ssl: 'off',
  passwordEncryption: 'md5',
  md5Roles: ['app', 'reporting', 'analytics_readonly'],
  hbaErrors: 0,
  replication: '2 standby(s), 0 over TLS',
  libpq: '15.8',
};

interface Case {
  name: string;
  state: () => WizardState;
  /** Pushed after the render, as the effects layer would. */
  push?: Action[];
  keys?: string[];
  /** Must be on screen (each on one line, whatever the width). */
  visible: string[];
}

const TO_VERIFY: Action[] = [
  ...TO_PLAN,
  { type: 'plan:confirm' },
  { type: 'apply:finished', runId: '20260101T000000Z-abcdef', journal: `${LONG_DIR}/journal.jsonl` },
];

const CASES: Case[] = [
  {
    name: 'welcome',
    state: () => ({
      ...initialState(),
      welcome: {
        inventories: ['production-main-cluster.yaml'],
        runs: [
          {
            runId: '20260101T000000Z-abcdef',
            inventory: `${LONG_DIR}/inventory.yaml`,
            nodes: ['pg1', 'pg2', 'pg3'],
            interrupted: 1,
          },
        ],
      },
    }),
    visible: ['First-time hardening', 'Audit (read-only)'],
  },
  {
    name: 'inventory menu',
    state: () => ({
      ...stateAfter([{ type: 'job:choose', job: 'harden' }]),
      welcome: { inventories: ['production-main-cluster.yaml'], runs: [] },
    }),
    visible: ['Load an inventory file', 'pasted host list'],
  },
  {
    name: 'inventory path typed long',
    state: () => stateAfter([{ type: 'job:choose', job: 'harden' }]),
    keys: [KEY.enter, `${LONG_DIR}/inventories/production.yaml`],
    visible: ['production.yaml'],
  },
  {
    name: 'inventory paste with errors',
    state: () => stateAfter([{ type: 'job:choose', job: 'harden' }]),
    keys: [KEY.down, KEY.down, KEY.enter, 'pg1 10.0.0.1:99999\rpg2 a b c d\r\r'],
    visible: ['line 1:', 'line 2:'],
  },
  {
    name: 'preflight running, host key prompt',
    state: () =>
      stateAfter([
        ...TO_PREFLIGHT,
        {
          type: 'hostkey:ask',
          prompt: {
            id: 'hk1',
            info: {
              node: 'pg1',
              host: 'pg1.production.example.com',
              port: 22,
              keyType: 'ssh-ed25519',
              fingerprint: FINGERPRINT,
            },
          },
        },
      ]),
    visible: ['Unknown host key', 'Accept for this run only', 'Abort'],
  },
  {
    name: 'preflight done with facts and findings',
    state: () => stateAfter(TO_PREFLIGHT),
    push: [
      {
        type: 'engine',
        event: { type: 'node:connected', node: 'pg1', hostKey: FINGERPRINT, keyType: 'ssh-ed25519', ms: 40 },
      },
      {
        type: 'engine',
        event: {
          type: 'node:failed',
          node: 'pg2',
          error: {
            code: 'ssh.refused',
            message: 'pg2: 127.0.1.2:22 refused the connection (is sshd running there?)',
            hint: 'check the address and that sshd listens on port 22',
          },
        },
      },
      {
        type: 'preflight:finished',
        details: [DETAIL],
        findings: [
          {
            id: 'ssl.off',
            severity: 'high',
            node: 'pg1',
            message: 'ssl is off: every connection is in clear text, passwords included',
            fix: 'enable-ssl (pgharden sets ssl = on with the cluster certificate)',
          },
        ],
      },
    ],
    visible: ['pg1', 'pg2', 'ssl is off'],
  },
  {
    name: 'auth with roles',
    state: () => {
      const s = stateAfter(TO_CERTS.slice(0, -1));
      return {
        ...s,
        inventory: {
          ...s.inventory,
          view: {
            ...INVENTORY,
            roles: [
              { name: 'replicator', kind: 'replication' },
              { name: 'application_user_with_long_name', kind: 'client', auth: 'cert' },
            ],
          },
        },
      };
    },
    visible: ['SCRAM', 'Client certificates', 'Both', 'Per-role overrides'],
  },
  {
    name: 'auth: per-role overrides open',
    state: () => {
      const s = stateAfter(TO_CERTS.slice(0, -1));
      return {
        ...s,
        inventory: {
          ...s.inventory,
          view: {
            ...INVENTORY,
            roles: [{ name: 'application_user_with_a_really_long_role_name', kind: 'client', auth: 'cert' }],
          },
        },
      };
    },
    keys: [KEY.down, KEY.down, KEY.down, KEY.enter],
    visible: ['Per-role auth', '→ cert', 'Esc: done'],
  },
  {
    name: 'rotation: certificates in use and the choices',
    state: () =>
      stateAfter([
        { type: 'job:choose', job: 'rotate' },
        { type: 'inventory:loaded', view: INVENTORY },
        { type: 'preflight:finished', details: [], findings: [] },
        { type: 'preflight:continue' },
        {
          type: 'rotate:ready',
          view: {
            pkiDir: `${LONG_DIR}/pki`,
            caState: 'phase1',
            certs: [
              {
                node: 'pg1-production-main',
                what: 'replication client',
                subject: 'CN=pg1.production.example.com, O=Example Corporation',
                notAfter: '2026-11-28T00:00:00.000Z',
                daysLeft: 5,
              },
            ],
          },
        },
      ]),
    visible: ['5 d left', 'Re-issue every server', 'phase 2'],
  },
  {
    name: 'certificates: generate or import',
    state: () => stateAfter(TO_CERTS),
    visible: ['Generate', 'Import'],
  },
  {
    name: 'certificates listed with a problem',
    state: () =>
      stateAfter([
        ...TO_CERTS,
        {
          type: 'certs:ready',
          dir: `${LONG_DIR}/pki`,
          items: [
            CERTS[0]!,
            {
              ...CERTS[1]!,
              sans: ['DNS:pg1.production.example.com', 'IP:10.0.0.11', 'IP:fd00::11'],
              findings: [
                {
                  id: 'san.missing-host',
                  severity: 'error',
                  message: 'pg1.internal is not in the SAN',
                  fix: 're-issue the certificate with every name clients use',
                },
              ],
            },
          ],
        },
      ]),
    visible: ['server pg1', 'ca CA', 'problem'],
  },
  {
    name: 'CA passphrase prompt',
    state: () =>
      stateAfter([
        ...TO_CERTS,
        {
          type: 'secret:ask',
          prompt: {
            id: 's1',
            kind: 'ca-passphrase',
            subject: `${LONG_DIR}/pki/root.key`,
            retry: 'that passphrase does not decrypt the CA key',
          },
        },
      ]),
    keys: ['secret-value'],
    visible: ['passphrase', 'Esc'],
  },
  {
    name: 'plan',
    state: () => stateAfter(TO_PLAN),
    visible: ['pg1', 'pg2', 'Enable TLS'],
  },
  {
    name: 'plan, a step expanded',
    state: () => stateAfter(TO_PLAN),
    keys: [KEY.enter],
    visible: ['pg_hba.conf'],
  },
  {
    name: 'apply running',
    state: () => stateAfter([...TO_PLAN, { type: 'plan:confirm' }]),
    push: [
      { type: 'engine', event: { type: 'step:started', node: 'pg1', step: 'tls.install-server-cert' } },
      { type: 'engine', event: { type: 'step:done', node: 'pg1', step: 'tls.enable', ms: 120 } },
    ],
    visible: ['pg1', 'Ctrl-C'],
  },
  {
    name: 'apply failed and rolled back',
    state: () => stateAfter([...TO_PLAN, { type: 'plan:confirm' }]),
    push: [
      {
        type: 'engine',
        event: {
          type: 'step:failed',
          node: 'pg1',
          step: 'tls.enable',
          error: { message: `reload failed: could not load ${LONG_DIR}/server.crt` },
        },
      },
      {
        type: 'apply:failed',
        error: { code: 'run.rolled-back', message: 'pg1 failed; every changed node was rolled back' },
        exitCode: 4,
      },
    ],
    visible: ['rolled back'],
  },
  {
    name: 'verify',
    state: () => stateAfter(TO_VERIFY),
    push: [
      {
        type: 'engine',
        event: {
          type: 'verify:row',
          node: 'pg1',
          check: 'tls.probe',
          ok: true,
          value: 'TLSv1.3 ' + FINGERPRINT,
        },
      },
    ],
    visible: ['Verifying'],
  },
  {
    name: 'done',
    state: () => stateAfter(TO_VERIFY),
    push: [
      { type: 'verify:finished', exitCode: 0 },
      {
        type: 'run:files',
        files: {
          report: { json: `${LONG_DIR}/report.json`, md: `${LONG_DIR}/report.md` },
          bundle: `${LONG_DIR}/client-bundle`,
        },
      },
    ],
    visible: ['done', 'next rotation'],
  },
  {
    name: 'audit',
    state: () =>
      stateAfter([
        { type: 'job:choose', job: 'audit' },
        { type: 'inventory:loaded', view: INVENTORY },
      ]),
    push: [
      {
        type: 'audit:finished',
        exitCode: 3,
        findings: [
          {
            id: 'hba.trust-tcp',
            severity: 'critical',
            node: 'pg1',
            message: 'pg_hba.conf line 4 lets anyone in over TCP without a password (trust)',
            fix: 'hba-hostssl: rewritten as hostssl with scram-sha-256',
          },
        ],
      },
    ],
    visible: ['critical', 'pg1'],
  },
  {
    name: 'help and an error',
    state: () => ({
      ...stateAfter(TO_PLAN),
      error: {
        code: 'certs.errors',
        message: 'a long error message that says exactly what went wrong and on which node it happened',
        hint: 'and a hint that says what to do about it, also long enough to need wrapping',
      },
    }),
    keys: ['?'],
    visible: ['close help'],
  },
  {
    name: 'quit question',
    state: () => stateAfter([...TO_PLAN, { type: 'plan:confirm' }]),
    keys: [KEY.ctrlC],
    visible: ['roll back?'],
  },
];

function widest(frames: string[]): { width: number; line: string } {
  let max = { width: 0, line: '' };
  for (const frame of frames) {
    for (const line of stripVTControlCharacters(frame).split('\n')) {
      const width = stringWidth(line);
      if (width > max.width) max = { width, line };
    }
  }
  return max;
}

describe.each([80, 60, 40])('%i columns', (columns) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const w = await renderWizard(c.state(), true, columns);
    if (c.push !== undefined) await w.push(...c.push);
    if (c.keys !== undefined) await w.press(...c.keys);
    const frames = w.sized();
    expect(frames.length).toBeGreaterThan(0);
    const max = widest(frames);
    expect(max.width, `widest line: ${JSON.stringify(max.line)}`).toBeLessThanOrEqual(columns);
    const screen = stripVTControlCharacters(w.frame());
    for (const text of c.visible) expect(screen).toContain(text);
    // The header may cut the job's name, never where the operator is.
    const header = screen.split('\n').find((l) => l.startsWith('pgharden'));
    expect(header).toMatch(
      / · (\d\/[78] )?(Welcome|Inventory|Preflight|Authentication|Certificates|Rotation|Plan|Apply|Verify|Audit|Done)$/,
    );
    for (const frame of frames) expect(frame).not.toContain('secret-value');
  });
});
