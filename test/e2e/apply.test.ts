// First-time hardening of the insecure streaming lab, end to end with the real CLI (issue #5):
// apply --yes per auth mode, then verify; idempotence; no restart; no write lost; a bad key rolls
// back byte for byte. Every test starts from a fresh insecure lab and the last one leaves one.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { checksums, jsonEvents, runCli } from './rig.js';
import {
  confFiles as labConfFiles,
  labInventory,
  primaryOf,
  sql,
  streamingStandbys,
  labApplyArgs,
} from './lab-sql.js';

let lab: Lab;
let work: string;

const primary = (): LabNode => primaryOf(lab);
const standbys = (): LabNode[] => lab.nodes.filter((n) => n.role === 'standby');
const confFiles = (): string[] => labConfFiles(lab);

const inventory = (name: string, pkiDir: string): Promise<string> => labInventory(lab, work, name, pkiDir);

beforeEach(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-apply-'));
}, 120_000);

// The other e2e files expect the deliberately insecure lab.
afterAll(async () => {
  await up('streaming');
}, 120_000);

describe('pgharden apply on the insecure streaming lab', () => {
  it.each(['scram', 'cert', 'scram+cert'] as const)(
    'auth %s: apply --yes, verify exits 0, no restart, no write lost, second apply changes nothing',
    async (auth) => {
      const inv = await inventory(auth.replace('+', '-'), join(work, 'pki'));
      const started = Object.fromEntries(
        lab.nodes.map((n) => [n.name, sql(n, 'SELECT pg_postmaster_start_time()')]),
      );
      sql(primary(), 'CREATE TABLE IF NOT EXISTS pgharden_e2e (i int)');
      // Writes on the primary while apply runs: every one must reach every standby.
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          sql(primary(), 'INSERT INTO pgharden_e2e VALUES (1)');
          written++;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const args = labApplyArgs(lab, inv, join(work, 'state'), auth);
      const run = await runCli(args);
      writing = false;
      await writer;
      const events = jsonEvents(run.stdout);
      expect(run.stderr, run.stderr).toBe('');
      expect(events.at(-1)).toMatchObject({ type: 'summary', command: 'apply', exitCode: 0 });
      expect(run.code).toBe(0);
      // The run's report and client bundle, named in the summary (SPEC §10).
      const { report, clientBundle } = events.at(-1) as {
        report?: { json: string; md: string };
        clientBundle?: string;
      };
      expect(clientBundle).toMatch(/\/client-bundle$/);
      const reportText =
        (await readFile(report?.json ?? '', 'utf8')) + (await readFile(report?.md ?? '', 'utf8'));
      expect(JSON.parse(await readFile(report?.json ?? '', 'utf8'))).toMatchObject({
        outcome: 'applied',
        auth,
      });
      const text = run.stdout + run.stderr + reportText;
      for (const p of Object.values(lab.passwords)) expect(text).not.toContain(p);
      expect(text).not.toMatch(/PRIVATE KEY/);

      const env = { PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '' };
      const verify = await runCli(['verify', '-i', inv, '--json'], env);
      const failed = jsonEvents(verify.stdout).filter((e) => e.type === 'verify:row' && e['ok'] !== true);
      expect(failed).toEqual([]);
      expect(verify.code).toBe(0);

      expect(
        sql(
          primary(),
          "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl AND r.state = 'streaming'",
        ),
      ).toBe('2');
      for (const s of standbys()) {
        expect(sql(s, 'SELECT conninfo FROM pg_stat_wal_receiver')).toMatch(/sslmode=verify-full/);
      }
      expect(sql(primary(), "SELECT count(*) FROM pg_authid WHERE rolpassword LIKE 'md5%'")).toBe('0');
      for (const n of lab.nodes) expect(sql(n, 'SELECT pg_postmaster_start_time()')).toBe(started[n.name]);
      const total = sql(primary(), 'SELECT count(*) FROM pgharden_e2e');
      expect(Number(total)).toBeGreaterThanOrEqual(written);
      for (const s of standbys()) {
        let seen = '';
        for (let i = 0; i < 50 && seen !== total; i++) {
          seen = sql(s, 'SELECT count(*) FROM pgharden_e2e');
          if (seen !== total) await new Promise((r) => setTimeout(r, 100));
        }
        expect(seen).toBe(total);
      }
      // non-TLS refused from the operator machine, whatever the password
      expect(() =>
        execFileSync(
          'psql',
          ['-XAtw', '-c', 'SELECT 1', `host=${primary().host} dbname=postgres user=app sslmode=disable`],
          {
            env: { ...process.env, PGPASSWORD: lab.passwords['app'] ?? '' },
            stdio: 'pipe',
          },
        ),
      ).toThrow(/no encryption/);

      const before = await checksums(confFiles());
      const again = await runCli(args);
      expect(again.code).toBe(0);
      expect(jsonEvents(again.stdout).at(-1)).toMatchObject({ exitCode: 0, changed: false });
      expect(await checksums(confFiles())).toEqual(before);
    },
  );

  it('a server key that does not match its certificate is bad input: exit 2 before any change', async () => {
    const pki = join(work, 'pki');
    const inv = await inventory('bad-key', pki);
    expect((await runCli(['certs', 'issue', '-i', inv, '--out', pki])).code).toBe(0);
    const last = standbys().at(-1) as LabNode;
    await copyFile(join(pki, `${primary().name}.key`), join(pki, `${last.name}.key`)); // wrong key for that node
    const before = await checksums(confFiles());
    const run = await runCli([
      'apply',
      '-i',
      inv,
      '--auth',
      'scram',
      '--certs',
      `import:${pki}`,
      '--secrets',
      lab.secretsPath,
      '--yes',
      '--state-dir',
      join(work, 'state'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`${last.name}\\.key does not match .*${last.name}\\.crt`));
    expect(await checksums(confFiles())).toEqual(before);
  });

  it('a step failing on the last standby (its TLS directory is not writable) → exit 4, every node back byte for byte', async () => {
    const last = standbys().at(-1) as LabNode;
    // A root-owned directory where pgharden puts that node's TLS files: install-ca cannot write there,
    // after the primary and the first standby were already changed.
    execFileSync('install', ['-d', '-o', 'root', '-m', '0755', join(last.home, 'pgharden-tls')]);
    const inv = await inventory('unwritable', join(work, 'pki'));
    const before = await checksums(confFiles());
    const started = Object.fromEntries(
      lab.nodes.map((n) => [n.name, sql(n, 'SELECT pg_postmaster_start_time()')]),
    );
    const run = await runCli(labApplyArgs(lab, inv, join(work, 'state')));
    const events = jsonEvents(run.stdout);
    expect(run.code).toBe(4);
    expect(
      events.some(
        (e) => e.type === 'step:done' && e['node'] === primary().name && e['skipped'] === undefined,
      ),
    ).toBe(true);
    expect(events.some((e) => e.type === 'step:failed' && e['node'] === last.name)).toBe(true);
    expect(events.some((e) => e.type === 'rollback:done')).toBe(true);
    expect(await checksums(confFiles())).toEqual(before);
    for (const n of lab.nodes) {
      expect(sql(n, 'SHOW ssl')).toBe('off');
      expect(sql(n, 'SELECT pg_postmaster_start_time()')).toBe(started[n.name]);
    }
    expect(await streamingStandbys(lab)).toBe('2');
  });

  it('without --yes a headless apply shows the plan, changes nothing and exits 2; the plan reports a shadowing trust rule', async () => {
    const hba = join(primary().dataDir, 'pg_hba.conf');
    const text = await readFile(hba, 'utf8');
    await writeFile(
      hba,
      text.replace(/^(host\s+all\s+all\s+127\.0\.0\.0\/8\s+md5)$/m, 'host all all 0.0.0.0/0 trust\n$1'),
    );
    sql(primary(), 'SELECT pg_reload_conf()');
    const inv = await inventory('no-yes', join(work, 'pki'));
    const before = await checksums(confFiles());
    const run = await runCli(['apply', '-i', inv, '--auth', 'scram', '--secrets', lab.secretsPath]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--yes/);
    expect(run.stdout).toMatch(/hba\.hostssl/);
    expect(run.stdout).toMatch(/0\.0\.0\.0\/0 trust.*matches first|shadow/i);
    expect(await checksums(confFiles())).toEqual(before);
  });
});
