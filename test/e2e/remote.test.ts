// src/remote against the real lab: per-node OpenSSH sshd on 127.0.1.x, PostgreSQL 15, sudo.
// Every test opens its own sessions and cleans up what it wrote; the lab's own files are only read.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { SessionPool } from '../../src/remote/pool.js';
import { psqlExec, psqlQueries, type PgConnection } from '../../src/remote/psql.js';
import { connect, type ConnectOptions } from '../../src/remote/session.js';
import type { RemoteSession, SshTarget } from '../../src/remote/types.js';

let lab: Lab;
let pg1: LabNode;
let pg2: LabNode;
let tmp: string;
const open: RemoteSession[] = [];

function target(node: LabNode, over: Partial<SshTarget> = {}): SshTarget {
  return {
    node: node.name,
    host: node.host,
    port: 22,
    user: node.osUser,
    identityFiles: [lab.identityFile],
    knownHostsPath: lab.knownHostsPath,
    readyTimeoutMs: 10_000,
    ...over,
  };
}

async function session(t: SshTarget, opts: Partial<ConnectOptions> = {}): Promise<RemoteSession> {
  const s = await connect(t, { hostKeys: 'reject', ...opts });
  open.push(s);
  return s;
}

function pgOf(node: LabNode): PgConnection {
  return {
    osUser: node.osUser,
    superuser: 'postgres',
    socketDir: node.socketDir,
    port: node.port,
    binDir: node.binDir,
  };
}

/** What connect() rejected with (fails the test when it did not reject). */
async function failure(p: Promise<unknown>): Promise<Error & { code: string; hint?: string; node?: string }> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (r === undefined) throw new Error('expected a rejection');
  return r as Error & { code: string; hint?: string; node?: string };
}

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** The SHA256 fingerprint ssh-keygen prints for the known_hosts entry of `host`. */
function labFingerprint(host: string): string {
  const line = readFileSync(lab.knownHostsPath, 'utf8')
    .split('\n')
    .find((l) => l.split(/\s+/)[0]?.split(',').includes(host));
  if (line === undefined) throw new Error(`no known_hosts line for ${host}`);
  const f = join(tmp, `fp-${host}`);
  writeFileSync(f, `${line}\n`);
  return (
    execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', f], { encoding: 'utf8' }).split(/\s+/)[1] ?? ''
  );
}

beforeAll(async () => {
  const l = await readLab('streaming');
  if (l === undefined)
    throw new Error('the streaming lab is not up (the e2e global setup should have started it)');
  lab = l;
  const [a, b] = lab.nodes;
  if (a === undefined || b === undefined) throw new Error('the lab has fewer than 2 nodes');
  [pg1, pg2] = [a, b];
  tmp = mkdtempSync(join(tmpdir(), 'pgh-remote-e2e-'));
});

