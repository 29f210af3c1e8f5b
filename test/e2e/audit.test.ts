// pgharden audit against the real, deliberately insecure streaming lab (SPEC §13): real sshd, real
// PostgreSQL 15, the bundled CLI as a child process.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readLab } from '../lab/lab.js';
import type { Lab } from '../lab/types.js';
import { checksums, jsonEvents, runCli, type JsonEvent } from './rig.js';

let lab: Lab;
let work: string;

function configFiles(l: Lab): string[] {
  return l.nodes.flatMap((n) =>
    ['postgresql.conf', 'postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf'].map((f) =>
      join(n.dataDir, f),
    ),
  );
}

/** The lab inventory with some keys changed, written to a temp file. */
async function variantInventory(
  name: string,
  change: (inv: Record<string, unknown>) => void,
): Promise<string> {
  const inv = parse(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  change(inv);
  const path = join(work, `${name}.yaml`);
  await writeFile(path, stringify(inv));
  return path;
}

function sshBlock(inv: Record<string, unknown>): Record<string, unknown> {
  return inv['ssh'] as Record<string, unknown>;
}

function failures(events: JsonEvent[]): Record<string, { code: string; message: string; hint?: string }> {
  return Object.fromEntries(
    events
      .filter((e) => e.type === 'node:failed')
      .map((e) => [e['node'] as string, e['error'] as { code: string; message: string; hint?: string }]),
  );
}

function findingIds(events: JsonEvent[], node?: string): string[] {
  return events
    .filter((e) => e.type === 'finding')
    .map((e) => e['finding'] as { id: string; node: string })
    .filter((f) => node === undefined || f.node === node)
    .map((f) => f.id);
}

/** Listen on an ephemeral port of `host`; rejects (instead of hanging) when the address is taken. */
function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

beforeAll(async () => {
  const l = await readLab('streaming');
  if (!l) throw new Error('the streaming lab is not up (test/e2e/global-setup.ts brings it up)');
  lab = l;
  work = await mkdtemp(join(tmpdir(), 'pgharden-audit-'));
});

describe('audit on the insecure streaming lab', () => {
  it('reports ssl off, md5 rules, md5 hashes and plain replication, exits 3, and changes nothing', async () => {
    const before = await checksums(configFiles(lab));
    const run = await runCli(['audit', '-i', lab.inventoryPath, '--json']);
    const after = await checksums(configFiles(lab));

    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    const events = jsonEvents(run.stdout);
    expect(failures(events)).toEqual({});
    const primary = lab.nodes.find((n) => n.role === 'primary')?.name ?? 'pg1';
    const standby = lab.nodes.find((n) => n.role === 'standby')?.name ?? 'pg2';
    for (const node of lab.nodes) {
      expect(findingIds(events, node.name)).toEqual(
        expect.arrayContaining(['ssl.off', 'hba.md5', 'hba.non-tls']),
      );
    }
    expect(findingIds(events, primary)).toEqual(
      expect.arrayContaining(['roles.md5-hash', 'replication.no-tls']),
    );
    expect(findingIds(events, standby)).toContain('replication.sslmode');
    const md5 = events.find(
      (e) => e.type === 'finding' && (e['finding'] as { id: string }).id === 'roles.md5-hash',
    );
    expect((md5?.['finding'] as { message: string }).message).toMatch(/app.*replicator|replicator.*app/);
    const summary = events.at(-1);
    expect(summary).toMatchObject({ type: 'summary', command: 'audit', exitCode: 3 });
    expect(after).toEqual(before);
  });

  it('prints a human report with the fix for each finding', async () => {
    const run = await runCli(['audit', '-i', lab.inventoryPath]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/HIGH\s+ssl\.off\s+ssl is off/);
    expect(run.stdout).toMatch(/fix: install-server-cert \+ enable-ssl/);
    expect(run.stdout).toMatch(/→ exit 3/);
    for (const node of lab.nodes)
      expect(run.stderr).toContain(`✓ ${node.name} connected (ssh-ed25519 SHA256:`);
  });

  it('never prints a password or key material', async () => {
    const runs = [
      await runCli(['audit', '-i', lab.inventoryPath, '--json']),
      await runCli(['audit', '-i', lab.inventoryPath, '--verbose']),
    ];
    const key = await readFile(lab.identityFile, 'utf8');
    const keyBody = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const run of runs) {
      const text = run.stdout + run.stderr;
      for (const password of Object.values(lab.passwords)) expect(text).not.toContain(password);
      expect(text).not.toContain(lab.sudoUsers.withPassword.password);
      for (const line of keyBody) expect(text).not.toContain(line);
      expect(text).not.toMatch(/PRIVATE KEY|md5[0-9a-f]{32}|SCRAM-SHA-256\$/);
    }
  });
});

