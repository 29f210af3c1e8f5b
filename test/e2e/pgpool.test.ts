// Pgpool-II in front of the streaming cluster, end to end with the real CLI (issue #13, SPEC §7.4):
// insecure pgpool lab → apply --yes → verify exit 0; verify-full + SCRAM through pgpool works,
// sslmode=disable is refused, rows written through pgpool reach the standbys, pgpool restarted once
// (by its pid, with its argv), the backends never, and no health-check failure or failover in pgpool's
// log from the start of apply on. A failure injected in the pgpool phase rolls pgpool and the
// backends back as they were. Bad input (no key file, unparseable pgpool.conf) exits 2 and changes
// nothing. The inventory leaves out hbaFile/keyFile: they must come from the running pgpool's argv.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { up } from '../lab/lab.js';
import type { Lab, LabPooler } from '../lab/types.js';
import { checksums, jsonEvents, runCli, runPausedAt } from './rig.js';
import { fileUnwritable } from './faults.js';
import { confFiles, labApplyArgs, primaryOf, sql, streamingStandbys } from './lab-sql.js';

let lab: Lab;
let work: string;
let inventory: string;

const pool = (): LabPooler => lab.poolers[0] as LabPooler;
const poolDir = (): string => pool().home;
const PSQL = '/usr/lib/postgresql/15/bin/psql';

/** psql through pgpool's TCP port as `app` (password in the environment). */
function throughPool(conninfo: string, query: string, password = lab.passwords['app'] ?? ''): string {
  return execFileSync(
    PSQL,
    ['-XAtq', '-d', `host=${pool().host} port=${pool().port} user=app dbname=app ${conninfo}`, '-c', query],
    {
      encoding: 'utf8',
      stdio: 'pipe',
      env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '5', PATH: process.env['PATH'] },
    },
  ).trim();
}

/** The status column of `SHOW POOL_NODES`, one per backend (plain connection to pgpool as app). */
function poolNodeStatuses(): (string | undefined)[] {
  const rows = execFileSync(
    PSQL,
    [
      '-XAt',
      '--csv',
      '-d',
      `host=${pool().host} port=${pool().port} user=app dbname=postgres sslmode=disable`,
      '-c',
      'SHOW POOL_NODES',
    ],
    { encoding: 'utf8', env: { PGPASSWORD: lab.passwords['app'] ?? '', PATH: process.env['PATH'] } },
  );
  return rows
    .trim()
    .split('\n')
    .map((l) => l.split(',')[3]);
}

const poolPid = async (): Promise<string> =>
  (await readFile(pool().pidFile, 'utf8')).replace(/\0/g, '').trim();
const poolFiles = (): string[] =>
  ['pgpool.conf', 'pool_hba.conf', 'pool_passwd', '.pgpoolkey', 'pcp.conf'].map((f) => join(poolDir(), f));
const startTimes = (): Record<string, string> =>
  Object.fromEntries(lab.nodes.map((n) => [n.name, sql(n, 'SELECT pg_postmaster_start_time()')]));

/** The lab inventory without hbaFile/keyFile (detected from argv), with its own PKI dir. */
async function writeInventory(): Promise<string> {
  const inv = parse(await readFile(lab.inventoryPath, 'utf8')) as {
    poolers: Record<string, unknown>[];
    pki?: unknown;
  };
  for (const p of inv.poolers) {
    delete p['hbaFile'];
    delete p['keyFile'];
  }
  inv.pki = { dir: join(work, 'pki') };
  const path = join(work, 'inventory.yaml');
  await writeFile(path, stringify(inv));
  return path;
}

beforeEach(async () => {
  lab = await up('pgpool');
  work = await mkdtemp(join(tmpdir(), 'pgharden-pgpool-'));
  inventory = await writeInventory();
}, 120_000);

// The other e2e files expect the deliberately insecure labs; leave this one fresh too.
afterAll(async () => {
  await up('pgpool');
}, 120_000);

