import { describe, expect, it } from 'vitest';
import { RemoteError } from './errors.js';
import { SessionPool } from './pool.js';
import type { RemoteSession, SshTarget } from './types.js';

const target = (node: string): SshTarget => ({
  node,
  host: `10.0.0.${node.length}`,
  port: 22,
  user: 'u',
  identityFiles: [],
  knownHostsPath: '/dev/null',
  readyTimeoutMs: 1000,
});

function fakeSession(node: string, closed: string[]): RemoteSession {
  return {
    node,
    target: target(node),
    hostKey: { node, host: 'h', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:x' },
    exec: () => Promise.resolve({ code: 0, stdout: node, stderr: '' }),
    readFile: () => Promise.resolve(Buffer.alloc(0)),
    writeFileAtomic: () => Promise.resolve(),
    close: () => {
      closed.push(node);
      return Promise.resolve();
    },
    closed: new Promise(() => undefined),
  };
}

describe('SessionPool', () => {
  it('connects in parallel; one unreachable node does not hide the others', async () => {
    const closed: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const pool = new SessionPool(async (t) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      if (t.node === 'pg2') throw new RemoteError('pg2', 'ssh.unreachable', 'pg2: cannot reach');
      return fakeSession(t.node, closed);
    });
    const res = await pool.connectAll([target('pg1'), target('pg2'), target('pg3')], { hostKeys: 'reject' });
    expect(maxInFlight).toBe(3);
    expect([...res.values()].map((e) => [e.node, e.ok])).toEqual([
      ['pg1', true],
      ['pg2', false],
      ['pg3', true],
    ]);
    expect(res.get('pg2')).toMatchObject({ ok: false, error: { code: 'ssh.unreachable' } });
    expect((await pool.get('pg3').exec('x')).stdout).toBe('pg3');
    expect(() => pool.get('pg2')).toThrow('pg2: cannot reach');
    expect(() => pool.get('nope')).toThrow(/not connected/);
    await pool.closeAll();
    expect(closed.sort()).toEqual(['pg1', 'pg3']);
  });

  it('keeps one connection per node: a second connectAll reuses it', async () => {
    let connects = 0;
    const pool = new SessionPool((t) => {
      connects++;
      return Promise.resolve(fakeSession(t.node, []));
    });
    await pool.connectAll([target('pg1')], { hostKeys: 'reject' });
    await pool.connectAll([target('pg1')], { hostKeys: 'reject' });
    expect(connects).toBe(1);
  });

  it('a non-pgharden error becomes a PghardenError', async () => {
    const pool = new SessionPool(() => Promise.reject(new Error('boom')));
    const res = await pool.connectAll([target('pg1')], { hostKeys: 'reject' });
    expect(res.get('pg1')).toMatchObject({ ok: false, error: { message: 'boom', exitCode: 1 } });
  });
});
