// A fresh SSH session for a node whose connection dropped mid-run, so the runner can still roll that
// node back (runner.ts, NodePlan.reconnect) instead of leaving it to `rollback RUN_ID`. It connects
// exactly as preflight did (connectNode: same target, secrets and known_hosts) and the host must
// present the very key preflight verified: a key known_hosts calls changed or revoked is refused as
// always, and a different key that known_hosts happens to accept (another key type) is refused too.
import { RemoteError } from '../remote/errors.js';
import type { RemoteSession } from '../remote/types.js';
import { connectNode, type ConnectOptions } from './audit-run.js';
import type { Inventory, InventoryNode } from './inventory-schema.js';

export function reconnector(
  inventory: Inventory,
  node: InventoryNode,
  first: RemoteSession,
  options: ConnectOptions,
  /** Every session opened here, so the caller closes it with the others. */
  opened: (session: RemoteSession) => void,
): () => Promise<RemoteSession> {
  const seen = first.hostKey;
  return async () => {
    const session = await connectNode(inventory, node, {
      ...options,
      // An unknown key here was accepted once in preflight (or not saved): the same key only,
      // never a prompt in the middle of a rollback.
      hostKeys: (info) => Promise.resolve(info.fingerprint === seen.fingerprint ? 'accept-once' : 'reject'),
    });
    opened(session);
    if (session.hostKey.fingerprint !== seen.fingerprint) {
      await session.close();
      throw new RemoteError(
        node.name,
        'ssh.host-key-changed',
        `${node.name}: on reconnecting, ${seen.host}:${seen.port} offered ${session.hostKey.keyType} ${session.hostKey.fingerprint}, not the ${seen.keyType} ${seen.fingerprint} verified at the start of the run`,
        'someone may be intercepting the connection; check the host, then run `pgharden rollback RUN_ID`',
      );
    }
    return session;
  };
}