describe('pgharden apply on the insecure pgpool lab', () => {
  it('hardens backends and pgpool in the order that keeps its health check green; verify exits 0', async () => {
    const started = startTimes();
    const pidBefore = await poolPid();
    const logBefore = (await readFile(pool().logFile, 'utf8')).length;
    expect(throughPool('sslmode=disable', 'SELECT 1')).toBe('1'); // insecure before

    const t0 = performance.now();
    const run = await runCli(labApplyArgs(lab, inventory, join(work, 'state')));
    const applyMs = performance.now() - t0;
    const events = jsonEvents(run.stdout);
    expect(run.stderr, run.stderr).toBe('');
    expect(events.at(-1), run.stdout.slice(-2000)).toMatchObject({ type: 'summary', exitCode: 0 });
    for (const p of Object.values(lab.passwords)) expect(run.stdout).not.toContain(p);
    // The order of issue 13: backends TLS, pgpool, backends auth, watch.
    const done = events
      .filter((e) => e.type === 'step:done')
      .map((e) => `${String(e['node'])}:${String(e['step'])}`);
    const at = (s: string): number => done.indexOf(s);
    expect(at('pool1:pgpool.configure')).toBeGreaterThan(at('pg1:tls.enable-ssl'));
    expect(at('pool1:pgpool.configure')).toBeLessThan(at('pg1:auth.scram-migration'));
    expect(at('pg1:pgpool.health-watch')).toBeGreaterThan(at('pg1:hba.hostssl'));

    const ca = join(work, 'pki', 'root.crt');
    // verify-full + SCRAM through pgpool; the backend session pgpool opened is TLS too.
    expect(
      throughPool(
        `sslmode=verify-full sslrootcert=${ca}`,
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      ),
    ).toBe('t');
    expect(() => throughPool('sslmode=disable', 'SELECT 1')).toThrow();
    expect(() =>
      throughPool(`sslmode=verify-full sslrootcert=${ca}`, 'SELECT 1', 'wrong-password'),
    ).toThrow();
    // Rows written through pgpool arrive on the standbys.
    throughPool(
      `sslmode=verify-full sslrootcert=${ca}`,
      'CREATE TABLE pool_e2e (i int); INSERT INTO pool_e2e SELECT generate_series(1, 50)',
    );
    for (const s of lab.nodes.filter((n) => n.role === 'standby')) {
      let n = '';
      for (let i = 0; i < 50 && n !== '50'; i++) {
        n = execFileSync(
          'runuser',
          [
            '-u',
            s.osUser,
            '--',
            `${s.binDir}/psql`,
            '-XAtq',
            '-h',
            s.socketDir,
            '-U',
            'postgres',
            '-d',
            'app',
            '-c',
            'SELECT count(*) FROM pool_e2e',
          ],
          { encoding: 'utf8' },
        ).trim();
        if (n !== '50') await new Promise((r) => setTimeout(r, 100));
      }
      expect(n, s.name).toBe('50');
    }
    // pgpool restarted exactly once (new pid, one more "successfully started"), the backends never.
    expect(await poolPid()).not.toBe(pidBefore);
    const log = (await readFile(pool().logFile, 'utf8')).slice(logBefore);
    expect(log.match(/successfully started/g)?.length, log.slice(-3000)).toBe(1);
    expect(log).not.toMatch(/health check failed|degenerate backend request|failover/i);
    expect(startTimes()).toEqual(started);
    // The restart kept the argv: pool_hba from -a (a `-f`-only restart would trust 127.0.0.1).
    const argv = (await readFile(`/proc/${await poolPid()}/cmdline`, 'utf8')).split('\0');
    expect(argv).toEqual(
      expect.arrayContaining(['-a', join(poolDir(), 'pool_hba.conf'), '-k', join(poolDir(), '.pgpoolkey')]),
    );
    expect(
      (await readFile(join(poolDir(), 'pool_passwd'), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => /^[^:]+:AES/.test(l)),
    ).toBe(true);
    expect(await readFile(join(poolDir(), 'pgpool.conf'), 'utf8')).toMatch(/^health_check_password = ''/m);

    const verify = await runCli(['verify', '-i', inventory, '--secrets', lab.secretsPath, '--json']);
    const rows = jsonEvents(verify.stdout).filter((e) => e.type === 'verify:row');
    expect(
      rows.filter((r) => r['ok'] !== true),
      verify.stdout.slice(-3000),
    ).toEqual([]);
    expect(rows.filter((r) => r['node'] === 'pool1').map((r) => r['check'])).toEqual(
      expect.arrayContaining([
        'probe.verify-full',
        'probe.no-tls-refused',
        'probe.wrong-password-refused',
        'pooler.nodes-up',
        'pooler.health-check',
        'pooler.backend-tls',
      ]),
    );
    expect(verify.code).toBe(0);
    process.stderr.write(`pgpool e2e: apply ${Math.round(applyMs)} ms\n`);

    // `pgharden rollback RUN_ID` (journal only, fresh sessions): backends first, then pgpool restarted
    // with its argv into its old config; pool_passwd keeps its AES entries (the backends keep their
    // SCRAM verifiers, which md5 entries cannot serve); no health-check failure on the way.
    const [runId] = await readdir(join(work, 'state', 'runs'));
    const logMid = (await readFile(pool().logFile, 'utf8')).length;
    const pidMid = await poolPid();
    const rb = await runCli(['rollback', runId ?? '', '--state-dir', join(work, 'state'), '--json']);
    expect(rb.code, rb.stdout.slice(-2000)).toBe(0);
    expect(await poolPid()).not.toBe(pidMid);
    const rbLog = (await readFile(pool().logFile, 'utf8')).slice(logMid);
    expect(rbLog).not.toMatch(/health check failed|degenerate backend request|failover/i);
    expect(throughPool('sslmode=disable', 'SELECT 1')).toBe('1');
    expect(await readFile(join(poolDir(), 'pgpool.conf'), 'utf8')).toMatch(/^ssl = off/m);
    expect(startTimes()).toEqual(started);
  }, 120_000);

  it('a failure in the pgpool phase (key swapped before the restart: pgpool comes up without TLS) rolls pgpool and the backends back as they were', async () => {
    const files = [...confFiles(lab), ...poolFiles()];
    const before = await checksums(files);
    const started = startTimes();
    const state = join(work, 'state');
    const r = await runPausedAt(
      labApplyArgs(lab, inventory, state),
      'pool1:pgpool.configure',
      async () => {
        // The pooler's key, installed by pgpool.install-tls, no longer matches its certificate: the
        // restart with ssl = on cannot serve TLS, and the step fails after it restarted pgpool.
        const key = join(poolDir(), 'pgharden-tls', 'server.key');
        execFileSync('openssl', [
          'genpkey',
          '-algorithm',
          'EC',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-out',
          `${key}.new`,
        ]);
        execFileSync('chown', [`${pool().osUser}:`, `${key}.new`]);
        execFileSync('chmod', ['0600', `${key}.new`]);
        await rename(`${key}.new`, key);
      },
      { timeoutMs: 110_000 },
    );
    const events = jsonEvents(r.stdout);
    expect(
      events.some((e) => e.type === 'step:failed' && e['node'] === 'pool1'),
      r.stdout.slice(-3000),
    ).toBe(true);
    expect(r.code, r.stdout.slice(-3000)).toBe(4);
    // pgpool 4.3 does not refuse a key that does not match: it comes up serving no TLS at all.
    const failed = events.find((e) => e.type === 'step:failed' && e['node'] === 'pool1');
    expect(JSON.stringify(failed)).toContain('serves no TLS');
    expect(await checksums(files)).toEqual(before);
    expect(await readdir(poolDir())).not.toContain('pgharden-tls');
    expect(startTimes()).toEqual(started);
    expect(await streamingStandbys(lab)).toBe('2');
    // pgpool as it was: plain connections work again, every backend up.
    expect(throughPool('sslmode=disable', 'SELECT 1')).toBe('1');
    expect(poolNodeStatuses()).toEqual(['up', 'up', 'up']);
    expect(sql(primaryOf(lab), "SELECT count(*) FROM pg_authid WHERE rolpassword LIKE 'md5%'")).not.toBe('0');
  }, 120_000);

  it('a failure in the backends auth phase (after pgpool was hardened) rolls back backends first, then pgpool: no health-check failure', async () => {
    const pg3 = lab.nodes.find((n) => n.name === 'pg3');
    if (pg3 === undefined) throw new Error('no pg3');
    const files = [...confFiles(lab), ...poolFiles()];
    const before = await checksums(files);
    const logBefore = (await readFile(pool().logFile, 'utf8')).length;
    const fault = fileUnwritable(pg3, join(pg3.dataDir, 'pg_hba.conf'), false);
    await fault.prepare();
    try {
      const r = await runPausedAt(
        labApplyArgs(lab, inventory, join(work, 'state')),
        'pg3:hba.hostssl',
        () => fault.inject(),
        { timeoutMs: 110_000 },
      );
      await fault.clear();
      const events = jsonEvents(r.stdout);
      expect(r.code, r.stdout.slice(-3000)).toBe(4);
      const rollbacks = events.filter((e) => e.type === 'rollback:started').map((e) => String(e['node']));
      // pool1 (phase 3) only after every backend of phase 4.
      expect(rollbacks.at(-1), rollbacks.join(',')).toBe('pool1');
      expect(await checksums(files)).toEqual(before);
      const log = (await readFile(pool().logFile, 'utf8')).slice(logBefore);
      expect(log).not.toMatch(/health check failed|degenerate backend request|failover/i);
      expect(poolNodeStatuses()).toEqual(['up', 'up', 'up']);
      expect(await streamingStandbys(lab)).toBe('2');
    } finally {
      await fault.release();
    }
  }, 120_000);

  it('bad input exits 2 and changes nothing: no pool key file, unparseable pgpool.conf', async () => {
    const files = [...confFiles(lab), ...poolFiles().filter((f) => !f.endsWith('.pgpoolkey'))];
    const before = await checksums(files);
    const key = join(poolDir(), '.pgpoolkey');
    await rename(key, `${key}.away`);
    try {
      const r = await runCli(labApplyArgs(lab, inventory, join(work, 'state')));
      expect(r.code, r.stdout.slice(-2000)).toBe(2);
      expect(jsonEvents(r.stdout).at(-1)).toMatchObject({ error: { code: 'pgpool.key-missing' } });
    } finally {
      await rename(`${key}.away`, key);
    }
    const conf = join(poolDir(), 'pgpool.conf');
    await copyFile(conf, `${conf}.orig`);
    await writeFile(conf, `${await readFile(conf, 'utf8')}ssl = on off\n`);
    try {
      const r = await runCli(labApplyArgs(lab, inventory, join(work, 'state')));
      expect(r.code, r.stdout.slice(-2000)).toBe(2);
      expect(jsonEvents(r.stdout).at(-1)).toMatchObject({ error: { code: 'pgpool.conf-unparseable' } });
    } finally {
      await rename(`${conf}.orig`, conf);
    }
    expect(await checksums(files)).toEqual(before);
  }, 120_000);
});
