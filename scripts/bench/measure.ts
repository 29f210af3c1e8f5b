// Run one process and measure it: wall time (spawn to exit, from this process) and peak RSS.
// Peak RSS comes from GNU time (`/usr/bin/time -f %M`, which reports the largest single process of the tree
// it waited for); if GNU time is missing and cannot be installed, /proc/<pid>/status VmHWM is polled instead.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';

const GNU_TIME = '/usr/bin/time';

export type RssSource = 'gnu-time' | 'vmhwm-poll';

/** GNU time if present; else try `apt-get install -y time` (root only); else fall back to polling VmHWM. */
export async function ensureRssSource(log: (line: string) => void): Promise<RssSource> {
  if (existsSync(GNU_TIME)) return 'gnu-time';
  if (process.getuid?.() === 0) {
    log('bench: /usr/bin/time missing, installing the `time` package');
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): Promise<unknown> =>
      execa('apt-get', ['install', '-y', 'time'], { env, reject: false, timeout: 300_000 });
    await install();
    if (!existsSync(GNU_TIME)) {
      await execa('apt-get', ['update'], { env, reject: false, timeout: 300_000 });
      await install();
    }
    if (existsSync(GNU_TIME)) return 'gnu-time';
  }
  log('bench: no GNU time; peak RSS is polled from /proc/<pid>/status VmHWM (may miss a late peak)');
  return 'vmhwm-poll';
}

export interface ProcessSample {
  wallMs: number;
  /** Peak resident set size in KiB; undefined when it could not be read. */
  rssKb: number | undefined;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Date.now() right before the spawn (to line up with timestamps the process prints). */
  spawnedAt: number;
}

export interface RunSpec {
  file: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

async function vmHwmKb(pid: number): Promise<number | undefined> {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** GNU time writes "Command exited with non-zero status N" before the format line: take the last number. */
function parseTimeOutput(text: string): number | undefined {
  const last = text.trim().split('\n').pop()?.trim() ?? '';
  return /^\d+$/.test(last) ? Number(last) : undefined;
}

export async function timeProcess(spec: RunSpec, rss: RssSource, scratch: string): Promise<ProcessSample> {
  const timeFile = `${scratch}.time`;
  const [file, args] =
    rss === 'gnu-time'
      ? [GNU_TIME, ['-o', timeFile, '-f', '%M', spec.file, ...spec.args]]
      : [spec.file, spec.args];
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const child = execa(file, args, {
    reject: false,
    ...(spec.env !== undefined ? { env: spec.env } : {}),
    cwd: spec.cwd ?? process.cwd(),
    timeout: spec.timeoutMs ?? 120_000,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  let polled: number | undefined;
  let poller: NodeJS.Timeout | undefined;
  if (rss === 'vmhwm-poll' && child.pid !== undefined) {
    const pid = child.pid;
    poller = setInterval(() => {
      void vmHwmKb(pid).then((kb) => {
        if (kb !== undefined) polled = Math.max(polled ?? 0, kb);
      });
    }, 5);
  }
  const r = await child;
  const wallMs = performance.now() - t0;
  if (poller !== undefined) clearInterval(poller);
  let rssKb = polled;
  if (rss === 'gnu-time') {
    rssKb = parseTimeOutput(await readFile(timeFile, 'utf8').catch(() => ''));
    await rm(timeFile, { force: true });
  }
  if (r.timedOut) throw new Error(`bench: ${spec.file} ${spec.args.join(' ')} timed out`);
  return {
    wallMs,
    rssKb,
    exitCode: r.exitCode ?? -1,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    spawnedAt,
  };
}
