import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { KEY, renderWizard, stateAfter, TO_PREFLIGHT } from './test-harness.js';

afterEach(cleanup);

const info = {
  node: 'pg1',
  host: '127.0.1.1',
  port: 22,
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:Zm9vYmFy',
};

describe('prompts', () => {
  it('first-use host key: fingerprint shown; accept and save; the screen keys wait meanwhile', async () => {
    const w = await renderWizard(
      stateAfter([...TO_PREFLIGHT, { type: 'hostkey:ask', prompt: { id: 'hk1', info } }]),
    );
    const f = w.frame();
    expect(f).toContain('Unknown host key for pg1 (127.0.1.1:22):');
    expect(f).toContain('ssh-ed25519 SHA256:Zm9vYmFy');
    expect(f).toContain('Accept for this run only');
    expect(f).toContain('Abort: do not connect to this node');
    await w.press('q'); // not "back" while the question is open
    await w.press(KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'hostkey:answer', id: 'hk1', decision: 'accept-and-save' }]);
    expect(w.frame()).not.toContain('Unknown host key');
  });

  it('abort refuses the key', async () => {
    const w = await renderWizard(
      stateAfter([...TO_PREFLIGHT, { type: 'hostkey:ask', prompt: { id: 'hk1', info } }]),
    );
    await w.press(KEY.down, KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'hostkey:answer', id: 'hk1', decision: 'reject' }]);
  });

  it('a password is typed masked and never rendered', async () => {
    const w = await renderWizard(stateAfter([...TO_PREFLIGHT, { type: 'password:ask', role: 'app' }]));
    expect(w.frame()).toContain('Role app has an md5 hash');
    await w.press('hunter2-pw');
    expect(w.frame()).not.toContain('hunter2-pw');
    expect(w.frame()).toContain('••••••••••');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([{ type: 'password:answer', role: 'app', password: 'hunter2-pw' }]);
    for (const frame of w.frames) expect(frame).not.toContain('hunter2');
  });
});
