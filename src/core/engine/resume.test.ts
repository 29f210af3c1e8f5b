// Journal → resume state, and resumeRun over in-memory steps (engine/test-support.ts): no SSH.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupRecord } from '../backup.js';
import type { EngineEvent } from '../events.js';
import type { PlanDocument } from '../harden.js';
import { Journal, newRunId, type JournalInput, type JournalRecord } from '../journal.js';
import type { NodePlan } from '../runner.js';
import type { Step } from '../step.js';
import {
  assertSameSchedule,
  listInterruptedRuns,
  readResumeState,
  remainingPlan,
  resumeRun,
  resumeStateOf,
} from './resume.js';
import { fakeSession, fakeStep, type Fake } from './test-support.js';

let dir: string;
let runId: string;
let log: string[];
let events: EngineEvent[];
const bus = { emit: (e: EngineEvent) => void events.push(e) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgharden-resume-'));
  runId = newRunId();
  log = [];
  events = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bak = (path: string): BackupRecord => ({
  path,
  backup: `${path}.bak`,
  sha256: 'a'.repeat(64),
  mode: 0o640,
  owner: 'postgres',
  existed: true,
});

/** The records runPlan writes for a step that finished (files backed up when given). */
function doneStep(node: string, step: string, files: string[] = [], backups = files): JournalInput[] {
  return [
    { type: 'step:begin', node, step, files, reload: false, restart: false },
    ...backups.map((p): JournalInput => ({ type: 'backup', node, step, backup: bak(p) })),
    { type: 'step:apply', node, step },
    { type: 'step:applied', node, step },
    { type: 'step:done', node, step, ms: 1 },
  ];
}

async function journalOf(records: JournalInput[]): Promise<void> {
  const j = await Journal.open(dir, runId);
  for (const r of records) await j.write(r);
  await j.close();
}

const state = (records: JournalInput[], flags: { finished?: boolean; rolledBack?: boolean } = {}) =>
  resumeStateOf({
    runId,
    records: records.map((r): JournalRecord => ({ ts: '', ...r })),
    finished: flags.finished ?? false,
    rolledBack: flags.rolledBack ?? false,
  });

const phases = [[{ node: 'pg1', steps: ['a.one', 'a.two', 'a.three'] }]];
const meta: JournalInput = {
  type: 'run:meta',
  inventory: '/inv.yaml',
  auth: 'scram',
  certs: 'import',
  pkiDir: '/pki',
};

describe('resumeStateOf', () => {
  it('refuses a finished run, a rolled-back run and an unknown one (exit 2, with an id)', async () => {
    expect(() => state([], { finished: true })).toThrow(
      expect.objectContaining({ code: 'resume.finished', exitCode: 2 }),
    );
    expect(() => state([], { rolledBack: true })).toThrow(
      expect.objectContaining({
        code: 'resume.rolled-back',
        exitCode: 2,
        hint: 'run again with `pgharden apply`',
      }),
    );
    await expect(readResumeState(dir, runId)).rejects.toMatchObject({ code: 'run.unknown', exitCode: 2 });
  });

  it('reads a real journal: a rollback:done per node does not make the run rolled back, the run-wide one does', async () => {
    await journalOf([meta, ...doneStep('pg1', 'a.one'), { type: 'rollback:done', node: 'pg2' }]);
    expect((await readResumeState(dir, runId)).nodes['pg1']?.kept.map((k) => k.id)).toEqual(['a.one']);
    await journalOf([{ type: 'rollback:done', reason: 'x' }]);
    await expect(readResumeState(dir, runId)).rejects.toMatchObject({ code: 'resume.rolled-back' });
  });

  it('keeps finished steps with their backups, and takes the in-flight step for undo', () => {
    const s = state([
      meta,
      { type: 'run:begin', nodes: ['pg1'], phases },
      ...doneStep('pg1', 'a.one', ['/f1']),
      { type: 'step:skipped', node: 'pg1', step: 'a.two' },
      { type: 'step:begin', node: 'pg1', step: 'a.three', files: ['/f2'], reload: true, restart: false },
      { type: 'backup:begin', node: 'pg1', step: 'a.three', path: '/f2' },
      { type: 'backup', node: 'pg1', step: 'a.three', backup: bak('/f2') },
      { type: 'step:apply', node: 'pg1', step: 'a.three' },
    ]);
    expect(s.meta).toEqual({ inventory: '/inv.yaml', auth: 'scram', certs: 'import', pkiDir: '/pki' });
    expect(s.phases).toEqual(phases);
    expect(s.order).toEqual(['pg1']);
    const pg1 = s.nodes['pg1'];
    expect(pg1?.kept).toEqual([
      { id: 'a.one', files: ['/f1'], reload: false, restart: false, backups: [bak('/f1')], status: 'done' },
    ]);
    expect(pg1?.skipped).toEqual(['a.two']);
    expect(pg1?.interrupted).toEqual([
      { id: 'a.three', files: ['/f2'], reload: true, restart: false, backups: [bak('/f2')], status: 'begun' },
    ]);
  });

  it('after a failed rollback: undone steps run again, a half-undone one is undone again, skips are void', () => {
    const s = state([
      ...doneStep('pg1', 'a.one', ['/f1']),
      { type: 'step:skipped', node: 'pg1', step: 'a.two' },
      ...doneStep('pg1', 'a.three', ['/f2']),
      { type: 'step:begin', node: 'pg2', step: 'a.one', files: [] },
      { type: 'step:failed', node: 'pg2', step: 'a.one', error: { code: 'x', message: 'x' } },
      { type: 'rollback:begin', node: 'pg1', steps: ['a.three', 'a.one'] },
      { type: 'undo:begin', node: 'pg1', step: 'a.three' },
      { type: 'restore', node: 'pg1', step: 'a.three', backup: bak('/f2') },
      { type: 'undo:failed', node: 'pg1', step: 'a.three', error: { code: 'ssh.closed', message: 'gone' } },
      { type: 'undo:begin', node: 'pg1', step: 'a.one' },
      { type: 'undo:done', node: 'pg1', step: 'a.one' },
      { type: 'rollback:failed', node: 'pg1', error: { code: 'ssh.closed', message: 'gone' } },
    ]);
    expect(s.order).toEqual(['pg1', 'pg2']);
    expect(s.nodes['pg1']?.kept).toEqual([]);
    expect(s.nodes['pg1']?.skipped).toEqual([]);
    expect(s.nodes['pg1']?.interrupted.map((i) => [i.id, i.status])).toEqual([['a.three', 'undoing']]);
    // The failed step is undone too: a command may have finished after the connection died.
    expect(s.nodes['pg2']?.interrupted.map((i) => [i.id, i.status])).toEqual([['a.one', 'begun']]);
  });

  it('a step undone by an earlier resume and run again counts once, with its new backups', () => {
    const s = state([
      { type: 'step:begin', node: 'pg1', step: 'a.one', files: ['/f1'] },
      { type: 'backup', node: 'pg1', step: 'a.one', backup: bak('/f1') },
      { type: 'run:resumed' },
      { type: 'undo:begin', node: 'pg1', step: 'a.one' },
      { type: 'undo:done', node: 'pg1', step: 'a.one' },
      ...doneStep('pg1', 'a.one', ['/f1'], ['/f1']),
    ]);
    expect(s.nodes['pg1']?.kept.map((k) => [k.id, k.backups.length])).toEqual([['a.one', 1]]);
    expect(s.nodes['pg1']?.interrupted).toEqual([]);
  });

  it('a journal from before resume existed: certs and PKI dir unknown', () => {
    const s = state([{ type: 'run:meta', inventory: '/inv.yaml', auth: 'cert' }]);
    expect(s.meta).toEqual({ inventory: '/inv.yaml', auth: 'cert', certs: undefined, pkiDir: undefined });
    expect(s.phases).toBeUndefined();
  });
});

describe('assertSameSchedule and remainingPlan', () => {
  const steps = (ids: string[]): Step[] => ids.map((id) => fakeStep(log, 'pg1', id));

  it('refuses when the schedule changed since the run began (a failover, another step)', () => {
    const s = state([{ type: 'run:begin', phases }, ...doneStep('pg1', 'a.one')]);
    expect(() =>
      assertSameSchedule(s, [[{ node: 'pg1', steps: steps(['a.one', 'a.two', 'a.three']) }]]),
    ).not.toThrow();
    expect(() => assertSameSchedule(s, [[{ node: 'pg1', steps: steps(['a.one', 'a.three']) }]])).toThrow(
      expect.objectContaining({ code: 'resume.plan-changed', exitCode: 2 }),
    );
    expect(() => assertSameSchedule(s, [[{ node: 'pg9', steps: steps(['a.one']) }]])).toThrow(
      expect.objectContaining({ code: 'resume.plan-changed' }),
    );
  });

  it('shows finished steps as done and interrupted ones as needed, and counts only what is left', () => {
    const change = { files: [], sql: [], commands: [], reload: true, restart: false };
    const plan: PlanDocument = {
      v: 1,
      cluster: 'c',
      topology: 'streaming',
      auth: 'scram',
      createdAt: '',
      nodes: [
        {
          node: 'pg1',
          host: 'h',
          role: 'primary',
          steps: [
            { id: 'a.one', title: 'one', needed: true, change },
            { id: 'a.two', title: 'two', needed: false },
            { id: 'a.three', title: 'three', needed: true, change },
          ],
        },
      ],
      phases,
      checksums: {},
      reloads: 2,
      restarts: 0,
    };
    const s = state([
      ...doneStep('pg1', 'a.one'),
      { type: 'step:begin', node: 'pg1', step: 'a.two', files: [] },
    ]);
    const left = remainingPlan(plan, s);
    expect(left.nodes[0]?.steps.map((st) => [st.id, st.needed])).toEqual([
      ['a.one', false],
      ['a.two', true],
      ['a.three', true],
    ]);
    expect(left.reloads).toBe(1);
  });
});

describe('resumeRun', () => {
  const nodePlan = (node: string, steps: Step[]): NodePlan => ({
    node,
    session: fakeSession(log, node),
    facts: {},
    steps,
  });
  const step = (id: string, f: Fake = {}): Step => fakeStep(log, 'pg1', id, f);
  const lines = (): JournalRecord[] =>
    readFileSync(join(dir, 'runs', runId, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JournalRecord);

  async function resume(steps: Step[]) {
    const s = await readResumeState(dir, runId);
    const journal = await Journal.open(dir, runId);
    try {
      return await resumeRun({
        state: s,
        runId,
        nodes: [nodePlan('pg1', steps)],
        phases: [['pg1']],
        journal,
        bus,
        signal: new AbortController().signal,
      });
    } finally {
      await journal.close();
    }
  }

  it('undoes the interrupted step from its backup, then runs it again; finished steps are not run again', async () => {
    await journalOf([
      { type: 'run:begin', phases },
      ...doneStep('pg1', 'a.one', ['/f1']),
      { type: 'step:begin', node: 'pg1', step: 'a.two', files: ['/f2'] },
      { type: 'backup', node: 'pg1', step: 'a.two', backup: bak('/f2') },
      { type: 'step:apply', node: 'pg1', step: 'a.two' },
    ]);
    const r = await resume([step('a.one', { file: '/f1' }), step('a.two', { file: '/f2' }), step('a.three')]);
    expect(log).toEqual([
      'pg1:exec:restore', // a.two's file back from its backup
      'pg1:undo:a.two',
      'pg1:exec:rm', // its backup goes once the node is back; the new run of a.two takes a fresh one
      'pg1:exec:backup',
      'pg1:apply:a.two',
      'pg1:apply:a.three',
    ]);
    expect(r.nodes['pg1']?.done).toEqual(['a.one', 'a.two', 'a.three']);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'step:done', step: 'a.one', skipped: 'done-before-resume' }),
    );
    const types = lines().map((l) => l.type);
    expect(types.filter((t) => t === 'run:begin')).toHaveLength(1);
    expect(types.indexOf('run:resumed')).toBeLessThan(types.indexOf('undo:begin'));
    expect(types.at(-1)).toBe('run:done');
  });

  it('a failure after the resume rolls back the whole run, pre-crash steps included, with no second backup of a file', async () => {
    await journalOf([
      { type: 'run:begin', phases },
      ...doneStep('pg1', 'a.one', ['/f1']),
      // a.two touches /f1 too: a.one's backup holds the original, so a.two took none.
      { type: 'step:begin', node: 'pg1', step: 'a.two', files: ['/f1'] },
      { type: 'step:apply', node: 'pg1', step: 'a.two' },
    ]);
    const run = resume([
      step('a.one', { file: '/f1' }),
      step('a.two', { file: '/f1' }),
      step('a.three', { fail: 'apply' }),
    ]);
    await expect(run).rejects.toMatchObject({ code: 'run.rolled-back', exitCode: 4 });
    expect(log).toEqual([
      'pg1:undo:a.two', // interrupted: nothing of its own to restore
      'pg1:apply:a.two', // no backup: /f1 was backed up before the crash
      'pg1:apply:a.three',
      'pg1:undo:a.three',
      'pg1:undo:a.two',
      'pg1:exec:restore', // a.one's backup of /f1: the original
      'pg1:undo:a.one',
      'pg1:exec:rm',
    ]);
    const last = lines().at(-1);
    expect(last).toMatchObject({ type: 'rollback:done' });
    expect(last?.node).toBeUndefined();
  });

  it('refuses before writing anything when the plan lost a node the run changed', async () => {
    await journalOf([...doneStep('pg2', 'a.one')]);
    const before = lines().length;
    await expect(resume([step('a.one')])).rejects.toMatchObject({ code: 'resume.plan-changed' });
    expect(lines()).toHaveLength(before);
  });
});

