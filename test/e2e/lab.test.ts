// The lab itself (SPEC §13): what every other e2e file relies on, checked with real clients —
// OpenSSH, psql, pg_autoctl, Pgpool-II's SHOW POOL_NODES.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../src/core/inventory-schema.js';
import { down, isUp, readLab, up, type LabState } from '../lab/lab.js';
import { trackedAlive, runAs } from '../lab/proc.js';
import { lookupUser } from '../lab/users.js';
import type { Lab, LabNode, LabVariant } from '../lab/types.js';
import { LAB_USER_PREFIX, labAddress } from '../lab/paths.js';

type RunningLab = LabState;

async function mustRead(variant: LabVariant): Promise<RunningLab> {
  const lab = await readLab(variant);
  if (lab === undefined) throw new Error(`lab ${variant} is not up (no lab.json)`);
  return lab;
}

/** OpenSSH client, strict host key checking against the lab's known_hosts, key only, no prompts. */
function ssh(
  lab: Lab,
  user: string,
  host: string,
  command: string,
  opts: { knownHosts?: string; input?: string } = {},
) {
  return execa(
    'ssh',
    [
      '-F',
      '/dev/null',
      '-i',
      lab.identityFile,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${opts.knownHosts ?? lab.knownHostsPath}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      `${user}@${host}`,
      command,
    ],
    { reject: false, input: opts.input ?? '', timeout: 30_000 },
  );
}

/** psql over TCP as `user` with its password (from the environment, not argv). */
function tcpPsql(host: string, port: number, user: string, password: string, sql: string, db = 'postgres') {
  return execa(
    '/usr/lib/postgresql/15/bin/psql',
    ['-X', '-A', '-t', '-h', host, '-p', String(port), '-U', user, '-d', db, '-c', sql],
    {
      reject: false,
      env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
      extendEnv: false,
      timeout: 20_000,
    },
  );
}

/** psql as `postgres` over the node's socket, run as the node's OS user (peer auth through the ident map). */
async function localSql(node: LabNode, sql: string): Promise<string[]> {
  const user = await lookupUser(node.osUser);
  if (user === undefined) throw new Error(`no OS user ${node.osUser}`);
  const r = await runAs(user, `${node.binDir}/psql`, [
    '-X',
    '-A',
    '-t',
    '-h',
    node.socketDir,
    '-U',
    'postgres',
    '-c',
    sql,
  ]);
  return r.stdout.split('\n').filter((l) => l !== '');
}

async function validInventory(lab: Lab) {
  const inv = inventorySchema.parse(parse(await readFile(lab.inventoryPath, 'utf8')));
  expect(inv.topology).toBe(lab.variant);
  expect(inv.network).toEqual(['127.0.0.0/8']);
  expect(inv.ssh).toMatchObject({ identityFile: lab.identityFile, knownHosts: lab.knownHostsPath, port: 22 });
  expect(inv.nodes.map((n) => [n.name, n.host, n.role, n.ssh?.user])).toEqual(
    lab.nodes.map((n) => [n.name, n.host, n.role, n.osUser]),
  );
  return inv;
}

