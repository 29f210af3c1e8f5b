import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PghardenError } from './errors.js';
import type { PlanDocument } from './harden.js';
import { Journal, readJournal, runDir } from './journal.js';
import { buildReport, renderReportMarkdown, writeReport } from './report.js';

const RUN = '20260101T000000Z-abcdef';
const PASSWORD = 'Hv_XiAKlCxTV5Z9iuKbp';

const PLAN: PlanDocument = {
  v: 1,
  cluster: 'lab',
  topology: 'streaming',
  auth: 'scram',
  createdAt: '2026-01-01T00:00:00.000Z',
  nodes: [
    {
      node: 'pg1',
      host: '127.0.1.1',
      role: 'primary',
      steps: [
        { id: 'tls.install-ca', title: 'Install the CA bundle (root.crt)', needed: true },
        { id: 'tls.reload', title: 'Reload', needed: false },
        { id: 'hba.hostssl', title: 'pg_hba.conf: TLS | every TCP connection', needed: true },
      ],
    },
    {
      node: 'pg2',
      host: '127.0.1.2',
      role: 'standby',
      steps: [
        { id: 'tls.install-ca', title: 'Install the CA bundle (root.crt)', needed: true },
        { id: 'hba.hostssl', title: 'pg_hba.conf', needed: true },
      ],
    },
  ],
  phases: [],
  checksums: {},
  reloads: 1,
  restarts: 0,
};

const backup = (path: string, existed = true) => ({
  path,
  backup: `${path}.pgharden-${RUN}.bak`,
  sha256: '00',
  mode: 0o600,
  owner: 'postgres',
  existed,
});

let state: string;
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'pgharden-report-'));
});
afterEach(() => rmSync(state, { recursive: true, force: true }));

/** pg1 applied both steps; pg2's hba.hostssl failed and pg2 was rolled back. */
async function journalOfFailedRun(): Promise<void> {
  const j = await Journal.open(state, RUN, [PASSWORD]);
  const w = (r: Parameters<Journal['write']>[0]) => j.write(r);
  await w({ type: 'run:begin' });
  await w({ type: 'step:begin', node: 'pg1', step: 'tls.install-ca' });
  await w({ type: 'backup', node: 'pg1', step: 'tls.install-ca', backup: backup('/d1/tls/root.crt', false) });
  await w({ type: 'step:done', node: 'pg1', step: 'tls.install-ca' });
  await w({ type: 'step:skipped', node: 'pg1', step: 'tls.reload' });
  await w({ type: 'step:begin', node: 'pg1', step: 'hba.hostssl' });
  await w({ type: 'backup', node: 'pg1', step: 'hba.hostssl', backup: backup('/d1/pg_hba.conf') });
  await w({ type: 'step:done', node: 'pg1', step: 'hba.hostssl' });
  await w({ type: 'step:begin', node: 'pg2', step: 'tls.install-ca' });
  await w({ type: 'backup', node: 'pg2', step: 'tls.install-ca', backup: backup('/d2/tls/root.crt', false) });
  await w({ type: 'step:done', node: 'pg2', step: 'tls.install-ca' });
  await w({ type: 'step:begin', node: 'pg2', step: 'hba.hostssl' });
  await w({ type: 'backup', node: 'pg2', step: 'hba.hostssl', backup: backup('/d2/pg_hba.conf') });
  await w({ type: 'step:failed', node: 'pg2', step: 'hba.hostssl', error: { code: 'x', message: 'no' } });
  await w({ type: 'undo:done', node: 'pg2', step: 'hba.hostssl' });
  await w({ type: 'undo:done', node: 'pg2', step: 'tls.install-ca' });
  await w({ type: 'rollback:done', node: 'pg2' });
  await j.close();
}

