// The engine against the real lab: backups on the node, a failing step rolled back byte for byte,
// and a connection killed mid-step. Only pg1's pg_hba.conf is touched (a comment appended), and
// afterAll puts the original bytes back whatever happened.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { backupFile, removeBackup, restoreFile } from '../../src/core/backup.js';
import type { EngineEvent } from '../../src/core/events.js';
import { Journal, newRunId, readJournal } from '../../src/core/journal.js';
import { rollbackRun, runPlan, type NodePlan } from '../../src/core/runner.js';
import { defineStep, emptyPlan, type Step } from '../../src/core/step.js';
import { psqlQueries, type PgConnection } from '../../src/remote/psql.js';
import { connect } from '../../src/remote/session.js';
import { resolveTarget } from '../../src/remote/ssh-config.js';
import type { RemoteSession } from '../../src/remote/types.js';

let lab: Lab;
let pg1: LabNode;
let hba: string;
let original: Buffer;
let stat: string;
let state: string;
const open: RemoteSession[] = [];
const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

async function session(): Promise<RemoteSession> {
  const t = resolveTarget(
    {
      node: pg1.name,
      host: pg1.host,
      user: pg1.osUser,
      identityFile: lab.identityFile,
      knownHosts: lab.knownHostsPath,
    },
    { configText: '' },
  );
  const s = await connect(t, { hostKeys: 'reject' });
  open.push(s);
  return s;
}

const pg = (): PgConnection => ({
  osUser: pg1.osUser,
  superuser: 'postgres',
  socketDir: pg1.socketDir,
  port: pg1.port,
  binDir: pg1.binDir,
});

const statOf = async (s: RemoteSession): Promise<string> =>
  (await s.exec(`stat -c '%U %G %a' -- ${hba}`)).stdout.trim();
const baks = async (s: RemoteSession): Promise<string> =>
  (await s.exec(`ls -a -- ${pg1.dataDir} | grep -F .pgharden- || true`)).stdout.trim();

/** Reload, then PostgreSQL must answer (what the CLI passes as afterRollback). */
async function reloadAndPing(s: RemoteSession, signal: AbortSignal): Promise<void> {
  const r = await psqlQueries(
    s,
    pg(),
    { reload: 'SELECT pg_reload_conf() AS ok', one: 'SELECT 1 AS one' },
    { signal },
  );
  if (r.one[0]?.['one'] !== 1) throw new Error('PostgreSQL did not answer SELECT 1');
}

function appendStep(
  id: string,
  text: string,
  extra: (s: RemoteSession) => Promise<void> = () => Promise.resolve(),
): Step {
  return defineStep({
    id,
    title: id,
    check: () => true,
    plan: () => ({
      ...emptyPlan(),
      reload: true,
      files: [{ path: hba, owner: pg1.osUser, mode: 0o600, before: '', after: text }],
    }),
    apply: async ({ session: s }) => {
      const now = await s.readFile(hba);
      await s.writeFileAtomic(hba, Buffer.concat([now, Buffer.from(text)]), {
        owner: pg1.osUser,
        mode: parseInt(stat.split(' ')[2] ?? '600', 8),
      });
      await extra(s);
    },
    verify: async ({ session: s }) => (await s.readFile(hba)).toString().endsWith(text),
    undo: () => Promise.resolve(),
  });
}

const failing = (id: string): Step =>
  appendStep(id, '# pgharden e2e: step 2\n', () => Promise.reject(new Error('step 2 fails on purpose')));
const never = defineStep({
  ...appendStep('e2e.three', '# never\n'),
  apply: () => Promise.reject(new Error('step 3 must not run')),
});

beforeAll(async () => {
  const l = await readLab('streaming');
  if (l === undefined)
    throw new Error('the streaming lab is not up (the e2e global setup should have started it)');
  lab = l;
  const n = lab.nodes.find((x) => x.role === 'primary');
  if (n === undefined) throw new Error('the lab has no primary');
  pg1 = n;
  hba = join(pg1.dataDir, 'pg_hba.conf');
  state = mkdtempSync(join(tmpdir(), 'pgh-engine-e2e-'));
  const s = await session();
  original = await s.readFile(hba);
  stat = await statOf(s);
});

afterAll(async () => {
  // Put the lab back exactly, whatever a failed assertion left behind.
  const s = await session();
  if (sha256(await s.readFile(hba)) !== sha256(original)) {
    const [owner, , mode] = stat.split(' ');
    await s.writeFileAtomic(hba, original, { owner: owner ?? pg1.osUser, mode: parseInt(mode ?? '600', 8) });
    await reloadAndPing(s, AbortSignal.timeout(30_000));
  }
  await s.exec(`rm -f -- ${pg1.dataDir}/pg_hba.conf.pgharden-*`);
  await Promise.allSettled(open.map((x) => x.close()));
  rmSync(state, { recursive: true, force: true });
});

async function expectOriginal(s: RemoteSession): Promise<void> {
  expect(sha256(await s.readFile(hba))).toBe(sha256(original));
  expect(await statOf(s)).toBe(stat);
  expect(await baks(s)).toBe('');
  const r = await psqlQueries(s, pg(), { one: 'SELECT 1 AS one' });
  expect(r.one).toEqual([{ one: 1 }]);
}

