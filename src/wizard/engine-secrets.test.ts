import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../core/inventory-schema.js';
import { issueToDir, planLeaves } from '../pki/index.js';
import { reviewPkiDir } from './cert-review.js';
import { promptedSecrets, unlockCa, unlockKey } from './engine-secrets.js';
import type { SecretRequest } from './state.js';

/** A scripted operator: answers in order, records what was asked. */
function operator(...answers: (string | undefined)[]) {
  const asked: SecretRequest[] = [];
  return {
    asked,
    ask: (r: SecretRequest): Promise<string | undefined> => {
      asked.push(r);
      return Promise.resolve(answers.shift());
    },
  };
}

const inventory: Inventory = {
  cluster: 'lab',
  topology: 'streaming',
  network: ['127.0.0.0/8'],
  nodes: [{ name: 'pg1', host: '127.0.1.1', role: 'primary' }],
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgh-secrets-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('unlockCa', () => {
  it('no CA yet or an unencrypted one: nothing asked', async () => {
    const o = operator();
    expect(await unlockCa(dir, o.ask)).toBeUndefined();
    await issueToDir({ dir, cluster: 'lab', leaves: [] });
    expect(await unlockCa(dir, o.ask)).toBeUndefined();
    expect(o.asked).toEqual([]);
  });

  it('encrypted: asks; a wrong passphrase is said and asked again; the right one is returned', async () => {
    await issueToDir({ dir, cluster: 'lab', leaves: [], caPassphrase: 'right-one' });
    const o = operator('wrong-one', 'right-one');
    expect(await unlockCa(dir, o.ask)).toBe('right-one');
    expect(o.asked).toEqual([
      { kind: 'ca-passphrase', subject: join(dir, 'root.key'), retry: undefined },
      {
        kind: 'ca-passphrase',
        subject: join(dir, 'root.key'),
        retry: 'that passphrase does not decrypt the CA key',
      },
    ]);
  });

  it('Esc: a clear usage error, whose message holds no passphrase', async () => {
    await issueToDir({ dir, cluster: 'lab', leaves: [], caPassphrase: 'right-one' });
    const err = await unlockCa(dir, operator('wrong-one', undefined).ask).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'key.encrypted-no-passphrase', exitCode: 2 });
    expect(String((err as Error).message)).not.toContain('wrong-one');
  });
});

describe('imported encrypted keys', () => {
  async function encryptedPki(): Promise<void> {
    await issueToDir({ dir, cluster: 'lab', leaves: planLeaves(inventory, []) });
    const key = createPrivateKey(await readFile(join(dir, 'pg1.key'), 'utf8'));
    const pem = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'kpass' });
    await writeFile(join(dir, 'pg1.key'), pem, { mode: 0o600 });
  }

  it('unlockKey: asks again after a wrong passphrase; Esc gives undefined; plain keys ask nothing', async () => {
    await encryptedPki();
    const o = operator('nope', 'kpass');
    expect(await unlockKey(join(dir, 'pg1.key'), o.ask)).toBe('kpass');
    expect(o.asked.map((a) => a.retry)).toEqual([undefined, 'that passphrase does not decrypt this key']);
    expect(await unlockKey(join(dir, 'pg1.key'), operator(undefined).ask)).toBeUndefined();
    const none = operator();
    expect(await unlockKey(join(dir, 'root.key'), none.ask)).toBeUndefined();
    expect(none.asked).toEqual([]);
  });

  it('review: with the passphrase the key is checked against its cert (and still flagged encrypted)', async () => {
    await encryptedPki();
    const o = operator('kpass');
    const items = await reviewPkiDir(dir, inventory, 'scram', new Map(), o.ask);
    expect(o.asked).toEqual([{ kind: 'key-passphrase', subject: join(dir, 'pg1.key'), retry: undefined }]);
    const ids = items[1]!.findings.map((f) => f.id);
    expect(ids).toContain('key.encrypted');
    expect(ids).not.toContain('key.encrypted-no-passphrase');
    expect(JSON.stringify(items)).not.toContain('kpass');
    // Esc: lint says no passphrase was given.
    const skipped = await reviewPkiDir(dir, inventory, 'scram', new Map(), operator(undefined).ask);
    expect(skipped[1]!.findings.map((f) => f.id)).toContain('key.encrypted-no-passphrase');
  });
});

describe('promptedSecrets', () => {
  it('the environment first; otherwise asked once per key file even for nodes connecting together', async () => {
    const o = operator('kp');
    const remembered = new Map<string, Promise<string | undefined>>();
    const s = promptedSecrets({}, o.ask, remembered);
    const both = await Promise.all([s.keyPassphrase!('/k'), s.keyPassphrase!('/k')]);
    expect(both).toEqual(['kp', 'kp']);
    expect(o.asked).toEqual([{ kind: 'ssh-key-passphrase', subject: '/k' }]);
    const env = promptedSecrets({ PGHARDEN_SUDO_PASSWORD: 'envpw' }, o.ask, remembered);
    expect(await env.sudoPassword!('pg1', 'admin')).toBe('envpw');
    expect(o.asked).toHaveLength(1);
  });

  it('Esc is not remembered; sudo is asked per user@node', async () => {
    const o = operator(undefined, 'pw');
    const s = promptedSecrets({}, o.ask, new Map());
    expect(await s.sudoPassword!('pg1', 'admin')).toBeUndefined();
    expect(await s.sudoPassword!('pg1', 'admin')).toBe('pw');
    expect(o.asked.map((a) => `${a.kind} ${a.subject}`)).toEqual([
      'sudo-password admin@pg1',
      'sudo-password admin@pg1',
    ]);
  });

  it('keyboard-interactive: one question per server prompt; Esc on any gives up the method', async () => {
    const o = operator('123456', 'pw', undefined);
    const s = promptedSecrets({}, o.ask, new Map());
    const prompts = [
      { prompt: 'Verification code: ', echo: true },
      { prompt: 'Password: ', echo: false },
    ];
    expect(await s.keyboardInteractive!('pg1', prompts)).toEqual(['123456', 'pw']);
    expect(o.asked[0]).toEqual({
      kind: 'ssh-prompt',
      subject: 'pg1',
      question: 'Verification code: ',
      echo: true,
    });
    expect(await s.keyboardInteractive!('pg1', prompts)).toBeUndefined();
    expect(await s.keyboardInteractive!('pg1', [])).toEqual([]);
  });
});