describe('run report', () => {
  it('every step per node with its status and every file with its backup, from the journal', async () => {
    await journalOfFailedRun();
    const r = buildReport({
      command: 'apply',
      exitCode: 4,
      plan: PLAN,
      run: await readJournal(state, RUN),
      journal: '/state/runs/x/journal.jsonl',
      inventory: '/inv.yaml',
      now: new Date('2026-01-01T00:01:00Z'),
    });
    expect(r.outcome).toBe('incomplete'); // only pg2 rolled back: pgharden resume or rollback it
    expect(r.nodes.map((n) => n.steps.map((s) => `${n.node} ${s.id} ${s.status}`))).toEqual([
      ['pg1 tls.install-ca done', 'pg1 tls.reload already done', 'pg1 hba.hostssl done'],
      ['pg2 tls.install-ca undone', 'pg2 hba.hostssl failed'],
    ]);
    expect(r.files).toEqual([
      expect.objectContaining({ node: 'pg1', path: '/d1/tls/root.crt', existed: false, restored: false }),
      expect.objectContaining({
        node: 'pg1',
        path: '/d1/pg_hba.conf',
        backup: `/d1/pg_hba.conf.pgharden-${RUN}.bak`,
      }),
      expect.objectContaining({ node: 'pg2', path: '/d2/tls/root.crt', restored: true }),
      expect.objectContaining({ node: 'pg2', path: '/d2/pg_hba.conf', restored: true }),
    ]);
    expect(r.verification).toBeUndefined();
    const md = renderReportMarkdown(r);
    expect(md).toContain('| hba.hostssl | failed |');
    expect(md).toContain(`| pg1 | /d1/pg_hba.conf | /d1/pg_hba.conf.pgharden-${RUN}.bak | hba.hostssl |  |`);
    expect(md).toContain('TLS \\| every'); // a | in a title does not break the table
    expect(md).toContain('Not run.');
  });

  it('is written beside the journal (0600) with the verification rows, and holds no secret', async () => {
    await journalOfFailedRun();
    const run = await readJournal(state, RUN);
    const rows = [
      { node: 'pg1', check: 'ssl.on', ok: true, value: 'ssl = on' },
      { node: 'pg1', check: 'probe.verify-full', ok: false, value: 'refused' },
    ];
    const report = buildReport({
      command: 'wizard',
      exitCode: 3,
      plan: PLAN,
      run,
      journal: 'j',
      inventory: 'i',
      verify: { exitCode: 3, rows },
      clientBundle: join(runDir(state, RUN), 'client-bundle'),
    });
    const paths = await writeReport(state, report, [PASSWORD]);
    expect(paths).toEqual({
      json: join(runDir(state, RUN), 'report.json'),
      md: join(runDir(state, RUN), 'report.md'),
    });
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as { verification: unknown };
    expect(json.verification).toEqual({ exitCode: 3, passed: 1, failed: 1, rows });
    const md = readFileSync(paths.md, 'utf8');
    expect(md).toContain('1 passed, 1 failed (exit 3).');
    expect(md).toContain('| ✗ | pg1 | probe.verify-full | refused |');
    for (const p of [paths.json, paths.md]) {
      expect(statSync(p).mode & 0o777).toBe(0o600);
      const text = readFileSync(p, 'utf8');
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toMatch(/PRIVATE KEY/);
    }
  });

  it.each([
    ['a password', `connected with ${PASSWORD}`],
    // Made here: a test carries no key material of its own.
    [
      'a private key',
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string,
    ],
  ])('refuses to write a report that would contain %s, and writes nothing', async (_what, value) => {
    await journalOfFailedRun();
    const report = buildReport({
      command: 'apply',
      exitCode: 0,
      plan: PLAN,
      run: await readJournal(state, RUN),
      journal: 'j',
      inventory: 'i',
      verify: { exitCode: 0, rows: [{ node: 'pg1', check: 'x', ok: true, value }] },
    });
    const err = await writeReport(state, report, [PASSWORD]).catch((e: unknown) => e);
    expect(PghardenError.is(err) && err.code).toBe('report.secret');
    expect(existsSync(join(runDir(state, RUN), 'report.json'))).toBe(false);
    expect(existsSync(join(runDir(state, RUN), 'report.md'))).toBe(false);
  });
});
