// One connection per node for the whole run, opened in parallel. A node that cannot be reached gets
// its own error; it never hides the others (allSettled, not all).
import { toPghardenError, type PghardenError } from '../core/errors.js';
import { RemoteError } from './errors.js';
import { connect as sshConnect, type ConnectOptions } from './session.js';
import type { RemoteSession, SshTarget } from './types.js';

export type PoolEntry =
  { node: string; ok: true; session: RemoteSession } | { node: string; ok: false; error: PghardenError };

export type Connector = (target: SshTarget, options: ConnectOptions) => Promise<RemoteSession>;

export class SessionPool {
  readonly #entries = new Map<string, PoolEntry>();
  readonly #connect: Connector;

  constructor(connect: Connector = sshConnect) {
    this.#connect = connect;
  }

  /** Connects every target not yet connected; resolves per node, never rejects for one node's failure. */
  async connectAll(targets: readonly SshTarget[], options: ConnectOptions): Promise<Map<string, PoolEntry>> {
    const results = await Promise.allSettled(
      targets.map(async (t) => {
        const existing = this.#entries.get(t.node);
        if (existing?.ok === true) return existing.session;
        return this.#connect(t, options);
      }),
    );
    const out = new Map<string, PoolEntry>();
    results.forEach((r, i) => {
      const node = targets[i]?.node ?? `#${i}`;
      const entry: PoolEntry =
        r.status === 'fulfilled'
          ? { node, ok: true, session: r.value }
          : { node, ok: false, error: toPghardenError(r.reason) };
      this.#entries.set(node, entry);
      out.set(node, entry);
    });
    return out;
  }

  /** The node's session; throws the node's connect error (or ssh.closed) when there is none. */
  get(node: string): RemoteSession {
    const entry = this.#entries.get(node);
    if (entry === undefined) {
      throw new RemoteError(node, 'ssh.closed', `${node}: no SSH session (not connected in this run)`);
    }
    if (!entry.ok) throw entry.error;
    return entry.session;
  }

  entries(): PoolEntry[] {
    return [...this.#entries.values()];
  }

  async closeAll(): Promise<void> {
    const sessions = this.entries().flatMap((e) => (e.ok ? [e.session] : []));
    this.#entries.clear();
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
}
