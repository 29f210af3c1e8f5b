// `pgharden resume` refusals that need no node: they happen before any connection (exit 2).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Journal, newRunId, type JournalInput } from '../core/journal.js';
import { main } from './main.js';

async function resume(stateDir: string, runId: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io = { stdout, stderr, env: {}, stdinTTY: false, stdoutTTY: false };
  const code = await main(['resume', runId, '--state-dir', stateDir, '--json', '--yes'], io);
  const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  return { code, err, summary };
}

async function runWith(stateDir: string, records: JournalInput[]): Promise<string> {
  const runId = newRunId();
  const j = await Journal.open(stateDir, runId);
  for (const r of records) await j.write(r);
  await j.close();
  return runId;
}

describe('pgharden resume refuses', () => {
  it.each([
    ['a finished run', [{ type: 'run:done' }], 'resume.finished', /nothing to resume/],
    ['a rolled-back run', [{ type: 'rollback:done', reason: 'x' }], 'resume.rolled-back', /pgharden apply/],
    ['a run that names no inventory', [{ type: 'run:begin' }], 'resume.no-inventory', /-i INVENTORY/],
  ] as const)('%s', async (_what, records, code, text) => {
    const state = await mkdtemp(join(tmpdir(), 'pgh-resume-'));
    const r = await resume(state, await runWith(state, [...records]));
    expect(r.code).toBe(2);
    expect(r.summary).toMatchObject({ type: 'summary', command: 'resume', exitCode: 2, error: { code } });
    expect(r.err).toMatch(text);
  });

  it('an unknown run id, and something that is not a run id', async () => {
    const state = await mkdtemp(join(tmpdir(), 'pgh-resume-'));
    expect((await resume(state, newRunId())).summary).toMatchObject({
      exitCode: 2,
      error: { code: 'run.unknown' },
    });
    expect((await resume(state, '../etc')).summary).toMatchObject({
      exitCode: 2,
      error: { code: 'run.bad-id' },
    });
  });
});
