// Secrets the SSH layer may ask for, from the environment (headless) — never from argv.
import type { Secrets } from '../remote/types.js';

export function envSecrets(env: NodeJS.ProcessEnv): Secrets {
  return {
    keyPassphrase: () => Promise.resolve(env['PGHARDEN_SSH_KEY_PASSPHRASE'] || undefined),
    sudoPassword: () => Promise.resolve(env['PGHARDEN_SUDO_PASSWORD'] || undefined),
  };
}

export function envSecretValues(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(
      ([k, v]) =>
        v !== undefined &&
        (k.startsWith('PGHARDEN_PASSWORD_') ||
          k === 'PGHARDEN_SUDO_PASSWORD' ||
          k === 'PGHARDEN_SSH_KEY_PASSPHRASE'),
    )
    .map(([, v]) => v as string);
}
