// Upgrading the lab's `--no-ssl --auth trust` pg_auto_failover formation (monitor, node1, node2) with
// the real CLI (issue #7): a formation whose primary is down is refused (exit 2, nothing changed);
// apply --yes (scram, cert) → verify exit 0, formation healthy, TLS on the monitor's and the replication
// connections, and a switchover afterwards with the new standby on TLS; a node that refuses in the
// middle (its pg_autoctl.cfg immutable) or late (the secondary's ~/.pgpass, after service restarts)
// → exit 4, every node back as it was, formation healthy, pg_autoctl running; a
// formation whose data nodes run with --skip-pg-hba is upgraded too, the plan saying who owns hba.
// Each test starts from a fresh formation; the file leaves the pg_auto_failover lab as it found it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { down, isUp, up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { checksums, jsonEvents, runCli } from './rig.js';
import { labApplyArgs, labInventory, sql } from './lab-sql.js';

let lab: Lab;
let work: string;
let wasUp = false;

const node = (name: string): LabNode => lab.nodes.find((n) => n.name === name) as LabNode;

/** pg_autoctl as the node's OS user, with the environment its keeper runs with (test/lab). */
function autoctl(n: LabNode, args: string[]): string {
  return execFileSync(
    'runuser',
    [
      '-u',
      n.osUser,
      '--',
      'env',
      `HOME=${n.home}`,
      `PGDATA=${n.dataDir}`,
      `PGHOST=${n.socketDir}`,
      `PG_REGRESS_SOCK_DIR=${n.socketDir}`,
      `XDG_RUNTIME_DIR=${n.socketDir}`,
      'PGUSER=postgres',
      `PATH=${n.binDir}:/usr/bin:/bin`,
      'pg_autoctl',
      ...args,
    ],
    { encoding: 'utf8', cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

interface State {
  nodename: string;
  current_group_state: string;
  assigned_group_state: string;
}

const stateOf = (): State[] => JSON.parse(autoctl(node('monitor'), ['show', 'state', '--json'])) as State[];

/** Every node at its goal state, one primary: polled (a standby restart takes a few seconds). */
async function settled(): Promise<State[]> {
  let last: State[] = [];
  for (let i = 0; i < 120; i++) {
    last = stateOf();
    const ok =
      last.every((s) => s.current_group_state === s.assigned_group_state) &&
      last.filter((s) => s.current_group_state === 'primary').length === 1 &&
      last.filter((s) => s.current_group_state === 'secondary').length === 1;
    if (ok) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`formation not settled: ${JSON.stringify(last)}`);
}

const primaryName = (s: State[]): string =>
  s.find((x) => x.current_group_state === 'primary')?.nodename ?? '?';

function cfgPath(n: LabNode): string {
  return autoctl(n, ['show', 'file', '--config']).trim();
}

/** Files a run edits on each node: they must come back byte for byte after a rollback. */
const touched = (): string[] =>
  lab.nodes.flatMap((n) => [
    cfgPath(n),
    ...['pg_hba.conf', 'pg_ident.conf', 'postgresql.auto.conf', 'postgresql-auto-failover.conf'].map((f) =>
      join(n.dataDir, f),
    ),
  ]);

beforeAll(async () => {
  wasUp = await isUp('pg_auto_failover');
}, 30_000);

beforeEach(async (ctx) => {
  work = await mkdtemp(join(tmpdir(), 'pgharden-pgaf-'));
  // The --skip-pg-hba test brings up its own formation.
  if (!ctx.task.name.includes('--skip-pg-hba')) lab = await up('pg_auto_failover');
}, 180_000);

afterAll(async () => {
  if (wasUp) await up('pg_auto_failover');
  else await down('pg_auto_failover');
}, 180_000);

describe('pg_auto_failover formation → TLS + SCRAM', () => {
  it('refuses a formation whose primary is down (exit 2, pgaf.formation-unhealthy, nothing changed)', async () => {
    const inv = await labInventory(lab, work, 'down', join(work, 'pki'));
    const n1 = node('node1');
    const before = await checksums(touched());
    // The keeper's supervisor stops its PostgreSQL on SIGTERM (LAB-NOTES).
    execFileSync('start-stop-daemon', [
      '--stop',
      '--pidfile',
      join(n1.home, 'pg_autoctl.pid'),
      '--retry',
      '10',
    ]);
    const run = await runCli([...labApplyArgs(lab, inv, join(work, 'state'))]);
    expect(run.code, run.stderr).toBe(2);
    const summary = jsonEvents(run.stdout).at(-1) as { error?: { code?: string; message?: string } };
    expect(summary.error?.code).toBe('pgaf.formation-unhealthy');
    expect(summary.error?.message).toMatch(/node1/);
    for (const n of lab.nodes) expect(existsSync(join(n.home, 'pgharden-tls')), n.name).toBe(false);
    const files = touched().filter((f) => !f.startsWith(n1.home));
    expect(await checksums(files)).toEqual(Object.fromEntries(files.map((f) => [f, before[f]])));
  }, 180_000);

  it.each(['scram', 'cert'] as const)(
    'apply --yes (%s) → verify 0, TLS on monitor and replication, switchover keeps TLS',
    async (auth) => {
      const inv = await labInventory(lab, work, auth, join(work, 'pki'));
      const run = await runCli(labApplyArgs(lab, inv, join(work, 'state'), auth));
      expect(run.code, `${run.stderr}\n${run.stdout.slice(-3000)}`).toBe(0);
      for (const pw of Object.values(lab.passwords)) expect(run.stdout + run.stderr).not.toContain(pw);
      await settled();

      const verify = await runCli(['verify', '-i', inv, '--secrets', lab.secretsPath, '--json']);
      expect(verify.code, verify.stdout).toBe(0);
      const checks = jsonEvents(verify.stdout)
        .filter((e) => e.type === 'verify:row')
        .map((e) => (e as unknown as { check: string }).check);
      expect(checks).toEqual(
        expect.arrayContaining(['pgaf.formation', 'pgaf.monitor-tls', 'pgaf.health-check-login']),
      );

      // The keepers' connections to the monitor, and replication, over TLS.
      const mon = node('monitor');
      // Keepers reconnect to the monitor a moment after their service restarts: poll (bounded).
      let keeperSsl = '';
      for (let i = 0; i < 50 && keeperSsl.split(',').length < 2; i++) {
        keeperSsl = sql(
          mon,
          "SELECT coalesce(string_agg(s.ssl::text, ','), '') FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'autoctl_node' AND a.client_addr IS NOT NULL",
        );
        if (keeperSsl.split(',').length < 2) await new Promise((r) => setTimeout(r, 200));
      }
      expect(keeperSsl.split(',').length).toBeGreaterThanOrEqual(2);
      expect(keeperSsl).not.toContain('false');
      expect(
        sql(node('node1'), 'SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)'),
      ).toBe('t');
      for (const n of lab.nodes) {
        expect(autoctl(n, ['config', 'get', 'postgresql.auth_method']).trim(), n.name).toBe(
          auth === 'cert' ? 'cert' : 'scram-sha-256',
        );
      }
      if (auth === 'cert') {
        // The keepers authenticate with their node's client certificate (pg_ident map pgautofailover).
        // Polled like keeperSsl: a keeper whose service restarted reconnects a moment later.
        const want = '/CN=pgaf-node1,/CN=pgaf-node2';
        let dns = '';
        for (let i = 0; i < 50 && dns !== want; i++) {
          dns = sql(
            mon,
            "SELECT coalesce(string_agg(DISTINCT s.client_dn, ',' ORDER BY s.client_dn), '') FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'autoctl_node' AND a.client_addr IS NOT NULL",
          );
          if (dns !== want) await new Promise((r) => setTimeout(r, 200));
        }
        expect(dns).toBe(want);
      }
      expect(autoctl(node('node2'), ['config', 'get', 'pg_autoctl.monitor'])).toMatch(/sslmode=verify-full/);

      // A manual switchover afterwards: node2 becomes primary, node1 replicates from it over TLS.
      autoctl(mon, ['perform', 'switchover']);
      const after = await settled();
      expect(primaryName(after)).toBe('node2');
      let ssl = '';
      for (let i = 0; i < 100 && ssl !== 't'; i++) {
        ssl = sql(node('node2'), 'SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)');
        if (ssl !== 't') await new Promise((r) => setTimeout(r, 200));
      }
      expect(ssl).toBe('t');
      expect(sql(node('node1'), 'SELECT conninfo FROM pg_stat_wal_receiver')).toMatch(/sslmode=verify-full/);
      if (auth === 'cert') {
        expect(
          sql(node('node2'), 'SELECT s.client_dn FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)'),
        ).toBe('/CN=pgaf-node1');
      }
      // pg_autoctl's own hba lines written at the promotion use the new auth method, never trust.
      expect(
        sql(
          node('node2'),
          "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust' AND type <> 'local'",
        ),
      ).toBe('0');
    },
    300_000,
  );

  it('--skip-pg-hba formation: the plan says pgharden owns pg_hba.conf; apply → verify 0', async () => {
    lab = await up('pg_auto_failover', { skipPgHba: true });
    expect(autoctl(node('node1'), ['config', 'get', 'postgresql.hba_level']).trim()).toBe('skip');
    const inv = await labInventory(lab, work, 'skip', join(work, 'pki'));
    const plan = await runCli(['plan', '-i', inv, '--auth', 'scram', '--secrets', lab.secretsPath, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const doc = (jsonEvents(plan.stdout).at(-1) as { plan?: { notes?: string[] } }).plan;
    expect(doc?.notes?.join('\n')).toMatch(/node1: pg_autoctl runs with --skip-pg-hba.*pgharden owns it/);
    const run = await runCli(labApplyArgs(lab, inv, join(work, 'state')));
    expect(run.code, `${run.stderr}\n${run.stdout.slice(-3000)}`).toBe(0);
    await settled();
    const verify = await runCli(['verify', '-i', inv, '--secrets', lab.secretsPath, '--json']);
    expect(verify.code, verify.stdout).toBe(0);
    for (const n of ['node1', 'node2']) {
      expect(sql(node(n), "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host'"), n).toBe('0');
    }
  }, 240_000);

  it('a failure late in the run (after pg_autoctl service restarts) → exit 4, every node as before, pg_autoctl running', async () => {
    // The secondary's auth steps come after the monitor's and the primary's (their pg_autoctl
    // services were restarted for auth_method): node2's ~/.pgpass cannot be replaced. The rollback
    // must restart each service once at most (the supervisor stops pg_autoctl and PostgreSQL after
    // more than 5 starts of a service in 300 s, the formation's own first start included).
    const inv = await labInventory(lab, work, 'late', join(work, 'pki'));
    const before = await checksums(touched());
    const n2 = node('node2');
    const pgpass = join(n2.home, '.pgpass');
    await writeFile(pgpass, '', { mode: 0o600 });
    execFileSync('chown', [n2.osUser, pgpass]);
    execFileSync('chattr', ['+i', pgpass]);
    let run;
    try {
      run = await runCli(labApplyArgs(lab, inv, join(work, 'state')));
    } finally {
      execFileSync('chattr', ['-i', pgpass]);
      await rm(pgpass, { force: true });
    }
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr + run.stdout).toMatch(/pgaf\.pgpass/);
    const steps = jsonEvents(run.stdout)
      .filter((e) => e.type === 'rollback:step')
      .map((e) => `${String(e['node'])}:${String(e['step'])}`);
    expect(steps).toEqual(
      expect.arrayContaining(['node1:pgaf.autoctl-config', 'monitor:pgaf.autoctl-config']),
    );
    await settled();
    expect(await checksums(touched())).toEqual(before);
    for (const n of lab.nodes) {
      execFileSync('start-stop-daemon', ['--status', '--pidfile', join(n.home, 'pg_autoctl.pid')]);
      expect(sql(n, 'SHOW ssl'), n.name).toBe('off');
      expect(autoctl(n, ['config', 'get', 'postgresql.auth_method']).trim(), n.name).toBe('trust');
    }
  }, 300_000);

  it('a node that refuses in the middle → exit 4, every node as before, formation healthy', async () => {
    const inv = await labInventory(lab, work, 'fail', join(work, 'pki'));
    const before = await checksums(touched());
    // node1 (the primary) is changed after the monitor and node2: its `pg_autoctl enable ssl`
    // cannot write an immutable pg_autoctl.cfg.
    const cfg = cfgPath(node('node1'));
    execFileSync('chattr', ['+i', cfg]);
    let run;
    try {
      run = await runCli(labApplyArgs(lab, inv, join(work, 'state')));
    } finally {
      execFileSync('chattr', ['-i', cfg]);
    }
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr + run.stdout).toMatch(/pgaf\.enable-ssl/);
    await settled();
    expect(await checksums(touched())).toEqual(before);
    for (const n of lab.nodes) {
      // pg_autoctl still runs (its supervisor stops everything after too many service restarts).
      execFileSync('start-stop-daemon', ['--status', '--pidfile', join(n.home, 'pg_autoctl.pid')]);
      expect(sql(n, 'SHOW ssl'), n.name).toBe('off');
      expect(autoctl(n, ['config', 'get', 'ssl.active']).trim(), n.name).toBe('0');
    }
    expect(autoctl(node('node2'), ['config', 'get', 'pg_autoctl.monitor'])).toMatch(/sslmode=prefer/);
  }, 300_000);
});
