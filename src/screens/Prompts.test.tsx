import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { SecretPrompt } from '../wizard/state.js';
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

  it('the next node’s host-key question starts on "accept once" again, not where the last answer was', async () => {
    const w = await renderWizard(
      stateAfter([
        ...TO_PREFLIGHT,
        { type: 'hostkey:ask', prompt: { id: 'hk1', info } },
        { type: 'hostkey:ask', prompt: { id: 'hk2', info: { ...info, node: 'pg2', host: '127.0.1.2' } } },
      ]),
    );
    await w.press(KEY.down, KEY.down, KEY.enter);
    expect(w.frame()).toContain('Unknown host key for pg2 (127.0.1.2:22):');
    expect(w.frame()).toContain('❯ Accept for this run only');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([
      { type: 'hostkey:answer', id: 'hk1', decision: 'reject' },
      { type: 'hostkey:answer', id: 'hk2', decision: 'accept-once' },
    ]);
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

describe('secret prompts', () => {
  const ask = (prompt: SecretPrompt) => stateAfter([...TO_PREFLIGHT, { type: 'secret:ask', prompt }]);

  it('a CA passphrase is typed masked, sent once, and no frame ever shows it', async () => {
    const w = await renderWizard(ask({ id: 's1', kind: 'ca-passphrase', subject: '/pki/root.key' }));
    expect(w.frame()).toContain('The CA key is encrypted: its passphrase');
    expect(w.frame()).toContain('/pki/root.key');
    expect(w.frame()).toContain('to sign the cluster certificates');
    await w.press('q'); // text here, not "back"
    await w.press('uite-secret', KEY.enter);
    expect(w.intents).toEqual([{ type: 'secret:answer', id: 's1', value: 'quite-secret' }]);
    expect(w.frame()).not.toContain('The CA key');
    for (const frame of w.frames) expect(frame).not.toMatch(/quite|secret/);
  });

  it('asked again after a wrong passphrase: the reason in red, an empty field', async () => {
    const w = await renderWizard(
      ask({
        id: 's2',
        kind: 'key-passphrase',
        subject: '/tmp/pki/pg1.key',
        retry: 'that passphrase does not decrypt /tmp/pki/pg1.key',
      }),
    );
    expect(w.frame()).toContain('✗ that passphrase does not decrypt /tmp/pki/pg1.key');
    expect(w.frame()).toContain('This key is encrypted: its passphrase');
    expect(w.frame()).toContain('Esc: skip (lint reports the key as encrypted)');
  });

  it('Esc answers nothing (the engine then reports its clear error); empty Enter too', async () => {
    const w = await renderWizard(ask({ id: 's3', kind: 'sudo-password', subject: 'admin@pg1' }));
    expect(w.frame()).toContain('sudo on admin@pg1: the password');
    await w.press(KEY.escape);
    expect(w.intents).toEqual([{ type: 'secret:answer', id: 's3', value: undefined }]);
    expect(w.frame()).toContain('Preflight'); // still on the screen: Esc did not go back
    const v = await renderWizard(ask({ id: 's4', kind: 'ssh-key-passphrase', subject: '~/.ssh/id_ed25519' }));
    await v.press(KEY.enter);
    expect(v.intents).toEqual([{ type: 'secret:answer', id: 's4', value: undefined }]);
  });

  it('keyboard-interactive: the server question; echoed prompts are visible, others masked', async () => {
    const w = await renderWizard(
      ask({ id: 's5', kind: 'ssh-prompt', subject: 'pg1', question: 'Verification code:', echo: true }),
    );
    expect(w.frame()).toContain('pg1 asks: Verification code:');
    await w.press('123456');
    expect(w.frame()).toContain('123456');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([{ type: 'secret:answer', id: 's5', value: '123456' }]);
    const p = await renderWizard(
      ask({ id: 's6', kind: 'ssh-prompt', subject: 'pg1', question: 'Password:', echo: false }),
    );
    await p.press('pw-xyz', KEY.enter);
    expect(p.intents).toEqual([{ type: 'secret:answer', id: 's6', value: 'pw-xyz' }]);
    for (const frame of p.frames) expect(frame).not.toContain('pw-xyz');
  });

  it('Ctrl-C over a secret question asks to quit; cancelling brings the question back', async () => {
    const w = await renderWizard(ask({ id: 's7', kind: 'sudo-password', subject: 'admin@pg1' }));
    await w.press(KEY.ctrlC);
    expect(w.frame()).toContain('Quit pgharden?');
    expect(w.frame()).not.toContain('sudo on admin@pg1');
    await w.press('n');
    expect(w.frame()).toContain('sudo on admin@pg1');
    expect(w.intents).toEqual([{ type: 'interrupt:request' }, { type: 'interrupt:cancel' }]);
  });
});
