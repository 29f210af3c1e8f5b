// `pgharden rotate` (issue #8, SPEC §9) on the lab after a first-time hardening: every node's leaf
// re-issued under the same CA and switched with one reload, while a client connecting with
// sslmode=verify-full every 100 ms sees no failure; no restart; replication stays on TLS; a failed
// rotation is rolled back on every node and in the local PKI. The last test leaves a fresh lab.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { checksums, jsonEvents, runCli } from './rig.js';
import { confFiles, labApplyArgs, labInventory, primaryOf, sql, streamingStandbys } from './lab-sql.js';
import {
  confirmApply,
  ending,
  expectCleanScreens,
  expectOneFrame,
  loadInventory,
  WizardRig,
} from './wizard-rig.js';

let lab: Lab;
let work: string;
let inv: string;
let state: string;
let pki: string;

/** sha256 fingerprint of the certificate a node serves, seen from the operator machine. */
function served(node: LabNode): string {
  const out = execFileSync(
    'sh',
    [
      '-c',
      `echo | openssl s_client -starttls postgres -connect ${node.host}:${node.port} 2>/dev/null | openssl x509 -noout -fingerprint -sha256`,
    ],
    { encoding: 'utf8' },
  );
  const fp = /Fingerprint=([0-9A-F:]+)/.exec(out)?.[1];
  if (fp === undefined) throw new Error(`${node.name}: no certificate served`);
  return fp;
}

const fingerprints = (): Record<string, string> =>
  Object.fromEntries(lab.nodes.map((n) => [n.name, served(n)]));

const startTimes = (): Record<string, string> =>
  Object.fromEntries(lab.nodes.map((n) => [n.name, sql(n, 'SELECT pg_postmaster_start_time()')]));

const rotateArgs = (...extra: string[]): string[] => [
  'rotate',
  '-i',
  inv,
  '--yes',
  '--state-dir',
  state,
  '--json',
  ...extra,
];

/** The local pairs: what the nodes should be serving. */
async function localPki(): Promise<Record<string, string>> {
  const files = (await readdir(pki)).filter((f) => /^pg\d\.(crt|key)$/.test(f)).map((f) => join(pki, f));
  return checksums(files);
}

/**
 * Connects to every node with sslmode=verify-full semantics (CA of the cluster, name checked) every
 * 100 ms until stopped; returns attempts and failures.
 */
