// The host-key rules of a reconnect, with connectNode faked: no SSH here (the fault matrix in
// test/e2e reconnects for real).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostKeyInfo, RemoteSession, UnknownHostKeyPolicy } from '../remote/types.js';
import type { ConnectOptions } from './audit-run.js';
import type { Inventory, InventoryNode } from './inventory-schema.js';

const calls: ConnectOptions[] = [];
let offered: HostKeyInfo;
let closed = 0;

vi.mock('./audit-run.js', () => ({
  connectNode: (_inv: Inventory, _node: InventoryNode, options: ConnectOptions) => {
    calls.push(options);
    return Promise.resolve({
      node: 'pg3',
      hostKey: offered,
      close: () => {
        closed++;
        return Promise.resolve();
      },
    } as unknown as RemoteSession);
  },
}));

const { reconnector } = await import('./reconnect.js');

const key = (fingerprint: string, keyType = 'ssh-ed25519'): HostKeyInfo => ({
  node: 'pg3',
  host: '127.0.1.153',
  port: 22,
  keyType,
  fingerprint,
});
const first = { node: 'pg3', hostKey: key('SHA256:first') } as unknown as RemoteSession;
const inventory = {} as Inventory;
const node = { name: 'pg3' } as InventoryNode;

beforeEach(() => {
  calls.length = 0;
  closed = 0;
});

describe('reconnector', () => {
  it('connects with the same options, and an unknown key is taken only if it is the one seen first', async () => {
    offered = key('SHA256:first');
    const opened: RemoteSession[] = [];
    const s = await reconnector(inventory, node, first, { hostKeys: 'accept-and-save' }, (x) =>
      opened.push(x),
    )();
    expect(opened).toEqual([s]);
    const policy = calls[0]?.hostKeys as Exclude<UnknownHostKeyPolicy, string>;
    expect(typeof policy).toBe('function'); // never 'accept-and-save' in the middle of a rollback
    expect(await policy(key('SHA256:first'))).toBe('accept-once');
    expect(await policy(key('SHA256:other'))).toBe('reject');
  });

  it('refuses a host that now presents another key known_hosts happens to accept', async () => {
    offered = key('SHA256:other', 'ecdsa-sha2-nistp256');
    const opened: RemoteSession[] = [];
    await expect(
      reconnector(inventory, node, first, { hostKeys: 'reject' }, (x) => opened.push(x))(),
    ).rejects.toMatchObject({ code: 'ssh.host-key-changed' });
    expect(closed).toBe(1);
  });
});
