// Secrets the wizard asks the operator for, on the engine side of the port: SSH key passphrases, sudo
// passwords and keyboard-interactive answers (remote/types.ts `Secrets`), and the passphrases of an
// encrypted CA key or imported keys. Answers come from masked prompts (EngineHooks.askSecret); they
// are handed to the code that needs them and never reach the wizard's state, an event or a log.
import { join } from 'node:path';
import { PghardenError, UsageError } from '../core/errors.js';
import { CA_KEY_FILE, loadCaFromDir, readPrivateKey } from '../pki/index.js';
import type { Secrets } from '../remote/types.js';
import type { SecretRequest } from './state.js';

export type AskSecret = (request: SecretRequest) => Promise<string | undefined>;

const codeOf = (err: unknown): string | undefined => (PghardenError.is(err) ? err.code : undefined);

/**
 * SSH secrets: the headless environment variables first (same as `pgharden` without the wizard),
 * then a prompt. `remembered` holds answers for the wizard's session (memory only), so verify's new
 * connections and nodes connecting at the same time ask once per key file / user@node.
 */
export function promptedSecrets(
  env: NodeJS.ProcessEnv,
  ask: AskSecret,
  remembered: Map<string, Promise<string | undefined>>,
): Secrets {
  const once = (key: string, request: SecretRequest): Promise<string | undefined> => {
    const known = remembered.get(key);
    if (known !== undefined) return known;
    const asked = ask(request);
    remembered.set(key, asked);
    // Esc is not remembered: a later connection may ask again.
    void asked.then((v) => (v === undefined ? remembered.delete(key) : undefined));
    return asked;
  };
  return {
    keyPassphrase: (file) => {
      const fromEnv = env['PGHARDEN_SSH_KEY_PASSPHRASE'];
      if (fromEnv) return Promise.resolve(fromEnv);
      return once(`key:${file}`, { kind: 'ssh-key-passphrase', subject: file });
    },
    sudoPassword: (node, user) => {
      const fromEnv = env['PGHARDEN_SUDO_PASSWORD'];
      if (fromEnv) return Promise.resolve(fromEnv);
      return once(`sudo:${user}@${node}`, { kind: 'sudo-password', subject: `${user}@${node}` });
    },
    keyboardInteractive: async (node, prompts) => {
      const answers: string[] = [];
      for (const p of prompts) {
        const answer = await ask({ kind: 'ssh-prompt', subject: node, question: p.prompt, echo: p.echo });
        if (answer === undefined) return undefined;
        answers.push(answer);
      }
      return answers;
    },
  };
}

/**
 * The passphrase of the PKI directory's CA key: undefined when there is no CA yet or its key is not
 * encrypted. A wrong passphrase is said and asked again; Esc stops with `key.encrypted-no-passphrase`.
 */
export async function unlockCa(dir: string, ask: AskSecret | undefined): Promise<string | undefined> {
  const file = join(dir, CA_KEY_FILE);
  let given: string | undefined;
  let retry: string | undefined;
  for (;;) {
    try {
      await loadCaFromDir(dir, given);
      return given;
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'key.encrypted-no-passphrase' && code !== 'key.wrong-passphrase') throw err;
      if (code === 'key.wrong-passphrase') retry = 'that passphrase does not decrypt the CA key';
      given = ask === undefined ? undefined : await ask({ kind: 'ca-passphrase', subject: file, retry });
      if (given === undefined) {
        throw new UsageError(
          'key.encrypted-no-passphrase',
          `${file} (the CA key) is encrypted and no passphrase was given`,
          'choose Generate again and type its passphrase, or import certificates issued elsewhere',
        );
      }
    }
  }
}

/**
 * The passphrase of an imported private key, checked: undefined when the key is not encrypted, cannot
 * be read (lint reports why), or the operator gave none (lint then says it is encrypted).
 */
export async function unlockKey(file: string, ask: AskSecret | undefined): Promise<string | undefined> {
  if (ask === undefined) return undefined;
  let retry: string | undefined;
  for (;;) {
    let given: string | undefined;
    try {
      await readPrivateKey(file, {
        passphrase: async () => (given = await ask({ kind: 'key-passphrase', subject: file, retry })),
      });
      return given;
    } catch (err) {
      if (codeOf(err) !== 'key.wrong-passphrase') return undefined;
      retry = 'that passphrase does not decrypt this key';
    }
  }
}