describe('reaching PostgreSQL through sudo and discovery', () => {
  it('audits through a NOPASSWD sudo user, discovering data dir, port and socket from the running server', async () => {
    const inv = await variantInventory('sudo-discover', (i) => {
      sshBlock(i)['user'] = lab.sudoUsers.nopasswd;
      for (const node of i['nodes'] as Record<string, unknown>[]) {
        delete node['ssh'];
        const pg = node['pg'] as Record<string, unknown>;
        node['pg'] = { osUser: pg['osUser'], superuser: 'postgres' };
      }
    });
    const run = await runCli(['audit', '-i', inv, '--json']);
    const events = jsonEvents(run.stdout);
    expect(failures(events)).toEqual({});
    for (const node of lab.nodes)
      expect(findingIds(events, node.name)).toEqual(expect.arrayContaining(['ssl.off', 'hba.md5']));
    expect(run.code).toBe(3);
  });

  it('does not use sudo when the inventory says sudo: false', async () => {
    const inv = await variantInventory('sudo-off', (i) => {
      Object.assign(sshBlock(i), { user: lab.sudoUsers.nopasswd, sudo: false });
      for (const node of i['nodes'] as Record<string, unknown>[]) delete node['ssh'];
    });
    const run = await runCli(['audit', '-i', inv, '--json']);
    const ids = findingIds(jsonEvents(run.stdout));
    expect(ids).toEqual(lab.nodes.map(() => 'ssh.sudo-disabled'));
  });

  it('feeds the sudo password on stdin when sudo asks for one, and says which variable is missing otherwise', async () => {
    const inv = await variantInventory('sudo-password', (i) => {
      sshBlock(i)['user'] = lab.sudoUsers.withPassword.user;
      for (const node of i['nodes'] as Record<string, unknown>[]) delete node['ssh'];
    });
    const withPassword = await runCli(['audit', '-i', inv, '--json'], {
      PGHARDEN_SUDO_PASSWORD: lab.sudoUsers.withPassword.password,
    });
    const events = jsonEvents(withPassword.stdout);
    expect(failures(events)).toEqual({});
    expect(findingIds(events)).toContain('ssl.off');
    expect(withPassword.stdout + withPassword.stderr).not.toContain(lab.sudoUsers.withPassword.password);

    const without = await runCli(['audit', '-i', inv, '--json']);
    const found = jsonEvents(without.stdout)
      .filter((e) => e.type === 'finding')
      .map((e) => e['finding'] as { id: string; message: string; node: string; fix: string });
    for (const node of lab.nodes) {
      const f = found.find((x) => x.node === node.name);
      expect(f?.id).toBe('sudo.password-required');
      expect(f?.message).toMatch(/sudo/);
      expect(f?.fix).toContain('PGHARDEN_SUDO_PASSWORD');
    }
    expect(without.code).toBe(3);
  });

  it('reports a node whose PostgreSQL is not where the inventory says', async () => {
    const inv = await variantInventory('wrong-datadir', (i) => {
      const first = (i['nodes'] as Record<string, unknown>[])[0] as Record<string, Record<string, unknown>>;
      first['pg'] = { ...first['pg'], dataDir: '/nonexistent/data', port: undefined };
    });
    const run = await runCli(['audit', '-i', inv, '--json']);
    const events = jsonEvents(run.stdout);
    const f = events.find(
      (e) => e.type === 'finding' && (e['finding'] as { node: string }).node === lab.nodes[0]?.name,
    );
    expect(f?.['finding']).toMatchObject({ id: 'pg.not-running', severity: 'critical' });
    expect((f?.['finding'] as { message: string }).message).toMatch(
      /no running PostgreSQL server with data directory \/nonexistent\/data/,
    );
  });
});

