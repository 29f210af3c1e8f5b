// One run per cluster at a time, on this machine: an O_EXCL lock file in the state dir (the
// advisory-lock habit of node-pg-migrate, without a database to hold it). A lock whose pid is gone
// on this host is stale and taken over. A node-side lock (for two operators on two machines) is a
// follow-up.
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './errors.js';

export interface LockHolder {
  pid: number;
  runId: string;
  host: string;
  since: string;
}

export interface RunLock {
  readonly path: string;
  release(): Promise<void>;
}

export function lockPath(stateDir: string, cluster: string): string {
  return join(stateDir, 'locks', `${encodeURIComponent(cluster)}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderOf(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

export async function acquireRunLock(
  stateDir: string,
  cluster: string,
  runId: string,
  options: { pid?: number; host?: string } = {},
): Promise<RunLock> {
  const path = lockPath(stateDir, cluster);
  await mkdir(join(stateDir, 'locks'), { recursive: true, mode: 0o700 });
  const me: LockHolder = {
    pid: options.pid ?? process.pid,
    runId,
    host: options.host ?? hostname(),
    since: new Date().toISOString(),
  };
  // Two tries: the second after removing a stale lock (another process may win that race: fine).
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      try {
        await file.writeFile(`${JSON.stringify(me)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      return {
        path,
        release: async () => {
          const h = await holderOf(path);
          if (h?.runId === runId) await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const h = await holderOf(path);
      // Stale only when we can tell: same host, and that pid is gone. A half-written lock (no
      // holder yet) is someone else in the middle of taking it.
      const stale = h !== undefined && h.host === me.host && !alive(h.pid);
      if (stale && attempt === 0) {
        await rm(path, { force: true });
        continue;
      }
      throw lockedError(cluster, path, h, me.host);
    }
  }
  throw new UsageError('run.locked', `cluster ${cluster} is locked (${path})`);
}

function lockedError(cluster: string, path: string, h: LockHolder | undefined, host: string): UsageError {
  return new UsageError(
    'run.locked',
    h === undefined
      ? `cluster ${cluster} is locked by another run (${path})`
      : `cluster ${cluster} is locked by run ${h.runId} (pid ${h.pid} on ${h.host}, since ${h.since})`,
    h !== undefined && h.host !== host
      ? `wait for it, or remove ${path} once you are sure that run is gone`
      : 'wait for that run to finish',
  );
}

/**
 * Refuses (run.locked) when another live run holds the cluster's lock; a stale lock is no obstacle.
 * Read-only: a check before connecting (the wizard's resume), the lock itself is taken by the run.
 */
export async function assertRunUnlocked(
  stateDir: string,
  cluster: string,
  options: { host?: string } = {},
): Promise<void> {
  const path = lockPath(stateDir, cluster);
  const host = options.host ?? hostname();
  let held: boolean;
  try {
    await stat(path);
    held = true;
  } catch {
    held = false;
  }
  if (!held) return;
  const h = await holderOf(path);
  if (h !== undefined && h.host === host && !alive(h.pid)) return;
  throw lockedError(cluster, path, h, host);
}