afterAll(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('exec on one connection', () => {
  it('stdout, stderr, exit code, stdin (1 MiB, binary-safe through sha256sum)', async () => {
    let t0 = performance.now();
    const s = await session(target(pg1));
    const connectMs = performance.now() - t0;
    expect(s.hostKey).toMatchObject({ node: pg1.name, host: pg1.host, port: 22, keyType: 'ssh-ed25519' });
    expect(s.hostKey.fingerprint).toBe(labFingerprint(pg1.host));

    const r = await s.exec('echo out; echo err >&2; exit 7');
    expect(r).toEqual({ code: 7, signal: undefined, stdout: 'out\n', stderr: 'err\n' });
    const stdin = randomBytes(1 << 20);
    const sum = await s.exec('sha256sum', { stdin });
    expect(sum.stdout.split(' ')[0]).toBe(sha256(stdin));
    expect((await s.exec('id -un')).stdout.trim()).toBe(pg1.osUser);

    t0 = performance.now();
    for (let i = 0; i < 10; i++) await s.exec('true');
    const rtt = (performance.now() - t0) / 10;
    console.log(`remote e2e: connect ${connectMs.toFixed(0)} ms, exec round trip ${rtt.toFixed(1)} ms`);
  });

  it('20 concurrent execs (MaxSessions 10): queued, all succeed', async () => {
    const s = await session(target(pg1));
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.exec(`sleep 0.4; echo ${i}`)));
    const ms = performance.now() - t0;
    console.log(`remote e2e: 20 concurrent execs (sleep 0.4) in ${ms.toFixed(0)} ms`);
    expect(results.map((r) => [r.code, r.stdout])).toEqual(
      Array.from({ length: 20 }, (_, i) => [0, `${i}\n`]),
    );
    // At most 10 at a time: two waves of 0.4 s at least, and not 20 sequential ones.
    expect(ms).toBeGreaterThanOrEqual(800);
    expect(ms).toBeLessThan(4000);
    // The queue is ours, not sshd refusing and us retrying: with maxSessions 2, six run in 3 waves.
    const two = await session(target(pg1), { maxSessions: 2 });
    const t1 = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => two.exec('sleep 0.3')));
    expect(performance.now() - t1).toBeGreaterThanOrEqual(900);
  });

  it('abort mid-exec rejects with the reason in < 1 s; the session stays usable', async () => {
    const s = await session(target(pg1));
    const ac = new AbortController();
    const reason = new Error('operator stopped');
    const t0 = performance.now();
    setTimeout(() => ac.abort(reason), 200);
    await expect(s.exec('sleep 31.7', { signal: ac.signal })).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await s.exec('echo still')).stdout).toBe('still\n');
    // sshd delivered the TERM to the command's process group: nothing left sleeping.
    await new Promise((r) => setTimeout(r, 150));
    expect((await s.exec(`pgrep -u ${pg1.osUser} -f '^sleep 31[.]7$'`)).code).toBe(1);
  });

  it('exec timeout → ssh.exec-timeout', async () => {
    const s = await session(target(pg1));
    const t0 = performance.now();
    const err = await failure(s.exec('sleep 30', { timeoutMs: 300 }));
    expect(err.code).toBe('ssh.exec-timeout');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('connection dropped mid-exec → pending execs reject ssh.disconnected, closed settles with it', async () => {
    const s = await session(target(pg1));
    const long = s.exec('sleep 30');
    // $PPID of the command's shell is this connection's sshd process.
    const kill = s.exec('kill -9 $PPID');
    const [a, b] = await Promise.allSettled([long, kill]);
    expect(a).toMatchObject({ status: 'rejected', reason: { code: 'ssh.disconnected', node: pg1.name } });
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'ssh.disconnected' } });
    expect(await s.closed).toMatchObject({ code: 'ssh.disconnected' });
    expect((await failure(s.exec('true'))).code).toBe('ssh.disconnected');
  });
});

