import { mkdtempSync, readFileSync, rmSync, statSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, newRunId, readJournal, runDir } from './journal.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgharden-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const backup = { path: '/f', backup: '/f.bak', sha256: 'x', mode: 0o600, owner: 'postgres', existed: true };

describe('journal', () => {
  it('makes sortable run ids', () => {
    const id = newRunId(new Date('2026-11-23T14:25:00.123Z'));
    expect(id).toMatch(/^20261123T142500Z-[0-9a-f]{6}$/);
    expect(newRunId(new Date('2026-11-23T14:25:01Z')) > id).toBe(true);
    expect(() => runDir(dir, '../etc')).toThrow(/not a run id/);
  });

  it('writes 0600 JSONL in a 0700 run dir, in call order', async () => {
    const runId = newRunId();
    const j = await Journal.open(dir, runId);
    await Promise.all([
      j.write({ type: 'run:begin' }),
      j.write({ type: 'step:begin', node: 'pg1', step: 'a.b' }),
    ]);
    await j.close();
    expect(statSync(j.path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(j.path)).mode & 0o777).toBe(0o700);
    const types = readFileSync(j.path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(['run:begin', 'step:begin']);
  });

  it('refuses a record holding a secret, also in its JSON-escaped form', async () => {
    const j = await Journal.open(dir, newRunId(), ['pa"ss', 'hunter2']);
    await expect(j.write({ type: 'warning' as never, message: 'x hunter2 y' })).rejects.toMatchObject({
      code: 'journal.secret',
    });
    await expect(j.write({ type: 'run:begin', note: 'pa"ss' })).rejects.toMatchObject({
      code: 'journal.secret',
    });
    await j.write({ type: 'run:begin' });
    await j.close();
    expect(readFileSync(j.path, 'utf8')).not.toMatch(/hunter2|pa\\"ss/);
  });

  it('reconstructs per node: done, backups, the step in flight; survives a torn last line', async () => {
    const runId = newRunId();
    const j = await Journal.open(dir, runId);
    await j.write({ type: 'step:begin', node: 'pg1', step: 'a.one' });
    await j.write({ type: 'backup', node: 'pg1', step: 'a.one', backup });
    await j.write({ type: 'step:done', node: 'pg1', step: 'a.one' });
    await j.write({ type: 'step:begin', node: 'pg1', step: 'a.two' });
    await j.write({ type: 'step:begin', node: 'pg2', step: 'a.one' });
    await j.write({ type: 'step:failed', node: 'pg2', step: 'a.one' });
    await j.close();
    appendFileSync(j.path, '{"ts":"2026-');
    const s = await readJournal(dir, runId);
    expect(s.nodes['pg1']).toMatchObject({
      done: ['a.one'],
      inFlight: 'a.two',
      backups: [{ ...backup, step: 'a.one' }],
    });
    expect(s.nodes['pg2']).toMatchObject({ done: [], failed: 'a.one', inFlight: undefined });
    expect(s.finished).toBe(false);
    await expect(readJournal(dir, newRunId())).rejects.toMatchObject({ exitCode: 2 });
  });
});