function clientLoop(ca: string): { stop: () => Promise<{ attempts: number; failures: string[] }> } {
  let running = true;
  let attempts = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      await Promise.all(
        lab.nodes.map(async (n) => {
          const client = new pg.Client({
            host: n.host,
            port: n.port,
            user: 'app',
            password: lab.passwords['app'] ?? '',
            database: 'postgres',
            ssl: { ca, rejectUnauthorized: true },
            connectionTimeoutMillis: 5000,
          });
          attempts++;
          try {
            await client.connect();
            await client.query('SELECT 1');
          } catch (err) {
            failures.push(`${n.name}: ${(err as Error).message}`);
          } finally {
            await client.end().catch(() => undefined);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { attempts, failures };
    },
  };
}

beforeAll(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-rotate-'));
  pki = join(work, 'pki');
  state = join(work, 'state');
  inv = await labInventory(lab, work, 'rotate', pki);
  const hardened = await runCli(labApplyArgs(lab, inv, state, 'scram'));
  expect(hardened.code, hardened.stdout + hardened.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await up('streaming');
}, 120_000);

describe('pgharden rotate (leaf re-issue, same CA)', () => {
  it('serves a new certificate on every node with one reload: no restart, no failed connection, replication on TLS', async () => {
    const before = fingerprints();
    const started = startTimes();
    const pkiBefore = await localPki();
    const loop = clientLoop(await readFile(join(pki, 'root.crt'), 'utf8'));
    await new Promise((r) => setTimeout(r, 300));
    const run = await runCli(rotateArgs());
    await new Promise((r) => setTimeout(r, 300));
    const { attempts, failures } = await loop.stop();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(jsonEvents(run.stdout).at(-1)).toMatchObject({ type: 'summary', command: 'rotate', exitCode: 0 });
    expect(failures).toEqual([]);
    expect(attempts).toBeGreaterThan(lab.nodes.length * 3);
    const after = fingerprints();
    for (const n of lab.nodes) expect(after[n.name], n.name).not.toBe(before[n.name]);
    expect(startTimes()).toEqual(started);
    // The local PKI now holds the served pairs; the replaced ones are archived under the run.
    const pkiAfter = await localPki();
    for (const f of Object.keys(pkiBefore)) expect(pkiAfter[f], f).not.toBe(pkiBefore[f]);
    const runId = (jsonEvents(run.stdout).at(-1) as { runId?: string }).runId ?? '';
    expect(await readdir(join(pki, 'archive', runId))).toEqual(
      expect.arrayContaining(['pg1.crt', 'pg1.key', 'pg2.crt', 'pg3.key']),
    );
    // Replication keeps going over TLS, and a forced reconnect verifies the new server certificate.
    sql(primaryOf(lab), 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
    await new Promise((r) => setTimeout(r, 500));
    expect(await streamingStandbys(lab)).toBe('2');
    expect(
      sql(primaryOf(lab), 'SELECT bool_and(s.ssl) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)'),
    ).toBe('t');
    const verify = await runCli(['verify', '-i', inv, '--secrets', lab.secretsPath, '--state-dir', state]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // Hardening again finds everything in place (the new pair, in the slot now in use).
    const again = await runCli(labApplyArgs(lab, inv, state, 'scram'));
    expect(again.code).toBe(0);
    expect(jsonEvents(again.stdout).at(-1)).toMatchObject({ changed: false });
  }, 180_000);

  it('--nodes rotates only those nodes, back into the first slot', async () => {
    const before = fingerprints();
    const run = await runCli(rotateArgs('--nodes', 'pg2'));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const after = fingerprints();
    expect(after['pg2']).not.toBe(before['pg2']);
    expect(after['pg1']).toBe(before['pg1']);
    expect(after['pg3']).toBe(before['pg3']);
    const pg2 = lab.nodes.find((n) => n.name === 'pg2') as LabNode;
    expect(sql(pg2, 'SHOW ssl_cert_file')).toMatch(/\/server\.crt$/);
  }, 120_000);

  it('imported replacements: one without a SAN is refused by lint before anything changes; a good one is served', async () => {
    const dir = join(work, 'company');
    execFileSync('mkdir', ['-p', dir]);
    const pg1 = lab.nodes[0] as LabNode;
    // Signed by the cluster CA here; what matters is what lint says about it.
    const sign = (ext: string): void => {
      execFileSync('sh', [
        '-c',
        `cd ${dir} && openssl ecparam -name prime256v1 -genkey -noout -out pg1.key 2>/dev/null && chmod 600 pg1.key &&
         openssl req -new -key pg1.key -subj /CN=pg1 -out pg1.csr &&
         printf '%b' '${ext}' > pg1.ext &&
         openssl x509 -req -in pg1.csr -CA ${join(pki, 'root.crt')} -CAkey ${join(pki, 'root.key')} -CAcreateserial -days 90 -sha256 -extfile pg1.ext -out pg1.crt 2>/dev/null`,
      ]);
    };
    const base =
      'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=serverAuth\\n';
    sign(base);
    const before = served(pg1);
    const pkiBefore = await localPki();
    const refused = await runCli(rotateArgs('--nodes', 'pg1', '--certs', `import:${dir}`));
    expect(refused.code).toBe(2);
    const summary = jsonEvents(refused.stdout).at(-1) as { error?: { code?: string; message?: string } };
    expect(summary.error?.code).toBe('rotate.import-lint');
    expect(summary.error?.message).toMatch(/pg1: .*san/i);
    expect(served(pg1)).toBe(before);
    expect(await localPki()).toEqual(pkiBefore);

    sign(`${base}subjectAltName=IP:${pg1.host}\\n`);
    const want = /Fingerprint=([0-9A-F:]+)/.exec(
      execFileSync('openssl', ['x509', '-in', join(dir, 'pg1.crt'), '-noout', '-fingerprint', '-sha256'], {
        encoding: 'utf8',
      }),
    )?.[1];
    const run = await runCli(rotateArgs('--nodes', 'pg1', '--certs', `import:${dir}`));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(served(pg1)).toBe(want);
    expect(await readFile(join(pki, 'pg1.crt'), 'utf8')).toBe(await readFile(join(dir, 'pg1.crt'), 'utf8'));
  }, 120_000);

  it('a node that refuses the switch → exit 4: every node serves its old certificate, files and local PKI as before', async () => {
    const pg3 = lab.nodes.find((n) => n.name === 'pg3') as LabNode;
    // ALTER SYSTEM writes postgresql.auto.conf.tmp and renames it: an immutable file by that name
    // makes pg3's switch fail after its new pair is installed (faults.ts uses the same trick).
    const blocker = join(pg3.dataDir, 'postgresql.auto.conf.tmp');
    execFileSync('sh', ['-c', `: > ${blocker} && chattr +i ${blocker}`]);
    try {
      const before = fingerprints();
      const files = await checksums(confFiles(lab));
      const pkiBefore = await localPki();
      const run = await runCli(rotateArgs());
      expect(run.code, run.stdout + run.stderr).toBe(4);
      expect(fingerprints()).toEqual(before);
      expect(await checksums(confFiles(lab))).toEqual(files);
      expect(await localPki()).toEqual(pkiBefore);
      expect(await streamingStandbys(lab)).toBe('2');
    } finally {
      execFileSync('sh', ['-c', `chattr -i ${blocker}; rm -f ${blocker}`]);
    }
  }, 120_000);

  it('a certificate with 5 days left makes audit exit 3, naming it', async () => {
    // The operator re-issues pg1's leaf for 5 days (same CA) and apply installs it in place.
    execFileSync('rm', ['-f', join(pki, 'pg1.crt'), join(pki, 'pg1.key')]);
    const issued = await runCli(['certs', 'issue', '-i', inv, '--days', '5', '--state-dir', state]);
    expect(issued.code, issued.stdout + issued.stderr).toBe(0);
    // import: apply's default (generate) would renew a leaf this close to expiry on its own.
    const applied = await runCli([...labApplyArgs(lab, inv, state, 'scram'), '--certs', `import:${pki}`]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const audit = await runCli(['audit', '-i', inv, '--json', '--state-dir', state]);
    expect(audit.code).toBe(3);
    const expiry = jsonEvents(audit.stdout).filter(
      (e) => JSON.stringify(e).includes('tls.cert-expiry') && JSON.stringify(e).includes('CN=pg1'),
    );
    expect(JSON.stringify(expiry)).toMatch(/server certificate CN=pg1 in \S+ expires \S+ \([45] days left\)/);
  }, 120_000);

  it('CA rotation: phase 1 trusts both CAs, phase 2 serves the new chain, finish drops the old CA; a bundle client never fails', async () => {
    const started = startTimes();
    const oldCa = await readFile(join(pki, 'root.crt'), 'utf8');
    const nodeCa = (n: LabNode): number =>
      (
        execFileSync('cat', [join(n.dataDir, '..', 'pgharden-tls', 'root.crt')], { encoding: 'utf8' }).match(
          /BEGIN CERTIFICATE/g,
        ) ?? []
      ).length;

    const phase1 = await runCli(rotateArgs('--new-ca'));
    expect(phase1.code, phase1.stdout + phase1.stderr).toBe(0);
    for (const n of lab.nodes) expect(nodeCa(n), n.name).toBe(2);
    const bundle = await readFile(join(pki, 'root.crt'), 'utf8');
    expect(bundle.startsWith(oldCa.trim())).toBe(true);
    const certs = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    expect(certs).toHaveLength(2);
    const newCa = `${certs[1] ?? ''}\n`;
    await writeFile(join(work, 'new-ca.crt'), newCa);
    // A client that took the bundle after phase 1: it must never fail from here on.
    const loop = clientLoop(bundle);

    const phase2 = await runCli(rotateArgs('--new-ca'));
    expect(phase2.code, phase2.stdout + phase2.stderr).toBe(0);
    // The served chain is the new CA's: it verifies against the new CA alone.
    for (const n of lab.nodes) {
      const out = execFileSync(
        'sh',
        [
          '-c',
          `echo | openssl s_client -starttls postgres -connect ${n.host}:${n.port} -CAfile ${join(work, 'new-ca.crt')} -verify_return_error 2>&1; echo "exit=$?"`,
        ],
        { encoding: 'utf8' },
      );
      expect(out, n.name).toMatch(/exit=0\s*$/);
    }
    const again = await runCli(rotateArgs('--new-ca'));
    expect(jsonEvents(again.stdout).at(-1)).toMatchObject({ error: { code: 'rotate.ca-phase2-done' } });

    const finish = await runCli(rotateArgs('--finish'));
    expect(finish.code, finish.stdout + finish.stderr).toBe(0);
    const { attempts, failures } = await loop.stop();
    expect(failures).toEqual([]);
    expect(attempts).toBeGreaterThan(lab.nodes.length * 3);
    for (const n of lab.nodes) expect(nodeCa(n), n.name).toBe(1);
    expect((await readFile(join(pki, 'root.crt'), 'utf8')).trim()).toBe(newCa.trim());
    expect(startTimes()).toEqual(started);
    // Standbys reconnect trusting only the new CA, and stream over TLS.
    sql(primaryOf(lab), 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
    await new Promise((r) => setTimeout(r, 500));
    expect(await streamingStandbys(lab)).toBe('2');
    const verify = await runCli(['verify', '-i', inv, '--secrets', lab.secretsPath, '--state-dir', state]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 240_000);

  it('the wizard job: certificates in use with days left, a leaf re-issue planned, Esc puts the PKI back, then applied and verified', async () => {
    const rig = await WizardRig.create(lab);
    try {
      const before = fingerprints();
      const started = startTimes();
      const pkiBefore = await localPki();
      const t = rig.start();
      await loadInventory(t, inv, { label: 'Certificate re-issue / rotation', downs: 2 });
      await t.waitFor(/Preflight of lab-streaming: done/, { ms: 60_000 });
      t.keys('Enter');
      const view = await t.waitFor('❯ Re-issue every server certificate', { ms: 60_000 });
      expectOneFrame(view);
      expect(view).toContain('3/7 Rotation');
      for (const n of lab.nodes) expect(view).toMatch(new RegExp(`\\d+ d left ${n.name} server`));
      t.keys('Enter');
      await t.waitFor('a: apply…', { ms: 60_000 });
      // Not applied: back to the choices, and the PKI directory is what the nodes serve again.
      t.keys('Escape');
      // Back at the choices once the PKI directory is what the nodes serve again (busy until then).
      await t.waitFor((s) => s.includes('❯ Re-issue every server') && !s.includes('Putting the PKI'));
      expect(await localPki()).toEqual(pkiBefore);
      t.keys('Enter');
      const plan = await t.waitFor('a: apply…', { ms: 60_000 });
      expect(plan).toContain('tls.enable-ssl');
      await confirmApply(t, lab.nodes.length);
      const done = await t.waitFor('Enter: exit (', { ms: 120_000 });
      expect(done).toContain('7/7 Done');
      expect(done).toMatch(/verify +\d+ passed, 0 failed/);
      t.keys('Enter');
      const end = await ending(t);
      expect(end.code).toBe(0);
      expectCleanScreens(t, lab);
      const after = fingerprints();
      for (const n of lab.nodes) expect(after[n.name], n.name).not.toBe(before[n.name]);
      expect(startTimes()).toEqual(started);
    } finally {
      rig.killAll();
    }
  }, 240_000);

  it('--finish without a CA rotation, and a cluster pgharden did not harden, are refused with exit 2, nothing changed', async () => {
    const finish = await runCli(rotateArgs('--finish'));
    expect(finish.code).toBe(2);
    expect(jsonEvents(finish.stdout).at(-1)).toMatchObject({ error: { code: 'rotate.nothing-to-finish' } });
    lab = await up('streaming');
    const pkiBefore = await localPki();
    const run = await runCli(rotateArgs());
    expect(run.code).toBe(2);
    expect(jsonEvents(run.stdout).at(-1)).toMatchObject({ error: { code: 'rotate.not-hardened' } });
    expect(await localPki()).toEqual(pkiBefore);
  }, 120_000);
});