describe('files', () => {
  it('as the SSH user: temp file + same-directory rename, mode and content, nothing left behind', async () => {
    const s = await session(target(pg1));
    const dir = `${pg1.home}/pgh-remote-e2e-${process.pid}`;
    await s.exec(`mkdir -p ${dir}`);
    try {
      await s.writeFileAtomic(`${dir}/a.conf`, 'first\n', { owner: pg1.osUser, mode: 0o640 });
      await s.writeFileAtomic(`${dir}/a.conf`, 'second\n', { owner: pg1.osUser, mode: 0o600 });
      const st = await s.exec(`stat -c '%U %a' ${dir}/a.conf; cat ${dir}/a.conf; ls -A ${dir}`);
      expect(st.stdout).toBe(`${pg1.osUser} 600\nsecond\na.conf\n`);
      expect((await s.readFile(`${dir}/a.conf`)).toString()).toBe('second\n');
      expect((await failure(s.readFile(`${dir}/missing`))).code).toBe('remote.not-found');
      // A write that cannot succeed leaves no temp file.
      expect(
        (await failure(s.writeFileAtomic(`${dir}/nodir/x`, 'x', { owner: pg1.osUser, mode: 0o600 }))).code,
      ).toBe('remote.write-failed');
      expect((await s.exec(`ls -A ${dir}`)).stdout).toBe('a.conf\n');
    } finally {
      await s.exec(`rm -rf ${dir}`);
    }
  });

  it('via NOPASSWD sudo: a file owned by the node user, 0600, binary content intact', async () => {
    const s = await session(target(pg1, { user: lab.sudoUsers.nopasswd }));
    const dir = `${pg1.home}/pgh-remote-e2e-sudo-${process.pid}`;
    const as = { asUser: pg1.osUser };
    await s.exec(`mkdir -p ${dir}`, as);
    try {
      const content = Buffer.concat([randomBytes(4096), Buffer.from([0, 10, 13, 255])]);
      await s.writeFileAtomic(`${dir}/server.key`, content, { owner: pg1.osUser, mode: 0o600 });
      const st = await s.exec(`stat -c '%U %a %s' ${dir}/server.key; ls -A ${dir}`, as);
      expect(st.stdout).toBe(`${pg1.osUser} 600 ${content.length}\nserver.key\n`);
      expect((await s.readFile(`${dir}/server.key`, as)).equals(content)).toBe(true);
      // The SSH user itself cannot read it: the file really belongs to the node user.
      expect((await s.exec(`cat ${dir}/server.key`)).code).not.toBe(0);
      expect((await failure(s.readFile(`${dir}/missing`, as))).code).toBe('remote.not-found');
    } finally {
      await s.exec(`rm -rf ${dir}`, as);
    }
  });

  it('via sudo with a password: works with secrets.sudoPassword; refused without; never leaks it', async () => {
    const { user, password } = lab.sudoUsers.withPassword;
    let asked = 0;
    const s = await session(target(pg1, { user }), {
      secrets: { sudoPassword: () => (asked++, Promise.resolve(password)) },
    });
    const as = { asUser: pg1.osUser };
    expect((await s.exec('id -un', as)).stdout.trim()).toBe(pg1.osUser);
    const echo = await s.exec('cat', { ...as, stdin: 'line1\nline2\n' });
    expect(echo.stdout).toBe('line1\nline2\n'); // the password line went to sudo, not to cat
    const dir = `${pg1.home}/pgh-remote-e2e-pw-${process.pid}`;
    await s.exec(`mkdir -p ${dir}`, as);
    await s.writeFileAtomic(`${dir}/f`, 'x\n', { owner: pg1.osUser, mode: 0o600 });
    expect((await s.exec(`stat -c '%U %a' ${dir}/f; cat ${dir}/f`, as)).stdout).toBe(
      `${pg1.osUser} 600\nx\n`,
    );
    await s.exec(`rm -rf ${dir}`, as);
    expect(asked).toBe(1); // asked once per session

    const none = await session(target(pg1, { user }));
    const err = await failure(none.exec('id', as));
    expect(err.code).toBe('sudo.password-required');
    expect(err.message).toContain(pg1.name);
    expect(err.hint).toContain('PGHARDEN_SUDO_PASSWORD');

    const wrongPw = `wrong-${randomBytes(6).toString('hex')}`;
    const wrong = await session(target(pg1, { user }), {
      secrets: { sudoPassword: () => Promise.resolve(wrongPw) },
    });
    const e2 = await failure(wrong.exec('id', as));
    expect(e2.code).toBe('sudo.password-wrong');
    expect(`${e2.message} ${e2.hint ?? ''} ${e2.stack ?? ''}`).not.toContain(wrongPw);
  });
});

