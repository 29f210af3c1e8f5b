// `pgharden verify` with the bundled CLI against the real streaming lab: first the deliberately insecure
// cluster (exit 3, the right rows failing on the right nodes, no password in the output), then with
// pg1 hardened by hand (certs from `certs issue`, ssl=on by ALTER SYSTEM) so the TLS probes pass there
// while hba still accepts non-TLS md5. pg1 is restored exactly afterwards: other e2e files expect the
// insecure lab.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { handTls, type HandTls } from './hand-tls.js';
import { jsonEvents, runCli, type CliRun, type JsonEvent } from './rig.js';

let lab: Lab;
let pg1: LabNode;
let work: string;
let pki: string;
/** Inventory copy whose pki.dir is the temp PKI dir. */
let inventory: string;
let tls: HandTls;

interface Row {
  node: string;
  check: string;
  ok: boolean;
  value: string;
}

function rowsOf(run: CliRun): Row[] {
  return jsonEvents(run.stdout).filter((e: JsonEvent) => e.type === 'verify:row') as unknown as Row[];
}

const find = (rows: Row[], node: string, check: string): Row[] =>
  rows.filter((r) => r.node === node && r.check === check);

/** The one row of a node's check (fails the test when there is none or several). */
function one(rows: Row[], node: string, check: string): Row {
  const found = find(rows, node, check);
  expect(found, `${node} ${check}`).toHaveLength(1);
  return found[0] as Row;
}

function expectNoPasswords(run: CliRun): void {
  for (const pw of Object.values(lab.passwords)) {
    expect(run.stdout).not.toContain(pw);
    expect(run.stderr).not.toContain(pw);
  }
}

