// Process plumbing for the lab: run commands (as root or as a node's OS user), bounded waits, pid files,
// stopping processes by pid. Never by name: other labs and the host's own daemons must not be touched.
import { chmod, chown, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface RunOptions {
  /** Extra environment; the base environment is minimal (HOME, USER, PATH, LANG), never root's. */
  env?: Record<string, string>;
  /** Written to stdin (secrets go here, never into argv). */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Run a command as root with a minimal environment; throws with the command's stderr on failure. */
export async function run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await execa(file, args, {
    env: { PATH: BASE_PATH, LANG: 'C.UTF-8', HOME: '/root', ...opts.env },
    extendEnv: false,
    input: opts.input ?? '',
    cwd: opts.cwd ?? '/',
    timeout: opts.timeoutMs ?? 60_000,
    stripFinalNewline: true,
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Run a command as `user` (uid/gid dropped by libuv, supplementary groups cleared), HOME set to its home. */
export async function runAs(
  user: OsUser,
  file: string,
  args: string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const r = await execa(file, args, {
    uid: user.uid,
    gid: user.gid,
    env: {
      HOME: user.home,
      USER: user.name,
      LOGNAME: user.name,
      PATH: `/usr/lib/postgresql/15/bin:${BASE_PATH}`,
      LANG: 'C.UTF-8',
      ...opts.env,
    },
    extendEnv: false,
    input: opts.input ?? '',
    cwd: opts.cwd ?? user.home,
    timeout: opts.timeoutMs ?? 60_000,
    stripFinalNewline: true,
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Write a file and give it to `user` (or keep it root's when user is undefined). */
export async function writeOwned(path: string, content: string, mode: number, user?: OsUser): Promise<void> {
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  if (user !== undefined) await chown(path, user.uid, user.gid);
}

/** mkdir -p, then give the last component to `user` with `mode`. */
export async function mkdirOwned(path: string, mode: number, user?: OsUser): Promise<void> {
  await mkdir(path, { recursive: true });
  await chmod(path, mode);
  if (user !== undefined) await chown(path, user.uid, user.gid);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Last `lines` lines of a log file, or a note that it cannot be read. */
export async function tail(path: string, lines = 25): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    const all = text.trimEnd().split('\n');
    return `--- ${path} (last ${Math.min(lines, all.length)} lines) ---\n${all.slice(-lines).join('\n')}`;
  } catch (e) {
    return `--- ${path}: ${(e as Error).message} ---`;
  }
}

export class LabError extends Error {}

/**
 * Poll `probe` until it returns a value other than undefined/false, at most `timeoutMs`.
 * On timeout throws a LabError naming `what`, the last probe error, and the given log tails.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number; logs?: string[] },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() >= deadline) break;
    await sleep(opts.intervalMs ?? 50);
  }
  const tails = await Promise.all((opts.logs ?? []).map((l) => tail(l)));
  throw new LabError(
    [
      `lab: timed out after ${opts.timeoutMs} ms waiting for ${what}`,
      lastError && `last error: ${lastError}`,
      ...tails,
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

/** Pid from a pid file: first line; tolerates pgpool's NUL terminator and a missing newline. */
export async function readPidFile(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const first = text.replace(/\0/g, '').split('\n')[0]?.trim() ?? '';
  return /^\d+$/.test(first) ? Number(first) : undefined;
}

export type ProcState = 'alive' | 'zombie' | 'gone';

/** A zombie counts as stopped: PID 1 here is not systemd and reaps orphans only every few seconds. */
export function procState(pid: number): ProcState {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X' ? 'zombie' : 'alive';
  } catch {
    return 'gone';
  }
}

export function isRunning(pid: number): boolean {
  return procState(pid) === 'alive';
}

/** Start time (clock ticks since boot) of a process: with the pid it identifies the process across pid reuse. */
export function procStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const field = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return field === undefined ? undefined : Number(field);
  } catch {
    return undefined;
  }
}

export async function procExe(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (from /proc/<pid>/task/<pid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** A process the lab started: pid plus start time, so a reused pid is never signalled. */
export interface TrackedPid {
  pid: number;
  start: number | undefined;
  what: string;
  /** Signal that stops it cleanly: SIGINT = PostgreSQL fast shutdown / pgpool fast stop. */
  signal: NodeJS.Signals;
}

export function track(pid: number, what: string, signal: NodeJS.Signals): TrackedPid {
  return { pid, start: procStartTime(pid), what, signal };
}

/** True while the tracked process (same pid and start time) runs and is not a zombie. */
export function trackedAlive(p: TrackedPid): boolean {
  if (procState(p.pid) !== 'alive') return false;
  return p.start === undefined || procStartTime(p.pid) === p.start;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Stop tracked processes: send each its signal, wait (bounded) for them to exit, SIGKILL what is left.
 * Returns the ones that needed SIGKILL.
 */
export async function stopTracked(pids: TrackedPid[], timeoutMs = 15_000): Promise<TrackedPid[]> {
  const live = pids.filter(trackedAlive);
  for (const p of live) signal(p.pid, p.signal);
  const deadline = Date.now() + timeoutMs;
  while (live.some(trackedAlive) && Date.now() < deadline) await sleep(20);
  const stubborn = live.filter(trackedAlive);
  for (const p of stubborn) signal(p.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (stubborn.some(trackedAlive) && Date.now() < killDeadline) await sleep(20);
  return stubborn;
}

/**
 * Like Promise.all, but waits for every task to settle before throwing the first error: a failed `up`
 * must not start tearing down while a sibling task is still starting processes.
 */
export async function allSettled<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Two different tasks, settled together (see allSettled). */
export async function bothSettled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}