describe('psql over the local socket', () => {
  it('batches queries in one psql as the node OS user; primary and standby', async () => {
    const s1 = await session(target(pg1));
    const rows = await psqlQueries(s1, pgOf(pg1), {
      version: 'SELECT version() AS v, current_setting($$server_version_num$$)::int AS num',
      recovery: 'SELECT pg_is_in_recovery() AS standby',
      who: 'SELECT current_user AS u',
      none: 'SELECT 1 WHERE false',
    });
    expect(rows['version']?.[0]?.['v']).toMatch(/^PostgreSQL 15\./);
    expect(rows['version']?.[0]?.['num']).toBeGreaterThanOrEqual(150000);
    expect(rows['recovery']).toEqual([{ standby: pg1.role !== 'primary' }]);
    expect(rows['who']).toEqual([{ u: 'postgres' }]);
    expect(rows['none']).toEqual([]);
    const s2 = await session(target(pg2));
    expect((await psqlQueries(s2, pgOf(pg2), { r: 'SELECT pg_is_in_recovery() AS standby' }))['r']).toEqual([
      { standby: pg2.role === 'standby' },
    ]);
  });

  it('through NOPASSWD sudo as well', async () => {
    const s = await session(target(pg1, { user: lab.sudoUsers.nopasswd }));
    const rows = await psqlQueries(s, pgOf(pg1), { u: 'SELECT current_user AS u, 1::bigint AS one' });
    expect(rows['u']).toEqual([{ u: 'postgres', one: 1 }]);
  });

  it('a SQL error → psql.failed naming the query; sensitive SQL and the sudo password stay out of it', async () => {
    const s = await session(target(pg1));
    const err = await failure(
      psqlQueries(s, pgOf(pg1), { ok: 'SELECT 1', bad: 'SELECT * FROM no_such_table' }),
    );
    expect(err.code).toBe('psql.failed');
    expect(err.message).toContain('"bad"');
    expect(err.message).toContain('no_such_table');

    const { user, password } = lab.sudoUsers.withPassword;
    const viaPw = await session(target(pg1, { user }), {
      secrets: { sudoPassword: () => Promise.resolve(password) },
    });
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    const e2 = await failure(
      psqlExec(viaPw, pgOf(pg1), `ALTER ROLE no_such_role_x PASSWORD '${secret}';`, { sensitive: true }),
    );
    expect(e2.code).toBe('psql.failed');
    expect(e2.message).toContain('42704'); // SQLSTATE only: undefined_object
    const text = `${e2.message} ${e2.hint ?? ''} ${e2.stack ?? ''}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain(password);
  });
});

describe('host keys', () => {
  it('unknown host key → ssh.host-key-unknown with the exact fingerprint; hint names --accept-new-host-keys', async () => {
    const empty = join(tmp, 'kh-empty');
    writeFileSync(empty, '');
    const err = await failure(session(target(pg1, { knownHostsPath: empty })));
    expect(err.code).toBe('ssh.host-key-unknown');
    expect(err.message).toContain(pg1.name);
    expect(err.message).toContain(`${pg1.host}:22`);
    expect(err.message).toContain('ssh-ed25519');
    expect(err.message).toContain(labFingerprint(pg1.host));
    expect(err.hint).toContain('--accept-new-host-keys');
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('accept-and-save appends (file created 0600), and the next connect matches it', async () => {
    const kh = join(tmp, 'new-dir', 'known_hosts');
    await session(target(pg1, { knownHostsPath: kh }), { hostKeys: 'accept-and-save' });
    expect(execFileSync('ssh-keygen', ['-F', pg1.host, '-f', kh], { encoding: 'utf8' })).toContain(
      'ssh-ed25519',
    );
    const again = await session(target(pg1, { knownHostsPath: kh }), { hostKeys: 'reject' });
    expect(again.hostKey.fingerprint).toBe(labFingerprint(pg1.host));
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a policy function is asked with the key info; accept-once saves nothing, reject refuses', async () => {
    const kh = join(tmp, 'kh-ask');
    writeFileSync(kh, '');
    const seen: string[] = [];
    await session(target(pg1, { knownHostsPath: kh }), {
      hostKeys: (info) => (seen.push(info.fingerprint), Promise.resolve('accept-once')),
    });
    expect(seen).toEqual([labFingerprint(pg1.host)]);
    expect(readFileSync(kh, 'utf8')).toBe('');
    const err = await failure(
      session(target(pg1, { knownHostsPath: kh }), { hostKeys: () => Promise.resolve('reject') }),
    );
    expect(err.code).toBe('ssh.host-key-unknown');
  });

  it('changed host key → ssh.host-key-changed even with accept-and-save; file untouched', async () => {
    const key = join(tmp, 'other_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const kh = join(tmp, 'kh-changed');
    const text = `# other\n${pg1.host} ${readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(kh, text);
    const err = await failure(session(target(pg1, { knownHostsPath: kh }), { hostKeys: 'accept-and-save' }));
    expect(err.code).toBe('ssh.host-key-changed');
    expect(err.message).toContain(labFingerprint(pg1.host));
    expect(err.message).toContain('line 2');
    expect(readFileSync(kh, 'utf8')).toBe(text);
  });

  it('hashed known_hosts works', async () => {
    expect(readFileSync(lab.knownHostsHashedPath, 'utf8')).not.toContain(pg1.host);
    const s = await session(target(pg1, { knownHostsPath: lab.knownHostsHashedPath }));
    expect((await s.exec('echo ok')).stdout).toBe('ok\n');
  });
});