beforeAll(async () => {
  const l = await readLab('streaming');
  if (!l) throw new Error('the streaming lab is not up (test/e2e/global-setup.ts brings it up)');
  lab = l;
  const primary = lab.nodes.find((n) => n.name === 'pg1');
  if (!primary) throw new Error('the streaming lab has no pg1');
  pg1 = primary;
  work = await mkdtemp(join(tmpdir(), 'pgharden-verify-'));
  pki = join(work, 'pki');
  inventory = join(work, 'inventory.yaml');
  const doc = parse(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  await writeFile(inventory, stringify({ ...doc, pki: { dir: pki } }));
  tls = handTls(pg1, 'verify');
  await tls.prepare();
  expect(await tls.sql('SHOW ssl')).toBe('off');
});

afterAll(async () => {
  if (pg1 === undefined) return;
  const after = await tls.restore();
  await rm(work, { recursive: true, force: true });
  expect(after.ssl).toBe('off');
  expect(after.autoConf).toBe(after.autoConfBefore);
  expect(after.nonDefaultTlsFiles).toBe('0');
});

describe('verify on the insecure lab', () => {
  it('exits 3; ssl, non-TLS, md5 and hba rows fail on every node; replication rows on the right side', async () => {
    const run = await runCli(['verify', '-i', lab.inventoryPath, '--json'], {
      PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '',
    });
    expect(run.code).toBe(3);
    expectNoPasswords(run);
    const rows = rowsOf(run);
    for (const n of lab.nodes) {
      for (const check of [
        'ssl.on',
        'probe.no-tls-refused',
        'roles.no-md5',
        'hba.tls-only',
        'peer.no-tls-refused',
      ])
        expect(
          find(rows, n.name, check).map((r) => r.ok),
          `${n.name} ${check}`,
        ).toContain(false);
      expect(find(rows, n.name, 'node.reachable')).toEqual([expect.objectContaining({ ok: true })]);
      // The probes can pass: md5 still refuses a wrong password.
      const wrongPassword = one(rows, n.name, 'probe.wrong-password-refused');
      expect(wrongPassword.ok).toBe(true);
      expect(wrongPassword.value).toContain('28P01');
    }
    expect(one(rows, 'pg1', 'replication.tls')).toMatchObject({ ok: false, value: 'pg2 ssl=f; pg3 ssl=f' });
    expect(find(rows, 'pg2', 'replication.verify-full')).toEqual([
      expect.objectContaining({ ok: false, value: 'sslmode=prefer' }),
    ]);
    expect(find(rows, 'pg1', 'probe.no-tls-refused')[0]?.value).toMatch(/accepted up to the password prompt/);
    const summary = jsonEvents(run.stdout).at(-1);
    const failed = rows.filter((r) => !r.ok).length;
    expect(summary).toMatchObject({
      type: 'summary',
      command: 'verify',
      exitCode: 3,
      failed,
      passed: rows.length - failed,
    });
  });

  it('human view: one ✓/✗ line per row grouped per node; a world-readable --secrets file exits 2', async () => {
    const run = await runCli(['verify', '-i', lab.inventoryPath]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^pg1\n {2}✓ pg1 node\.reachable/m);
    expect(run.stdout).toMatch(/✗ pg2 ssl\.on +ssl = off/);
    expect(run.stdout).toMatch(/\d+ passed, \d+ failed → exit 3/);

    const secrets = join(work, 'secrets.yaml');
    await writeFile(secrets, `app: ${lab.passwords['app'] ?? ''}\n`);
    await chmod(secrets, 0o644);
    const loose = await runCli(['verify', '-i', lab.inventoryPath, '--secrets', secrets]);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toContain('chmod 600');
    expectNoPasswords(loose);
  });
});

describe('verify with a node that cannot be reached', () => {
  it('reports node.reachable=false and failed probes for it, the other nodes still verified; exit 3', async () => {
    const doc = parse(await readFile(lab.inventoryPath, 'utf8')) as { nodes: unknown[] } & Record<
      string,
      unknown
    >;
    const withGhost = join(work, 'ghost.yaml');
    // Port 1 on a loopback address nobody listens on: refused at once, for SSH and PostgreSQL alike.
    const ghost = {
      name: 'pg9',
      host: '127.0.1.99',
      role: 'standby',
      pg: { port: 1 },
      ssh: { port: 1, user: 'nobody' },
    };
    await writeFile(withGhost, stringify({ ...doc, nodes: [...doc.nodes, ghost] }));
    const run = await runCli(['verify', '-i', withGhost, '--json']);
    expect(run.code).toBe(3);
    expect(run.ms).toBeLessThan(30_000);
    const rows = rowsOf(run);
    expect(one(rows, 'pg9', 'node.reachable').ok).toBe(false);
    expect(one(rows, 'pg9', 'probe.no-tls-refused').ok).toBe(false);
    expect(one(rows, 'pg1', 'node.reachable').ok).toBe(true);
    expect(one(rows, 'pg1', 'roles.no-md5').ok).toBe(false);
    // pg1 expects three standbys now and sees two streaming.
    expect(one(rows, 'pg1', 'replication.tls').value).toContain('1 of 3 standbys not streaming');
  });
});

describe('verify with pg1 hardened by hand (TLS on, hba unchanged)', () => {
  beforeAll(async () => {
    const issued = await runCli(['certs', 'issue', '-i', inventory]);
    expect(issued.code).toBe(0);
    await tls.enable(pki);
    expect(await tls.waitForSsl('on')).toBe('on');
  });

  it('without credentials the verify-full probe proves TLS but fails, saying which variable to set', async () => {
    const run = await runCli(['verify', '-i', inventory, '--json']);
    expect(run.code).toBe(3);
    const [row] = find(rowsOf(run), 'pg1', 'probe.verify-full');
    expect(row?.ok).toBe(false);
    expect(row?.value).toMatch(/TLS verified \(TLSv1\.[23].*no credentials: set PGHARDEN_PASSWORD_APP/);
  });

  it('with PGHARDEN_PASSWORD_APP: verify-full and wrong-CA pass on pg1, non-TLS is still accepted', async () => {
    const run = await runCli(['verify', '-i', inventory, '--json'], {
      PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '',
    });
    expect(run.code).toBe(3);
    expectNoPasswords(run);
    const rows = rowsOf(run);
    const verifyFull = one(rows, 'pg1', 'probe.verify-full');
    expect(verifyFull.ok).toBe(true);
    expect(verifyFull.value).toMatch(/^127\.0\.1\.1: connected as app, TLSv1\.[23]/);
    expect(find(rows, 'pg1', 'probe.wrong-ca-refused')).toEqual([expect.objectContaining({ ok: true })]);
    expect(find(rows, 'pg1', 'ssl.on')).toEqual([expect.objectContaining({ ok: true })]);
    expect(one(rows, 'pg1', 'tls.cert-expiry').ok).toBe(true);
    expect(one(rows, 'pg1', 'tls.cert-expiry').value).toMatch(/^36[45] days left/);
    expect(find(rows, 'pg1', 'probe.no-tls-refused')).toEqual([expect.objectContaining({ ok: false })]);
    // pg2 still has ssl=off: the wrong-CA probe fails for the right reason there.
    expect(one(rows, 'pg2', 'probe.wrong-ca-refused').ok).toBe(false);
    expect(one(rows, 'pg2', 'probe.wrong-ca-refused').value).toContain('does not support SSL');
    // pg1 now has ssl_ca_file: its peer verify-full probes run, and fail against the plain standbys.
    expect(find(rows, 'pg1', 'peer.verify-full').map((r) => r.ok)).toEqual([false, false]);
    expect(find(rows, 'pg2', 'peer.verify-full').every((r) => r.ok && r.value.includes('n/a'))).toBe(true);
  });

  it('takes the password from a 0600 --secrets file just as well', async () => {
    const run = await runCli(['verify', '-i', inventory, '--json', '--secrets', lab.secretsPath]);
    expect(run.code).toBe(3);
    expectNoPasswords(run);
    const row = one(rowsOf(run), 'pg1', 'probe.verify-full');
    expect(row.ok).toBe(true);
    expect(row.value).toMatch(/connected as app/);
  });

  it("another role's certificate: md5 hba lets app in with replicator's cert, so that probe fails", async () => {
    expect(
      (await runCli(['certs', 'issue', '-i', inventory, '--client', 'app', '--client', 'replicator'])).code,
    ).toBe(0);
    const run = await runCli(['verify', '-i', inventory, '--json'], {
      PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '',
    });
    expect(run.code).toBe(3);
    expectNoPasswords(run);
    expect(find(rowsOf(run), 'pg1', 'probe.other-role-cert-refused')).toEqual([
      expect.objectContaining({
        ok: false,
        value: "app with replicator.crt: logged in as app presenting replicator's certificate",
      }),
    ]);
  });
});