describe('engine on the lab', () => {
  it('backupFile / restoreFile keep owner, mode and bytes; a clashing backup is refused', async () => {
    const s = await session();
    const runId = newRunId();
    const b = await backupFile(s, hba, { runId, asUser: pg1.osUser });
    expect(b).toMatchObject({
      path: hba,
      sha256: sha256(original),
      owner: stat.split(' ')[0],
      existed: true,
    });
    expect(b.mode).toBe(parseInt(stat.split(' ')[2] ?? '', 8));
    expect((await s.exec(`stat -c '%U %G %a' -- ${b.backup}`)).stdout.trim()).toBe(stat);
    await s.writeFileAtomic(hba, Buffer.concat([original, Buffer.from('# x\n')]), {
      owner: pg1.osUser,
      mode: b.mode,
    });
    await expect(backupFile(s, hba, { runId, asUser: pg1.osUser })).rejects.toMatchObject({
      code: 'backup.exists',
    });
    await restoreFile(s, b);
    await removeBackup(s, b);
    await expectOriginal(s);
    const none = await backupFile(s, `${hba}.absent`, { runId, asUser: pg1.osUser });
    expect(none.existed).toBe(false);
  });

  it('step 2 of 3 fails → RolledBackError, pg_hba.conf byte-identical, .bak removed, journal in order', async () => {
    const s = await session();
    const runId = newRunId();
    const journal = await Journal.open(state, runId);
    const events: EngineEvent[] = [];
    const plan: NodePlan = {
      node: pg1.name,
      session: s,
      facts: {},
      steps: [appendStep('e2e.one', '# pgharden e2e: step 1\n'), failing('e2e.two'), never],
      afterRollback: reloadAndPing,
    };
    const err = await runPlan({
      runId,
      journal,
      bus: { emit: (e) => void events.push(e) },
      signal: new AbortController().signal,
      nodes: [plan],
    }).catch((e: unknown) => e);
    await journal.close();
    expect(err).toMatchObject({ exitCode: 4, code: 'run.rolled-back' });
    await expectOriginal(s);
    const j = await readJournal(state, runId);
    expect(j.records.map((r) => `${r.type}${r.step === undefined ? '' : ` ${r.step}`}`)).toEqual([
      'run:begin',
      'step:begin e2e.one',
      'backup:begin e2e.one',
      'backup e2e.one',
      'step:apply e2e.one',
      'step:applied e2e.one',
      'step:done e2e.one',
      'step:begin e2e.two',
      'step:apply e2e.two',
      'step:failed e2e.two',
      'rollback:begin',
      'undo:begin e2e.two',
      'undo:done e2e.two',
      'undo:begin e2e.one',
      'restore e2e.one',
      'undo:done e2e.one',
      'rollback:done',
      'rollback:done',
    ]);
    expect(events.map((e) => e.type)).toContain('rollback:done');
  });

  it('connection killed mid-step → ssh.disconnected reported; rollbackRun with a fresh session restores', async () => {
    const s = await session();
    const runId = newRunId();
    const journal = await Journal.open(state, runId);
    const events: EngineEvent[] = [];
    const kill = appendStep(
      'e2e.two',
      '# pgharden e2e: step 2\n',
      async (x) => void (await x.exec('kill -9 $PPID')),
    );
    const plan: NodePlan = {
      node: pg1.name,
      session: s,
      facts: {},
      steps: [appendStep('e2e.one', '# pgharden e2e: step 1\n'), kill, never],
    };
    const err = await runPlan({
      runId,
      journal,
      bus: { emit: (e) => void events.push(e) },
      signal: new AbortController().signal,
      nodes: [plan],
    }).catch((e: unknown) => e);
    await journal.close();
    // Nobody could reach the node to undo it: not 4, and the way out is named.
    expect(err).toMatchObject({ exitCode: 1, code: 'rollback.failed' });
    expect((err as { hint: string }).hint).toContain(`pgharden rollback ${runId}`);
    const dropped = events.find((e) => e.type === 'node:disconnected');
    expect(dropped).toMatchObject({ node: pg1.name, error: { code: 'ssh.disconnected' } });
    const fresh = await session();
    expect((await fresh.readFile(hba)).toString()).toContain('# pgharden e2e: step 2\n');
    const r = await rollbackRun({
      stateDir: state,
      runId,
      sessions: { [pg1.name]: fresh },
      bus: { emit: () => undefined },
      afterRollback: (_n, x, sig) => reloadAndPing(x, sig),
    });
    expect(r.failed).toEqual([]);
    await expectOriginal(fresh);
    expect((await readJournal(state, runId)).rolledBack).toBe(true);
  });

  it('with reconnect, the runner rolls a dropped node back itself', async () => {
    const runId = newRunId();
    const journal = await Journal.open(state, runId);
    const kill = appendStep(
      'e2e.two',
      '# pgharden e2e: step 2\n',
      async (x) => void (await x.exec('kill -9 $PPID')),
    );
    const plan: NodePlan = {
      node: pg1.name,
      session: await session(),
      reconnect: session,
      facts: {},
      steps: [appendStep('e2e.one', '# 1\n'), kill],
      afterRollback: reloadAndPing,
    };
    const err = await runPlan({
      runId,
      journal,
      bus: { emit: () => undefined },
      signal: new AbortController().signal,
      nodes: [plan],
    }).catch((e: unknown) => e);
    await journal.close();
    expect(err).toMatchObject({ exitCode: 4 });
    await expectOriginal(await session());
  });
});
