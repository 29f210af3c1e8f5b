// Reading and atomically replacing remote files, as any user: one remote command each (sudo'd
// when the user is not the SSH user). A write creates a temp file next to the target with mktemp
// (0600 from the first byte), fills it from stdin, chmods and renames it: content never on a
// command line, and the final step is a same-directory rename, so readers see the old file or the
// new one, never half. No SFTP: a write over SFTP costs a channel, a subsystem start (an
// sftp-server process on the node) and five request round trips where this costs one exec
// (docs/benchmarks.md), and hardened hosts often drop the sftp Subsystem anyway.
import { posix } from 'node:path';
import { RemoteError } from './errors.js';
import type { RawResult } from './exec.js';
import { shellQuote } from './shell.js';
import type { AsUserOptions } from './sudo.js';

export interface FileContext {
  node: string;
  runAs: (command: string, options: AsUserOptions) => Promise<RawResult>;
}

function fileError(
  ctx: FileContext,
  op: 'read' | 'write',
  path: string,
  detail: string,
  notFound: boolean,
): RemoteError {
  return new RemoteError(
    ctx.node,
    notFound ? 'remote.not-found' : op === 'read' ? 'remote.read-failed' : 'remote.write-failed',
    `${ctx.node}: cannot ${op} ${path}: ${detail}`,
  );
}

function firstLine(b: Buffer): string {
  return b.toString('utf8').trim().split('\n')[0] ?? '';
}

export async function readRemoteFile(
  ctx: FileContext,
  path: string,
  options: { asUser?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<Buffer> {
  const r = await ctx.runAs(`cat -- ${shellQuote(path)}`, { asUser: options.asUser, signal: options.signal });
  if (r.code === 0) return r.stdout;
  throw fileError(
    ctx,
    'read',
    path,
    firstLine(r.stderr),
    /No such file or directory/.test(r.stderr.toString()),
  );
}

export interface WriteOptions {
  owner: string;
  mode: number;
  signal?: AbortSignal | undefined;
}

function modeText(mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`bad file mode ${mode}`);
  return mode.toString(8).padStart(4, '0');
}

export async function writeRemoteFileAtomic(
  ctx: FileContext,
  path: string,
  content: string | Buffer,
  options: WriteOptions,
): Promise<void> {
  if (!posix.isAbsolute(path)) throw new RangeError(`remote path must be absolute: ${path}`);
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const mode = modeText(options.mode);
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  const script = [
    'set -e',
    'umask 077',
    `t=$(mktemp ${shellQuote(`${dir}/.${base}.pgharden-tmp-XXXXXX`)})`,
    `trap 'rm -f "$t"' EXIT`,
    'cat > "$t"',
    `chmod ${mode} "$t"`,
    `mv -f -T "$t" ${shellQuote(path)}`,
    'trap - EXIT',
  ].join('\n');
  const r = await ctx.runAs(script, { asUser: options.owner, stdin: data, signal: options.signal });
  if (r.code !== 0) {
    throw fileError(ctx, 'write', path, `${firstLine(r.stderr)} (as ${options.owner})`, false);
  }
}