async function expectSshEverywhere(lab: Lab): Promise<void> {
  const hosts = [
    ...lab.nodes.map((n) => ({ user: n.osUser, host: n.host })),
    ...lab.poolers.map((p) => ({ user: p.osUser, host: p.host })),
  ];
  for (const knownHosts of [lab.knownHostsPath, lab.knownHostsHashedPath]) {
    const runs = await Promise.all(hosts.map((h) => ssh(lab, h.user, h.host, 'id -un', { knownHosts })));
    runs.forEach((r, i) => {
      expect(r.exitCode, `${hosts[i]?.host}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe(hosts[i]?.user);
    });
  }
}

/** After `down`: no recorded process runs, the state dir is gone. */
function expectNothingLeft(lab: RunningLab): void {
  const alive = lab.pids.filter(trackedAlive).map((p) => `${p.what} (${p.pid})`);
  expect(alive).toEqual([]);
  expect(existsSync(lab.root)).toBe(false);
}

describe('lab: streaming', () => {
  let lab: RunningLab;

  beforeAll(async () => {
    // The global setup brought it up; other files may have changed it: cycle it, which is also the test
    // that `down` leaves nothing behind and `up` works again.
    const before = await mustRead('streaming');
    await down('streaming');
    expectNothingLeft(before);
    expect(await isUp('streaming')).toBe(false);
    const t0 = performance.now();
    await up('streaming');
    const ms = performance.now() - t0;
    console.log(`lab: up streaming (3 nodes) took ${(ms / 1000).toFixed(2)} s`);
    expect(ms).toBeLessThan(20_000);
    lab = await mustRead('streaming');
    expect(await isUp('streaming')).toBe(true);
  });

  it('accepts the operator key on every node with strict host key checking, plain and hashed known_hosts', async () => {
    await expectSshEverywhere(lab);
    // The host key check is real: an unrelated known_hosts makes the same login fail.
    const node = lab.nodes[0] as LabNode;
    const r = await ssh(lab, node.osUser, node.host, 'true', { knownHosts: '/dev/null' });
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
  });

  it('has sudo users: one without password, one with the recorded password on stdin', async () => {
    const node = lab.nodes[1] as LabNode;
    const nopw = await ssh(lab, lab.sudoUsers.nopasswd, node.host, 'sudo -n id -un');
    expect(nopw.stdout.trim(), nopw.stderr).toBe('root');
    const { user, password } = lab.sudoUsers.withPassword;
    expect((await ssh(lab, user, node.host, 'sudo -n true')).exitCode).not.toBe(0);
    const withPw = await ssh(lab, user, node.host, "sudo -S -p '' id -un", { input: `${password}\n` });
    expect(withPw.stdout.trim(), withPw.stderr).toBe('root');
    const wrong = await ssh(lab, user, node.host, "sudo -S -p '' id -un", { input: 'not-the-password\n' });
    expect(wrong.exitCode).not.toBe(0);
  });

  it('lets app log in over TCP with its md5 password, and refuses a wrong one', async () => {
    const app = lab.passwords['app'] ?? '';
    for (const n of lab.nodes) {
      const r = await tcpPsql(n.host, n.port, 'app', app, 'SELECT current_user', 'app');
      expect(r.stdout.trim(), r.stderr).toBe('app');
    }
    const primary = lab.nodes.find((n) => n.role === 'primary') as LabNode;
    const bad = await tcpPsql(primary.host, primary.port, 'app', `${app}x`, 'SELECT 1', 'app');
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/password authentication failed/);
    const hashes = await localSql(
      primary,
      "SELECT rolname || '=' || left(rolpassword, 3) FROM pg_authid WHERE rolname IN ('app', 'replicator') ORDER BY 1",
    );
    expect(hashes).toEqual(['app=md5', 'replicator=md5']);
  });

  it('streams to every standby without TLS, with ssl off everywhere', async () => {
    const primary = lab.nodes.find((n) => n.role === 'primary') as LabNode;
    const standbys = lab.nodes.filter((n) => n.role === 'standby').map((n) => n.name);
    expect(standbys).toHaveLength(lab.nodes.length - 1);
    const rows = await localSql(
      primary,
      `SELECT r.application_name || ':' || r.state || ':' || s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) ORDER BY 1`,
    );
    expect(rows).toEqual(standbys.sort().map((s) => `${s}:streaming:false`));
    for (const n of lab.nodes) expect(await localSql(n, 'SHOW ssl')).toEqual(['off']);
  });

  it('writes an inventory that validates, with the secrets next to it', async () => {
    const inv = await validInventory(lab);
    expect(inv.cluster).toBe('lab-streaming');
    expect(inv.roles).toEqual([
      { name: 'replicator', kind: 'replication' },
      { name: 'app', kind: 'client' },
    ]);
    expect(inv.nodes[0]?.pg).toMatchObject({
      superuser: 'postgres',
      binDir: '/usr/lib/postgresql/15/bin',
      port: 5432,
    });
    expect(parse(await readFile(lab.secretsPath, 'utf8'))).toEqual(lab.passwords);
  });
});

describe('lab: pg_auto_failover', () => {
  let lab: RunningLab;

  beforeAll(async () => {
    const t0 = performance.now();
    await up('pg_auto_failover');
    console.log(`lab: up pg_auto_failover took ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    lab = await mustRead('pg_auto_failover');
  }, 240_000);

  afterAll(async () => {
    await down('pg_auto_failover');
  }, 60_000);

  it('reaches a healthy formation: one primary, one secondary, every node where the monitor wants it', async () => {
    const monitor = lab.nodes.find((n) => n.role === 'monitor') as LabNode;
    // Over SSH, as an operator would: the node user's .bashrc carries pg_autoctl's environment.
    const r = await ssh(lab, monitor.osUser, monitor.host, 'pg_autoctl show state --json');
    expect(r.exitCode, r.stderr).toBe(0);
    const states = JSON.parse(r.stdout) as {
      nodename: string;
      current_group_state: string;
      assigned_group_state: string;
    }[];
    expect(states).toHaveLength(2);
    for (const s of states) expect(s.current_group_state).toBe(s.assigned_group_state);
    expect(states.map((s) => s.current_group_state).sort()).toEqual(['primary', 'secondary']);
    const primary = states.find((s) => s.current_group_state === 'primary');
    expect(lab.nodes.find((n) => n.role === 'primary')?.name).toBe(primary?.nodename);
  });

  it('is reachable over SSH and has app on the primary', async () => {
    await expectSshEverywhere(lab);
    const primary = lab.nodes.find((n) => n.role === 'primary') as LabNode;
    expect(
      await localSql(primary, "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'app'"),
    ).toEqual(['md5']);
  });

  it('writes a valid pg_auto_failover inventory with the monitor', async () => {
    const inv = await validInventory(lab);
    expect(inv.nodes.filter((n) => n.role === 'monitor').map((n) => n.host)).toEqual([labAddress(11)]);
  });

  it('down stops every process it started and removes the addresses it assigned', async () => {
    await down('pg_auto_failover');
    expectNothingLeft(lab);
    const { stdout } = await execa('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo']);
    for (const a of [labAddress(11), labAddress(12), labAddress(13)]) expect(stdout).not.toContain(` ${a}/`);
  });
});

