import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { KEY, renderWizard, stateAfter, TO_PLAN } from './test-harness.js';

afterEach(cleanup);

const atVerify = () =>
  stateAfter([
    ...TO_PLAN,
    { type: 'plan:confirm' },
    { type: 'apply:finished', runId: '20260101T000000Z-abc', journal: '/state/runs/r/journal.jsonl' },
  ]);

describe('VerifyScreen and DoneScreen', () => {
  it('verify rows stream in with ✓/✗ and the value seen', async () => {
    const w = await renderWizard(atVerify());
    expect(w.frame()).toContain('7/8 Verify');
    await w.push(
      { type: 'engine', event: { type: 'verify:row', node: 'pg1', check: 'ssl', ok: true, value: 'on' } },
      {
        type: 'engine',
        event: { type: 'verify:row', node: 'pg2', check: 'sslmode=disable', ok: false, value: 'connected' },
      },
    );
    expect(w.output()).toMatch(/✓ pg1 ssl on/);
    expect(w.output()).toMatch(/✗ pg2 sslmode=disable connected/);
    expect(w.frame()).toContain('Verifying: 2 check(s), 1 failed so far');
  });

  it('done: summary with run, journal, certificates and the next rotation date; Enter finishes', async () => {
    const w = await renderWizard(atVerify());
    await w.push(
      { type: 'engine', event: { type: 'verify:row', node: 'pg1', check: 'ssl', ok: true, value: 'on' } },
      { type: 'verify:finished', exitCode: 0 },
    );
    const f = w.frame();
    expect(f).toContain('✓ First-time hardening: done');
    expect(f).toContain('run           20260101T000000Z-abc');
    expect(f).toContain('journal       /state/runs/r/journal.jsonl');
    expect(f).toContain('certificates  /pki');
    expect(f).toContain('verify        1 passed, 0 failed');
    expect(f).toContain('next rotation by 2026-12-02 (pgharden rotate)');
    expect(f).toContain('pgharden verify -i /tmp/inv.yaml');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([{ type: 'finish' }]);
  });

  it('done: the report and client bundle paths, whole, a long one wrapped under its own column', async () => {
    const long = `/home/operator/.local/state/pgharden/runs/20260101T000000Z-abc${'/x'.repeat(40)}`;
    const w = await renderWizard(atVerify());
    await w.push(
      { type: 'verify:finished', exitCode: 0 },
      {
        type: 'run:files',
        files: { report: { json: '/s/report.json', md: '/s/report.md' }, bundle: `${long}/client-bundle` },
      },
    );
    const f = w.frame();
    expect(f).toContain('  report        /s/report.md');
    const at = f.split('\n').findIndex((l) => l.startsWith('  client bundle '));
    const rows = f.split('\n').slice(at, at + 2);
    expect(rows[1]).toMatch(/^ {16}\S/); // the rest of the path, under the value column
    expect(rows.map((r) => r.slice(16)).join('')).toBe(`${long}/client-bundle`);
  });

  it('a failed verification says so and exits 3', async () => {
    const w = await renderWizard(atVerify());
    await w.push({ type: 'verify:finished', exitCode: 3 });
    expect(w.frame()).toContain('✗ First-time hardening: verification failed');
    expect(w.frame()).toContain('Enter: exit (3)');
  });
});
