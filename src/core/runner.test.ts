// Pure engine logic with in-memory steps (engine/test-support.ts): nothing here touches SSH.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from './events.js';
import { Journal, newRunId, readJournal, type JournalRecord } from './journal.js';
import { rollbackRun, runPlan, type NodePlan, type RunResume } from './runner.js';
import type { Step } from './step.js';
import { fakeSession, fakeStep, type Fake } from './engine/test-support.js';
import type { RemoteSession } from '../remote/types.js';

let dir: string;
let journal: Journal;
let runId: string;
let log: string[];
let events: EngineEvent[];
const bus = { emit: (e: EngineEvent) => void events.push(e) };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgharden-runner-'));
  runId = newRunId();
  journal = await Journal.open(dir, runId, ['s3cret']);
  log = [];
  events = [];
});
afterEach(async () => {
  await journal.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const lines = (): JournalRecord[] =>
  readFileSync(journal.path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalRecord);

const fakeSessionOf = (node: string): RemoteSession => fakeSession(log, node);
const step = (node: string, id: string, f: Fake = {}): Step => fakeStep(log, node, id, f);

function nodePlan(node: string, steps: Step[]): NodePlan {
  return { node, session: fakeSessionOf(node), facts: {}, steps };
}

const ids = ['a.one', 'a.two', 'a.three', 'a.four'];

describe('runPlan', () => {
  it('runs the phases in order and the nodes of a phase side by side', async () => {
    const r = await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [
        nodePlan('pg1', [step('pg1', 'a.one')]),
        nodePlan('pg2', [step('pg2', 'a.one'), step('pg2', 'a.two')]),
        nodePlan('pg3', [step('pg3', 'a.one')]),
      ],
      phases: [['pg1'], ['pg2', 'pg3']],
    });
    expect(r.nodes['pg2']?.done).toEqual(['a.one', 'a.two']);
    expect(log[0]).toBe('pg1:apply:a.one');
    // pg3 starts before pg2 has finished: same phase.
    expect(log.indexOf('pg3:apply:a.one')).toBeLessThan(log.indexOf('pg2:apply:a.two'));
    expect(lines().at(-1)?.type).toBe('run:done');
  });

  it("follows the plan's decisions instead of calling check() again, unless it resumes", async () => {
    let checks = 0;
    const counted = (node: string, id: string, done: boolean): Step => {
      const st = step(node, id, { done });
      return { ...st, check: (ctx) => (checks++, st.check(ctx)) };
    };
    // The plan said a.one is needed and a.two is not; the nodes now say the opposite.
    const decided = new Map([
      [
        'pg1',
        new Map([
          ['a.one', true],
          ['a.two', false],
        ]),
      ],
    ]);
    const run = (resume?: RunResume) =>
      runPlan({
        runId,
        journal,
        bus,
        signal: new AbortController().signal,
        nodes: [nodePlan('pg1', [counted('pg1', 'a.one', true), counted('pg1', 'a.two', false)])],
        decided,
        resume,
      });
    await run();
    expect(checks).toBe(0);
    expect(log).toEqual(['pg1:apply:a.one']);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'step:done', step: 'a.two', skipped: 'already-done' }),
    );
    // A resumed run reads every node again: minutes may have passed.
    log.length = 0;
    await run({ begun: {}, done: {} });
    expect(checks).toBe(2);
    expect(log).toEqual(['pg1:apply:a.two']);
  });

  it('skips a step whose check says it is already done', async () => {
    await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [nodePlan('pg1', [step('pg1', 'a.one', { done: true }), step('pg1', 'a.two')])],
    });
    expect(log).toEqual(['pg1:apply:a.two']);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'step:done', step: 'a.one', skipped: 'already-done' }),
    );
    expect(lines().map((l) => l.type)).toContain('step:skipped');
  });

  for (const how of ['apply', 'verify'] as const) {
    for (let k = 0; k < ids.length; k++) {
      it(`undoes steps ${k}..0 in reverse order when step ${k} fails in ${how}`, async () => {
        const steps = ids.map((id, i) =>
          step('pg1', id, { fail: i === k ? how : undefined, file: `/f/${id}` }),
        );
        const err = await runPlan({
          runId,
          journal,
          bus,
          signal: new AbortController().signal,
          nodes: [nodePlan('pg1', steps)],
        }).catch((e: unknown) => e);
        expect(err).toMatchObject({ exitCode: 4, code: 'run.rolled-back' });
        const undos = log.filter((l) => l.includes(':undo:'));
        expect(undos).toEqual(
          ids
            .slice(0, k + 1)
            .reverse()
            .map((id) => `pg1:undo:${id}`),
        );
        expect(log.filter((l) => l.endsWith('restore'))).toHaveLength(k + 1);
        expect(log.filter((l) => l.endsWith(':rm'))).toHaveLength(k + 1);
        expect(log).not.toContain(`pg1:apply:${ids[k + 1] ?? 'none'}`);
        const types = events.map((e) => e.type);
        expect(types).toContain('step:failed');
        expect(types.slice(types.indexOf('rollback:started'))).toEqual([
          'rollback:started',
          ...Array<string>(k + 1).fill('rollback:step'),
          'rollback:done',
        ]);
        const state = await readJournal(dir, runId);
        expect(state.rolledBack).toBe(true);
        expect(state.nodes['pg1']?.undone).toEqual(ids.slice(0, k + 1).reverse());
      });
    }
  }

  it('stops later phases and rolls back earlier ones and the siblings of the failed node', async () => {
    const err = await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [
        nodePlan('pg1', [step('pg1', 'a.one')]),
        nodePlan('pg2', [step('pg2', 'a.one', { fail: 'apply' })]),
        nodePlan('pg3', [step('pg3', 'a.one'), step('pg3', 'a.two')]),
        nodePlan('pg4', [step('pg4', 'a.one')]),
      ],
      phases: [['pg1'], ['pg2', 'pg3'], ['pg4']],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 4 });
    expect(log).not.toContain('pg4:apply:a.one');
    // pg3 finished its in-flight step, started no other, and was rolled back; pg1 last.
    expect(log).not.toContain('pg3:apply:a.two');
    const undos = log.filter((l) => l.includes(':undo:'));
    expect(undos.at(-1)).toBe('pg1:undo:a.one');
    expect(undos).toEqual(expect.arrayContaining(['pg2:undo:a.one', 'pg3:undo:a.one']));
  });

  it('runs a node again in a later phase (SPEC §7.2) and undoes all of its steps, newest first', async () => {
    const [p1, p2, p3] = [step('pg1', 'a.one'), step('pg1', 'a.two'), step('pg1', 'a.three')];
    const [s1, s2] = [step('pg2', 'a.one'), step('pg2', 'a.two', { fail: 'apply' })];
    const err = await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [nodePlan('pg1', [p1, p2, p3]), nodePlan('pg2', [s1, s2])],
      phases: [
        [{ node: 'pg1', steps: [p1, p2] }],
        [{ node: 'pg2', steps: [s1] }],
        [
          { node: 'pg1', steps: [p3] },
          { node: 'pg2', steps: [s2] },
        ],
      ],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 4 });
    expect(log.slice(0, 3)).toEqual(['pg1:apply:a.one', 'pg1:apply:a.two', 'pg2:apply:a.one']);
    const undos = (node: string) => log.filter((l) => l.startsWith(`${node}:undo:`));
    expect(undos('pg1')).toEqual(['pg1:undo:a.three', 'pg1:undo:a.two', 'pg1:undo:a.one']);
    expect(undos('pg2')).toEqual(['pg2:undo:a.two', 'pg2:undo:a.one']);
  });

  it.each([
    ['a step left out', [[{ node: 'pg1', steps: [] as Step[] }]]],
    ['a node twice in one phase', [['pg1', 'pg1']]],
    ['an unknown node', [['pg1'], ['pg9']]],
  ])('refuses phases with %s', async (_name, phases) => {
    const err = await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [nodePlan('pg1', [step('pg1', 'a.one')])],
      phases,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'run.bad-phases' });
    expect(log).toEqual([]);
  });

  it('on abort: the in-flight step is undone, the next never starts, exit 130', async () => {
    const ac = new AbortController();
    const steps = [
      step('pg1', 'a.one'),
      step('pg1', 'a.two', { onApply: () => ac.abort() }),
      step('pg1', 'a.three'),
    ];
    const err = await runPlan({
      runId,
      journal,
      bus,
      signal: ac.signal,
      nodes: [nodePlan('pg1', steps)],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 130, code: 'run.interrupted' });
    expect(log).toEqual(['pg1:apply:a.one', 'pg1:apply:a.two', 'pg1:undo:a.two', 'pg1:undo:a.one']);
  });

  it('on abort inside a step that honours the signal: still 130, still undone', async () => {
    const ac = new AbortController();
    const steps = [
      step('pg1', 'a.one', {
        onApply: () => {
          ac.abort();
          ac.signal.throwIfAborted();
        },
      }),
    ];
    const err = await runPlan({
      runId,
      journal,
      bus,
      signal: ac.signal,
      nodes: [nodePlan('pg1', steps)],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 130 });
    expect(log).toContain('pg1:undo:a.one');
  });

  it('journals each action before doing it', async () => {
    const seen: string[] = [];
    const s = step('pg1', 'a.one', {
      file: '/etc/x',
      onApply: () => void seen.push(lines().at(-1)?.type ?? ''),
    });
    const session = fakeSessionOf('pg1');
    const exec = session.exec.bind(session);
    (session as { exec: RemoteSession['exec'] }).exec = (cmd, o) => {
      seen.push(`exec after ${lines().at(-1)?.type ?? ''}`);
      return exec(cmd, o);
    };
    await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [{ node: 'pg1', session, facts: {}, steps: [s] }],
    });
    expect(seen).toEqual(['exec after backup:begin', 'step:apply']);
    expect(lines().map((l) => l.type)).toEqual([
      'run:begin',
      'step:begin',
      'backup:begin',
      'backup',
      'step:apply',
      'step:applied',
      'step:done',
      'run:done',
    ]);
  });

  it('refuses to journal a secret (and rolls the step back)', async () => {
    const s = step('pg1', 'a.one', { file: '/etc/s3cret.conf' });
    const err = await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [nodePlan('pg1', [s])],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 4 });
    expect(readFileSync(journal.path, 'utf8')).not.toContain('s3cret');
    expect(log).not.toContain('pg1:apply:a.one');
  });

  it('rollbackRun undoes a finished run from its journal', async () => {
    const steps = [step('pg1', 'a.one', { file: '/etc/one' }), step('pg1', 'a.two', { file: '/etc/two' })];
    await runPlan({
      runId,
      journal,
      bus,
      signal: new AbortController().signal,
      nodes: [nodePlan('pg1', steps)],
    });
    await journal.close();
    log.length = 0;
    const r = await rollbackRun({
      stateDir: dir,
      runId,
      bus,
      sessions: { pg1: fakeSessionOf('pg1') },
      steps: Object.fromEntries(steps.map((s) => [s.id, s as Step<never>])),
    });
    expect(r).toEqual({ runId, nodes: { pg1: ['a.two', 'a.one'] }, failed: [] });
    expect(log).toEqual([
      'pg1:exec:restore',
      'pg1:undo:a.two',
      'pg1:exec:restore',
      'pg1:undo:a.one',
      'pg1:exec:rm',
      'pg1:exec:rm',
    ]);
    await expect(
      rollbackRun({ stateDir: dir, runId, bus, sessions: { pg1: fakeSessionOf('pg1') } }),
    ).rejects.toMatchObject({ exitCode: 2 });
  });
});