describe('listInterruptedRuns', () => {
  it('offers the runs resume would continue, newest first; finished, rolled-back and stray dirs are left out', async () => {
    const write = async (id: string, records: JournalInput[]): Promise<void> => {
      const j = await Journal.open(dir, id);
      for (const r of records) await j.write(r);
      await j.close();
    };
    const meta: JournalInput = { type: 'run:meta', inventory: '/inv.yaml', auth: 'scram', certs: 'generate' };
    await write('20260101T000000Z-aaaaaa', [meta, ...doneStep('pg1', 'a')]);
    await write('20260102T000000Z-bbbbbb', [meta, ...doneStep('pg1', 'a'), { type: 'run:done' }]);
    await write('20260103T000000Z-cccccc', [meta, ...doneStep('pg1', 'a'), { type: 'rollback:done' }]);
    await write('20260104T000000Z-dddddd', [meta, { type: 'step:begin', node: 'pg2', step: 'b' }]);
    mkdirSync(join(dir, 'runs', 'not-a-run'));
    mkdirSync(join(dir, 'runs', '20260105T000000Z-eeeeee')); // no journal
    const runs = await listInterruptedRuns(dir);
    expect(runs.map((r) => r.runId)).toEqual(['20260104T000000Z-dddddd', '20260101T000000Z-aaaaaa']);
    expect(runs[0]?.meta.inventory).toBe('/inv.yaml');
    expect(runs[0]?.nodes['pg2']?.interrupted.map((s) => s.id)).toEqual(['b']);
    expect(await listInterruptedRuns(join(dir, 'nowhere'))).toEqual([]);
  });
});
