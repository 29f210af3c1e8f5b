// Backups on the node itself, next to the file (SPEC §7): `<file>.pgharden-<run-id>.bak`, same owner
// and mode. Each operation is one remote command, so a dropped connection leaves either the old
// state or the new one, never half a copy. Paths reach the command line only through shellQuote;
// file content never does (cp copies it on the node).
import { FailedError } from './errors.js';
import { shellQuote } from '../remote/shell.js';
import type { RemoteSession } from '../remote/types.js';

export interface BackupRecord {
  path: string;
  backup: string;
  /** sha256 of the original content ('' when the file did not exist). */
  sha256: string;
  /** Octal permission bits, e.g. 0o640. */
  mode: number;
  owner: string;
  /** false: the step created the file, so restoring means deleting it. */
  existed: boolean;
}

export function backupName(path: string, runId: string): string {
  return `${path}.pgharden-${runId}.bak`;
}

// Pairs of (file, backup). One line per pair: `absent` or `present OWNER MODE SHA256`. Exit 3 (after
// printing `clash FILE`): a different backup with that name exists (never overwrite one). Files
// before the clash are backed up and reported, so the caller still knows about them.
const BACKUP_SH = [
  'set -e',
  'while [ $# -ge 2 ]; do',
  '  f=$1; b=$2; shift 2',
  '  if [ ! -e "$f" ]; then echo absent; continue; fi',
  '  if [ -e "$b" ]; then cmp -s -- "$f" "$b" || { echo "clash $f"; exit 3; }; else cp -p -- "$f" "$b"; fi',
  '  echo "present $(stat -c "%U %a" -- "$f") $(sha256sum -- "$b" | cut -d " " -f 1)"',
  'done',
].join('\n');

// $1 file, $2 backup: copy to a temp name in the same directory, then rename over the file.
// A file that already is its backup (content, owner, mode: the step failed before changing it) is
// left alone: rewriting it gains nothing, and a file that cannot be replaced (immutable, read-only
// mount) would turn a clean rollback into a failed one. The temp file never outlives a failure.
const RESTORE_SH = [
  'set -e',
  'if cmp -s -- "$2" "$1" && [ "$(stat -c "%U %a" -- "$1")" = "$(stat -c "%U %a" -- "$2")" ]; then',
  '  sha256sum -- "$1"; exit 0',
  'fi',
  't=$(mktemp -- "$1.pgharden-restore.XXXXXX")',
  'trap \'rm -f -- "$t"\' EXIT',
  'cp -p -- "$2" "$t"',
  'mv -f -T -- "$t" "$1"',
  'trap - EXIT',
  'sha256sum -- "$1"',
].join('\n');

function sh(script: string, ...args: string[]): string {
  return ['sh', '-c', script, 'sh', ...args].map(shellQuote).join(' ');
}

function fail(session: RemoteSession, code: string, message: string, stderr: string): FailedError {
  const detail = stderr.trim().split('\n').slice(-1)[0] ?? '';
  return new FailedError(code, `${session.node}: ${message}${detail === '' ? '' : `: ${detail}`}`);
}

export async function backupFile(
  session: RemoteSession,
  path: string,
  options: { runId: string; asUser?: string | undefined; signal?: AbortSignal | undefined },
): Promise<BackupRecord> {
  const [record] = await backupFiles(session, [path], options);
  if (record === undefined)
    throw new FailedError('backup.bad-output', `${session.node}: no backup of ${path}`);
  return record;
}

/**
 * Backs up several files of one owner in one remote command (a round trip each would cost more
 * than the copies). `onRecord` sees each record as soon as it is known, also when a later file
 * fails, so the caller can journal every backup that exists.
 */
export async function backupFiles(
  session: RemoteSession,
  paths: readonly string[],
  options: {
    runId: string;
    asUser?: string | undefined;
    signal?: AbortSignal | undefined;
    onRecord?: ((record: BackupRecord) => Promise<void>) | undefined;
  },
): Promise<BackupRecord[]> {
  const pairs = paths.flatMap((p) => [p, backupName(p, options.runId)]);
  const r = await session.exec(sh(BACKUP_SH, ...pairs), opts(options.asUser, options.signal));
  const lines = r.stdout.split('\n').filter((l) => /^(absent|present |clash )/.test(l));
  const records: BackupRecord[] = [];
  for (const [i, line] of lines.entries()) {
    const path = paths[i];
    if (path === undefined || line.startsWith('clash ')) break;
    const record = parseBackupLine(session, path, backupName(path, options.runId), line, options.asUser);
    records.push(record);
    await options.onRecord?.(record);
  }
  if (r.code === 3) {
    const path = paths[records.length] ?? '?';
    throw new FailedError(
      'backup.exists',
      `${session.node}: ${backupName(path, options.runId)} already exists with other content`,
      'another run used this run id; move that file away or roll that run back first',
    );
  }
  if (r.code !== 0) {
    const path = paths[records.length] ?? paths[0] ?? '?';
    throw fail(session, 'backup.failed', `could not back up ${path}`, r.stderr);
  }
  if (records.length !== paths.length) {
    throw fail(session, 'backup.bad-output', `unexpected output backing up ${paths.join(', ')}`, r.stdout);
  }
  return records;
}

function parseBackupLine(
  session: RemoteSession,
  path: string,
  backup: string,
  line: string,
  asUser: string | undefined,
): BackupRecord {
  if (line === 'absent') return { path, backup, sha256: '', mode: 0, owner: asUser ?? '', existed: false };
  const [, owner, mode, sha256 = ''] = line.split(' ');
  if (owner === undefined || mode === undefined || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw fail(session, 'backup.bad-output', `unexpected output backing up ${path}`, line);
  }
  return { path, backup, sha256, mode: parseInt(mode, 8), owner, existed: true };
}

/** Puts the original back byte for byte (checked by sha256 on the node), or deletes a created file. */
export async function restoreFile(
  session: RemoteSession,
  record: BackupRecord,
  options: { asUser?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const asUser = options.asUser ?? (record.owner === '' ? undefined : record.owner);
  if (!record.existed) {
    const r = await session.exec(`rm -f -- ${shellQuote(record.path)}`, opts(asUser, options.signal));
    if (r.code !== 0) throw fail(session, 'restore.failed', `could not remove ${record.path}`, r.stderr);
    return;
  }
  const r = await session.exec(sh(RESTORE_SH, record.path, record.backup), opts(asUser, options.signal));
  if (r.code !== 0) throw fail(session, 'restore.failed', `could not restore ${record.path}`, r.stderr);
  const sum = r.stdout.trim().split('\n').at(-1)?.split(' ')[0];
  if (sum !== record.sha256) {
    throw new FailedError(
      'restore.mismatch',
      `${session.node}: ${record.path} does not match its backup after restoring (sha256 ${sum ?? '?'})`,
      `compare it with ${record.backup} by hand`,
    );
  }
}

export async function removeBackup(
  session: RemoteSession,
  record: BackupRecord,
  options: { asUser?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  if (!record.existed) return;
  const asUser = options.asUser ?? (record.owner === '' ? undefined : record.owner);
  const r = await session.exec(`rm -f -- ${shellQuote(record.backup)}`, opts(asUser, options.signal));
  if (r.code !== 0)
    throw fail(session, 'backup.remove-failed', `could not remove ${record.backup}`, r.stderr);
}

function opts(
  asUser: string | undefined,
  signal: AbortSignal | undefined,
): { asUser?: string; signal?: AbortSignal } {
  return { ...(asUser === undefined ? {} : { asUser }), ...(signal === undefined ? {} : { signal }) };
}
