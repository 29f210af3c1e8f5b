// The run journal (SPEC §10): JSONL at <stateDir>/runs/<run-id>/journal.jsonl. Every record is
// written and fsync'ed before the action it announces, so after a crash or a dropped connection
// the journal says at least as much as happened on the nodes. Never a secret: the guard refuses.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupRecord } from './backup.js';
import { BugError, UsageError } from './errors.js';

export type JournalType =
  | 'run:meta'
  | 'run:begin'
  | 'run:resumed'
  | 'step:begin'
  | 'step:skipped'
  | 'backup:begin'
  | 'backup'
  | 'step:apply'
  | 'step:applied'
  | 'step:done'
  | 'step:failed'
  | 'undo:begin'
  | 'restore'
  | 'undo:done'
  | 'undo:failed'
  | 'rollback:begin'
  | 'rollback:done'
  | 'rollback:failed'
  | 'run:done';

export interface JournalInput {
  type: JournalType;
  node?: string | undefined;
  step?: string | undefined;
  /** On `backup` and `restore` records. */
  backup?: BackupRecord | undefined;
  /** On `backup:begin`: the file about to be copied. */
  path?: string | undefined;
  error?: { code: string; message: string } | undefined;
  [extra: string]: unknown;
}

export interface JournalRecord extends JournalInput {
  ts: string;
}

/** Sortable by time: 20261123T142500Z-1a2b3c. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function runDir(stateDir: string, runId: string): string {
  if (!RUN_ID.test(runId))
    throw new UsageError(
      'run.bad-id',
      `"${runId}" is not a run id`,
      'run ids look like 20261123T142500Z-1a2b3c',
    );
  return join(stateDir, 'runs', runId);
}

export class Journal {
  readonly runId: string;
  readonly path: string;
  readonly #file: FileHandle;
  readonly #secrets: string[];
  // Nodes run in parallel: appends are chained so lines never interleave and order is kept.
  #tail: Promise<void> = Promise.resolve();

  private constructor(runId: string, path: string, file: FileHandle, secrets: Iterable<string>) {
    this.runId = runId;
    this.path = path;
    this.#file = file;
    // Also the JSON-escaped form: that is how a secret with a quote or backslash would appear.
    this.#secrets = [...secrets].filter((s) => s !== '').flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  }

  /** Creates (or, for rollback/resume, appends to) the journal of `runId`. */
  static async open(stateDir: string, runId: string, secrets: Iterable<string> = []): Promise<Journal> {
    const dir = runDir(stateDir, runId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, 'journal.jsonl');
    const file = await open(path, 'a', 0o600);
    return new Journal(runId, path, file, secrets);
  }

  /** Resolves once the record is on disk; only then may the caller do what it announces. */
  write(record: JournalInput): Promise<void> {
    const line = `${JSON.stringify({ ts: new Date().toISOString(), ...record })}\n`;
    if (this.#secrets.some((s) => line.includes(s))) {
      return Promise.reject(
        new BugError('journal.secret', `refused to journal a ${record.type} record that contains a secret`),
      );
    }
    const next = this.#tail.then(async () => {
      await this.#file.appendFile(line, 'utf8');
      await this.#file.sync();
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#tail;
    await this.#file.close();
  }
}

export interface NodeRunState {
  /** Steps applied and verified, in order. */
  done: string[];
  /** Steps already undone (by a rollback). */
  undone: string[];
  /** A step that began but neither finished nor failed cleanly: the process or connection died. */
  inFlight: string | undefined;
  /** A step that failed. */
  failed: string | undefined;
  /** Every backup taken, in order, with the step it belongs to. */
  backups: (BackupRecord & { step: string })[];
}

export interface RunState {
  runId: string;
  records: JournalRecord[];
  nodes: Record<string, NodeRunState>;
  finished: boolean;
  rolledBack: boolean;
}

export async function readJournal(stateDir: string, runId: string): Promise<RunState> {
  const path = join(runDir(stateDir, runId), 'journal.jsonl');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      'run.unknown',
      `no journal for run ${runId} at ${path}`,
      'list runs under the state dir',
      {
        cause: err,
      },
    );
  }
  // A crash mid-append can leave a torn last line: everything before it still counts.
  const records = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as JournalRecord];
      } catch {
        return [];
      }
    });
  const nodes: Record<string, NodeRunState> = {};
  const of = (node: string): NodeRunState =>
    (nodes[node] ??= { done: [], undone: [], inFlight: undefined, failed: undefined, backups: [] });
  let finished = false;
  let rolledBack = false;
  for (const r of records) {
    if (r.type === 'run:done') finished = true;
    if (r.type === 'rollback:done' && r.node === undefined) rolledBack = true;
    if (r.node === undefined || r.step === undefined) continue;
    const n = of(r.node);
    if (r.type === 'step:begin') n.inFlight = r.step;
    else if (r.type === 'backup' && r.backup !== undefined) n.backups.push({ ...r.backup, step: r.step });
    else if (r.type === 'step:done') {
      n.done.push(r.step);
      n.inFlight = undefined;
    } else if (r.type === 'step:failed') {
      n.failed = r.step;
      n.inFlight = undefined;
    } else if (r.type === 'step:skipped') n.inFlight = undefined;
    else if (r.type === 'undo:done') n.undone.push(r.step);
  }
  return { runId, records, nodes, finished, rolledBack };
}
