// Drive the real, bundled CLI the way an operator's script does: a child process, no TTY, CI=true.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export const BIN = join(import.meta.dirname, '..', '..', 'dist', 'pgharden.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const started = performance.now();
  const r = await execa('node', [BIN, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { CI: 'true', NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  return {
    code: r.exitCode ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    ms: performance.now() - started,
  };
}

export interface JsonEvent {
  type: string;
  [key: string]: unknown;
}

export function jsonEvents(stdout: string): JsonEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonEvent);
}

/** sha256 of each file, read directly (the lab runs on this machine): proof that nothing changed. */
export async function checksums(paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    out[p] = createHash('sha256')
      .update(await readFile(p).catch(() => Buffer.from('<missing>')))
      .digest('hex');
  }
  return out;
}

/**
 * Runs the CLI with PGHARDEN_TEST_PAUSE_AT=`pauseAt` (node:step): when the run reports that it paused
 * there, `atPause` makes the fault, then SIGUSR2 lets the run go on into it (SIGKILL if the fault
 * could not be made: that rejects here). `onEvent` sees every JSON event as it arrives.
 */
export async function runPausedAt(
  args: string[],
  pauseAt: string,
  atPause: () => Promise<void>,
  options: {
    timeoutMs?: number;
    onEvent?: (e: JsonEvent, kill: (signal: NodeJS.Signals) => void) => void;
  } = {},
): Promise<CliRun> {
  const started = performance.now();
  const child = execa('node', [BIN, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { CI: 'true', NO_COLOR: '1', PGHARDEN_TEST_PAUSE_AT: pauseAt },
    timeout: options.timeoutMs ?? 90_000,
  });
  let injected: Promise<void> | undefined;
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const e = JSON.parse(line) as JsonEvent;
      options.onEvent?.(e, (signal) => child.kill(signal));
      if (e.type !== 'test:paused' || injected !== undefined) continue;
      injected = atPause().then(() => void child.kill('SIGUSR2'));
      injected.catch(() => child.kill('SIGKILL'));
    }
  });
  const r = await child;
  await injected; // a fault that could not be made fails the caller here
  return {
    code: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    ms: performance.now() - started,
  };
}
