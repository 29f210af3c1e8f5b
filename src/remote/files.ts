// Reading and atomically replacing remote files. As the SSH user: SFTP (temp file created 0600,
// chmod, posix-rename). As another user: one sudo'd sh that creates the temp file next to the target
// with mktemp, fills it from stdin, chmods and renames it — content never on a command line, and the
// final step is a same-directory rename, so readers see the old file or the new one, never half.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { PghardenError } from '../core/errors.js';
import { RemoteError } from './errors.js';
import type { RawResult } from './exec.js';
import { shellQuote } from './shell.js';
import type { AsUserOptions } from './sudo.js';

export interface FileContext {
  node: string;
  sshUser: string;
  /** Set once the node refused the sftp subsystem: the exec path is used from then on. */
  sftpUnavailable: boolean;
  /** Runs fn on an SFTP channel that holds one MaxSessions slot while it is open. */
  withSftp: <T>(fn: (sftp: SFTPWrapper) => Promise<T>, signal?: AbortSignal) => Promise<T>;
  runAs: (command: string, options: AsUserOptions) => Promise<RawResult>;
}

const SFTP_NO_SUCH_FILE = 2;
const CHUNK = 32 * 1024;

function call<T = void>(fn: (cb: (err: Error | undefined | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(err) : resolve(value)));
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

function fileError(
  ctx: FileContext,
  op: 'read' | 'write',
  path: string,
  detail: string,
  notFound: boolean,
  cause?: unknown,
): RemoteError {
  return new RemoteError(
    ctx.node,
    notFound ? 'remote.not-found' : op === 'read' ? 'remote.read-failed' : 'remote.write-failed',
    `${ctx.node}: cannot ${op} ${path}: ${detail}`,
    undefined,
    { cause },
  );
}

function sftpError(ctx: FileContext, op: 'read' | 'write', path: string, err: unknown): unknown {
  if (PghardenError.is(err)) return err;
  const e = err as Error & { code?: unknown };
  return fileError(ctx, op, path, e.message, op === 'read' && e.code === SFTP_NO_SUCH_FILE, err);
}

/** Hardened hosts often drop the sftp Subsystem: note it and fall back to exec (`cat`, sh). */
function noSftp(ctx: FileContext, err: unknown): boolean {
  const cause = PghardenError.is(err) ? err.cause : err;
  if (!(cause instanceof Error) || !/Unable to start subsystem/.test(cause.message)) return false;
  ctx.sftpUnavailable = true;
  return true;
}

function firstLine(b: Buffer): string {
  return b.toString('utf8').trim().split('\n')[0] ?? '';
}

export async function readRemoteFile(
  ctx: FileContext,
  path: string,
  options: { asUser?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<Buffer> {
  if ((options.asUser === undefined || options.asUser === ctx.sshUser) && !ctx.sftpUnavailable) {
    try {
      return await ctx.withSftp((sftp) => call<Buffer>((cb) => sftp.readFile(path, cb)), options.signal);
    } catch (err) {
      if (!noSftp(ctx, err)) throw sftpError(ctx, 'read', path, err);
    }
  }
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
  if (options.owner === ctx.sshUser && !ctx.sftpUnavailable) {
    try {
      await sftpWrite(ctx, path, data, options.mode, options.signal);
      return;
    } catch (err) {
      if (!noSftp(ctx, err)) throw err;
    }
  }
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

async function sftpWrite(
  ctx: FileContext,
  path: string,
  data: Buffer,
  mode: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tmp = posix.join(
    posix.dirname(path),
    `.${posix.basename(path)}.pgharden-tmp-${randomBytes(6).toString('hex')}`,
  );
  try {
    await ctx.withSftp(async (sftp) => {
      let created = false;
      try {
        // 'wx': O_CREAT|O_EXCL, created 0600 from the first byte; the final mode comes after the content.
        const handle = await call<Buffer>((cb) => sftp.open(tmp, 'wx', { mode: 0o600 }, cb));
        created = true;
        try {
          for (let off = 0; off < data.length; off += CHUNK) {
            signal?.throwIfAborted();
            const len = Math.min(CHUNK, data.length - off);
            await call((cb) => sftp.write(handle, data, off, len, off, cb));
          }
          await call((cb) => sftp.fchmod(handle, mode, cb));
        } finally {
          await call((cb) => sftp.close(handle, cb)).catch(() => undefined);
        }
        signal?.throwIfAborted();
        await call((cb) => sftp.ext_openssh_rename(tmp, path, cb));
        created = false;
      } finally {
        if (created) await call((cb) => sftp.unlink(tmp, cb)).catch(() => undefined);
      }
    }, signal);
  } catch (err) {
    if (signal?.aborted === true && err === signal.reason) throw err;
    throw sftpError(ctx, 'write', path, err);
  }
}