describe('authentication and reachability', () => {
  it('a key not in authorized_keys → ssh.auth-failed naming node, user@host and the key file', async () => {
    const key = join(tmp, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const err = await failure(session(target(pg1, { identityFiles: [key] })));
    expect(err.code).toBe('ssh.auth-failed');
    expect(err.message).toContain(pg1.name);
    expect(err.message).toContain(`${pg1.osUser}@${pg1.host}`);
    expect(err.message).toContain(key);
  });

  it('an encrypted key: passphrase asked through secrets; without one → ssh.key-passphrase-needed', async () => {
    const key = join(tmp, 'encrypted');
    copyFileSync(lab.identityFile, key);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', 'open sesame', '-f', key]);
    const err = await failure(session(target(pg1, { identityFiles: [key] })));
    expect(err.code).toBe('ssh.key-passphrase-needed');
    expect(err.message).toContain(key);
    const asked: string[] = [];
    const s = await session(target(pg1, { identityFiles: [key] }), {
      secrets: { keyPassphrase: (f) => (asked.push(f), Promise.resolve('open sesame')) },
    });
    expect(asked).toEqual([key]);
    expect((await s.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('nothing listening → ssh.unreachable, quickly', async () => {
    const t0 = performance.now();
    const err = await failure(session(target(pg1, { node: 'ghost', host: '127.0.1.199' })));
    expect(err.code).toBe('ssh.unreachable');
    expect(err.message).toMatch(/ghost.*127\.0\.1\.199:22.*ECONNREFUSED/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a server that accepts and never speaks → ssh.timeout after readyTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((sock) => sockets.push(sock));
    await new Promise<void>((resolve) => server.listen(0, '127.0.1.198', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const t0 = performance.now();
      const err = await failure(session(target(pg1, { host: '127.0.1.198', port, readyTimeoutMs: 1500 })));
      const ms = performance.now() - t0;
      expect(err.code).toBe('ssh.timeout');
      expect(err.message).toContain('1500 ms');
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(2500);
      // The run's signal ends a hanging connect at once, with its own reason.
      const reason = new Error('stopped');
      const t1 = performance.now();
      const ac = new AbortController();
      setTimeout(() => ac.abort(reason), 200);
      await expect(session(target(pg1, { host: '127.0.1.198', port }), { signal: ac.signal })).rejects.toBe(
        reason,
      );
      expect(performance.now() - t1).toBeLessThan(600);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('pool: one good node, one unreachable: the good one works, the error is per node', async () => {
    const pool = new SessionPool();
    const res = await pool.connectAll([target(pg1), target(pg1, { node: 'ghost', host: '127.0.1.199' })], {
      hostKeys: 'reject',
    });
    expect(res.get(pg1.name)?.ok).toBe(true);
    expect(res.get('ghost')).toMatchObject({ ok: false, error: { code: 'ssh.unreachable' } });
    expect((await pool.get(pg1.name).exec('echo ok')).stdout).toBe('ok\n');
    expect(() => pool.get('ghost')).toThrow(/ghost/);
    await pool.closeAll();
  });

  it('ProxyJump: pg2 through pg1; the new connection goes to pg1, none from this process to pg2', async () => {
    const mine = (host: string): number =>
      execFileSync('ss', ['-tnpH', 'dst', `${host}:22`], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(`pid=${process.pid},`)).length;
    const [toPg1, toPg2] = [mine(pg1.host), mine(pg2.host)];
    const s = await session(target(pg2, { proxyJump: target(pg1) }));
    expect(s.hostKey.fingerprint).toBe(labFingerprint(pg2.host));
    expect((await s.exec('id -un')).stdout.trim()).toBe(pg2.osUser);
    expect([mine(pg1.host), mine(pg2.host)]).toEqual([toPg1 + 1, toPg2]);
    await s.close();
    expect(await s.closed).toBeUndefined();
    // Closing the session ends the jump connection too.
    await new Promise((r) => setTimeout(r, 200));
    expect(mine(pg1.host)).toBe(toPg1);
  });
});