describe('lab: pgpool', () => {
  let lab: RunningLab;

  beforeAll(async () => {
    const t0 = performance.now();
    await up('pgpool');
    console.log(`lab: up pgpool took ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    lab = await mustRead('pgpool');
  }, 180_000);

  afterAll(async () => {
    await down('pgpool');
  }, 60_000);

  it('answers SHOW POOL_NODES on 127.0.1.20:9999 with every backend up', async () => {
    const pool = lab.poolers[0];
    expect(pool).toMatchObject({ host: labAddress(20), port: 9999 });
    const r = await tcpPsql(labAddress(20), 9999, 'app', lab.passwords['app'] ?? '', 'SHOW POOL_NODES');
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('|'));
    expect(rows.map((c) => [c[1], c[3]])).toEqual([
      [labAddress(21), 'up'],
      [labAddress(22), 'up'],
      [labAddress(23), 'up'],
    ]);
    const bad = await tcpPsql(labAddress(20), 9999, 'app', 'wrong', 'SELECT 1');
    expect(bad.exitCode).not.toBe(0);
  });

  it('runs pgpool with the argv the inventory describes, reachable over SSH', async () => {
    await expectSshEverywhere(lab);
    const pool = lab.poolers[0];
    const pid = (await readFile(pool?.pidFile ?? '', 'utf8')).replace(/\0/g, '').trim();
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(argv).toEqual(
      expect.arrayContaining(['-f', pool?.configFile, '-a', pool?.hbaFile, '-k', pool?.keyFile]),
    );
  });

  it('writes a valid pgpool inventory with the pooler and the health-check role', async () => {
    const inv = await validInventory(lab);
    expect(inv.poolers).toEqual([
      expect.objectContaining({
        name: 'pool1',
        host: labAddress(20),
        kind: 'pgpool',
        port: 9999,
        osUser: `${LAB_USER_PREFIX}pool`,
      }),
    ]);
    expect(inv.roles).toContainEqual({ name: 'pgpool', kind: 'health-check' });
  });

  it('down stops every process it started', async () => {
    await down('pgpool');
    expectNothingLeft(lab);
  });
});
