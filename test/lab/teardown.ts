// Finding and stopping the lab's processes — by pid only (recorded pids and the lab's own pid files,
// each checked against the binary it must be), never by process name.
import { readdir } from 'node:fs/promises';
import { variantRoot } from './paths.js';
import {
  childPids,
  procExe,
  readPidFile,
  stopTracked,
  track,
  trackedAlive,
  type TrackedPid,
} from './proc.js';
import { readLabState, readStarted, type LabState } from './state.js';
import type { LabVariant } from './types.js';

interface PidFileSpec {
  path: string;
  what: string;
  exe: string;
  signal: NodeJS.Signals;
}

const SSHD = '/usr/sbin/sshd';
const POSTGRES = '/usr/lib/postgresql/15/bin/postgres';
const PG_AUTOCTL = '/usr/bin/pg_autoctl';
const PGPOOL = '/usr/sbin/pgpool';

/** Every pid file a lab host directory may hold. */
function pidFilesIn(home: string, name: string): PidFileSpec[] {
  return [
    { path: `${home}/run/pgpool.pid`, what: `pgpool ${name}`, exe: PGPOOL, signal: 'SIGINT' },
    { path: `${home}/pg_autoctl.pid`, what: `pg_autoctl ${name}`, exe: PG_AUTOCTL, signal: 'SIGTERM' },
    // pg_autoctl's own pid file (under XDG_RUNTIME_DIR = the socket dir): found even if it was restarted.
    {
      path: `${home}/run/pg_autoctl${home}/data/pg_autoctl.pid`,
      what: `pg_autoctl ${name}`,
      exe: PG_AUTOCTL,
      signal: 'SIGTERM',
    },
    { path: `${home}/data/postmaster.pid`, what: `postgres ${name}`, exe: POSTGRES, signal: 'SIGINT' },
    { path: `${home}/sshd/sshd.pid`, what: `sshd ${name}`, exe: SSHD, signal: 'SIGTERM' },
  ];
}

/** The pid in `spec.path` if it names a live process running the expected binary. */
async function livePid(spec: PidFileSpec): Promise<TrackedPid | undefined> {
  const pid = await readPidFile(spec.path);
  if (pid === undefined) return undefined;
  const exe = await procExe(pid);
  if (exe === undefined || !exe.startsWith(spec.exe)) return undefined;
  const t = track(pid, spec.what, spec.signal);
  return trackedAlive(t) ? t : undefined;
}

async function hostDirs(variant: LabVariant): Promise<string[]> {
  const root = variantRoot(variant);
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && e.name !== 'operator' && e.name !== 'authorized_keys')
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** Live processes named by the pid files under the variant's root (optionally without sshd). */
export async function currentPids(
  variant: LabVariant,
  opts: { includeSshd?: boolean } = {},
): Promise<TrackedPid[]> {
  const root = variantRoot(variant);
  const specs = (await hostDirs(variant))
    .flatMap((d) => pidFilesIn(`${root}/${d}`, d))
    .filter((s) => opts.includeSshd === true || s.exe !== SSHD);
  const found = await Promise.all(specs.map(livePid));
  return found.filter((p): p is TrackedPid => p !== undefined);
}

/** What a running lab must have alive: each host's sshd, each node's postmaster, pg_autoctl, pgpool. */
export async function expectedAlive(state: LabState): Promise<boolean> {
  const specs: PidFileSpec[] = [];
  for (const n of state.nodes) {
    specs.push({ path: n.sshdPidFile, what: `sshd ${n.name}`, exe: SSHD, signal: 'SIGTERM' });
    specs.push({
      path: `${n.dataDir}/postmaster.pid`,
      what: `postgres ${n.name}`,
      exe: POSTGRES,
      signal: 'SIGINT',
    });
    if (state.variant === 'pg_auto_failover') {
      specs.push({
        path: `${n.home}/pg_autoctl.pid`,
        what: `pg_autoctl ${n.name}`,
        exe: PG_AUTOCTL,
        signal: 'SIGTERM',
      });
    }
  }
  for (const p of state.poolers) {
    specs.push({ path: p.sshdPidFile, what: `sshd ${p.name}`, exe: SSHD, signal: 'SIGTERM' });
    specs.push({ path: p.pidFile, what: `pgpool ${p.name}`, exe: PGPOOL, signal: 'SIGINT' });
  }
  const found = await Promise.all(specs.map(livePid));
  return found.every((p) => p !== undefined);
}

function phaseOf(p: TrackedPid): number {
  if (p.what.startsWith('pgpool') || p.what.startsWith('pg_autoctl')) return 0;
  if (p.what.startsWith('postgres')) return 1;
  return 2;
}

/**
 * Everything to stop, in phases: poolers and pg_autoctl first (pg_autoctl would restart a PostgreSQL
 * stopped under it), then PostgreSQL, then sshd with its session processes. Plus addresses to remove.
 */
export async function collectPids(
  variant: LabVariant,
): Promise<{ phases: TrackedPid[][]; addresses: string[] }> {
  const state = await readLabState(variant);
  const started = await readStarted(variant);
  const all = new Map<number, TrackedPid>();
  for (const p of [...(state?.pids ?? []), ...(started?.pids ?? [])]) {
    if (trackedAlive(p)) all.set(p.pid, p);
  }
  for (const p of await currentPids(variant, { includeSshd: true })) {
    if (!all.has(p.pid)) all.set(p.pid, p);
  }
  const phases: TrackedPid[][] = [[], [], []];
  for (const p of all.values()) phases[phaseOf(p)]?.push(p);
  const addresses = [...new Set([...(state?.addresses ?? []), ...(started?.addresses ?? [])])];
  return { phases, addresses };
}

/** Stop phase by phase; an sshd's live sessions (its direct children) are stopped with it. */
export async function stopAll(phases: TrackedPid[][]): Promise<void> {
  for (const phase of phases) {
    const withSessions = phase.flatMap((p) =>
      p.what.startsWith('sshd') && trackedAlive(p)
        ? [p, ...childPids(p.pid).map((c) => track(c, `${p.what} session`, 'SIGTERM'))]
        : [p],
    );
    await stopTracked(withSessions);
  }
}