describe('SSH trust and failures', () => {
  it('refuses an unknown host key, naming its SHA256 fingerprint', async () => {
    const empty = join(work, 'known_hosts.empty');
    await writeFile(empty, '');
    const inv = await variantInventory('unknown-key', (i) => {
      sshBlock(i)['knownHosts'] = empty;
    });
    const run = await runCli(['audit', '-i', inv, '--json']);
    const failed = failures(jsonEvents(run.stdout));
    expect(Object.keys(failed).sort()).toEqual(lab.nodes.map((n) => n.name).sort());
    for (const node of lab.nodes) {
      const expected = execFileSync('ssh-keygen', ['-lf', lab.knownHostsPath, '-F', node.host], {
        encoding: 'utf8',
      });
      const fingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(expected)?.[0];
      expect(fingerprint).toBeDefined();
      expect(failed[node.name]?.code).toBe('ssh.host-key-unknown');
      expect(failed[node.name]?.message).toContain(fingerprint);
      expect(failed[node.name]?.hint).toContain('--accept-new-host-keys');
    }
    expect(run.code).toBe(3);
    expect(await readFile(empty, 'utf8')).toBe('');
  });

  it('trusts on first use only with --accept-new-host-keys, and saves the keys', async () => {
    const fresh = join(work, 'known_hosts.tofu');
    await writeFile(fresh, '', { mode: 0o600 });
    const inv = await variantInventory('tofu', (i) => {
      sshBlock(i)['knownHosts'] = fresh;
    });
    const run = await runCli(['audit', '-i', inv, '--json', '--accept-new-host-keys']);
    expect(failures(jsonEvents(run.stdout))).toEqual({});
    const saved = await readFile(fresh, 'utf8');
    for (const node of lab.nodes)
      expect(saved).toMatch(new RegExp(`^${node.host.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
    const again = await runCli(['audit', '-i', inv, '--json']);
    expect(failures(jsonEvents(again.stdout))).toEqual({});
  });

  it('refuses a changed host key, even with --accept-new-host-keys, and still audits the other nodes', async () => {
    const other = join(work, 'otherkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherPub = (await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const first = lab.nodes[0];
    if (!first) throw new Error('lab has no nodes');
    const known = (await readFile(lab.knownHostsPath, 'utf8'))
      .split('\n')
      .map((l) => (l.startsWith(`${first.host} `) ? `${first.host} ${otherPub}` : l))
      .join('\n');
    const changed = join(work, 'known_hosts.changed');
    await writeFile(changed, known);
    const inv = await variantInventory('changed-key', (i) => {
      sshBlock(i)['knownHosts'] = changed;
    });
    const run = await runCli(['audit', '-i', inv, '--json', '--accept-new-host-keys']);
    const events = jsonEvents(run.stdout);
    const failed = failures(events);
    expect(Object.keys(failed)).toEqual([first.name]);
    expect(failed[first.name]?.code).toBe('ssh.host-key-changed');
    expect(findingIds(events, lab.nodes[1]?.name)).toContain('ssl.off');
    expect(await readFile(changed, 'utf8')).toBe(known);
  });

  it('names the node when the SSH key is wrong', async () => {
    const wrong = join(work, 'wrongkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
    const inv = await variantInventory('wrong-key', (i) => {
      sshBlock(i)['identityFile'] = wrong;
    });
    const run = await runCli(['audit', '-i', inv, '--json']);
    const failed = failures(jsonEvents(run.stdout));
    for (const node of lab.nodes) {
      expect(failed[node.name]?.code).toBe('ssh.auth-failed');
      expect(failed[node.name]?.message).toContain(node.name);
    }
  });

  describe('unreachable nodes', () => {
    let silent: Server;
    let silentPort: number;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      // Accepts TCP and never speaks SSH: only the handshake timeout ends the wait.
      silent = createServer((socket) => void sockets.add(socket));
      silentPort = await listen(silent, '127.0.1.98');
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('reports refused and silent nodes within their timeout; the others are still audited', async () => {
      const inv = await variantInventory('unreachable', (i) => {
        const nodes = i['nodes'] as Record<string, unknown>[];
        nodes.push({ name: 'gone', host: '127.0.1.99', role: 'standby' });
        nodes.push({
          name: 'silent',
          host: '127.0.1.98',
          role: 'standby',
          ssh: { port: silentPort, timeoutMs: 1500 },
        });
      });
      const run = await runCli(['audit', '-i', inv, '--json']);
      const events = jsonEvents(run.stdout);
      const failed = failures(events);
      expect(failed['gone']?.code).toBe('ssh.unreachable');
      expect(failed['gone']?.message).toMatch(/gone.*127\.0\.1\.99:22/);
      expect(failed['silent']?.code).toBe('ssh.timeout');
      expect(failed['silent']?.message).toContain('1500');
      expect(run.ms).toBeLessThan(15_000);
      for (const node of lab.nodes) expect(findingIds(events, node.name)).toContain('ssl.off');
      expect(findingIds(events, 'gone')).toEqual(['node.unreachable']);
      expect(run.code).toBe(3);
    });
  });
});

describe('malformed inventories', () => {
  let listener: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    // Every bad inventory points its nodes here: a connection would prove something was contacted.
    listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    port = await listen(listener, '127.0.1.97');
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  const base = (): string =>
    [
      'cluster: broken',
      'topology: streaming',
      'network: [127.0.0.0/8]',
      'nodes:',
      '  - name: a',
      '    host: 127.0.1.97',
      '  - name: b',
      '    host: 127.0.1.97',
      '    pg: { port: 5433 }',
      `ssh: { port: ${port} }`,
    ].join('\n');

  it.each([
    [
      'bad YAML',
      () => base().replace('network: [127.0.0.0/8]', 'network: [127.0.0.0/8'),
      /bad-yaml\.yaml:4:\d+: YAML:/,
    ],
    [
      'unknown topology',
      () => base().replace('topology: streaming', 'topology: patroni'),
      /unknown-topology\.yaml:2:1: topology: unknown topology/,
    ],
    [
      'duplicate node names',
      () => base().replace('name: b', 'name: a'),
      /duplicate-node-names\.yaml:7:\d+: nodes\[1\]\.name: duplicate node name "a"/,
    ],
    [
      'missing host',
      () => base().replace('    host: 127.0.1.97\n    pg', '    pg'),
      /missing-host\.yaml:7:\d+: nodes\[1\]\.host: required/,
    ],
    [
      'bad CIDR',
      () => base().replace('127.0.0.0/8', '127.0.0.0/40'),
      /bad-cidr\.yaml:3:\d+: network\[0\]: not a CIDR/,
    ],
  ])('%s → exit 2 with file:line:field, nothing contacted', async (name, text, message) => {
    const path = join(work, `${name.replace(/ /g, '-').toLowerCase()}.yaml`);
    await writeFile(path, text());
    const run = await runCli(['audit', '-i', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(connections).toBe(0);
  });

  it('sanity: the same inventory, once valid, does contact the listener', async () => {
    const path = join(work, 'valid.yaml');
    await writeFile(path, base().replace('ssh: {', 'ssh: { timeoutMs: 1000,'));
    await runCli(['audit', '-i', path, '--json']);
    expect(connections).toBeGreaterThan(0);
  });
});
