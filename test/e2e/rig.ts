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
