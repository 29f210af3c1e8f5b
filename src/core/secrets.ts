// Passwords for the md5 → SCRAM reset (SPEC §3): the environment (`PGHARDEN_PASSWORD_<ROLE>`), the
// `--secrets` file (0600 only), a prompt, or — for internal roles, and for client roles only with
// `--generate-passwords` — a generated one. Never argv. A headless run that lacks a client role's
// password stops here with exit 2, before any node is touched. Values never appear in an error.
import { randomBytes } from 'node:crypto';
import { UsageError } from './errors.js';
import { passwordEnvVar, readSecretsFile } from '../verify/credentials.js';
import type { Inventory } from './inventory-schema.js';

export { passwordEnvVar } from '../verify/credentials.js';

export type RoleKind = NonNullable<Inventory['roles']>[number]['kind'];

export interface PasswordRole {
  name: string;
  kind: RoleKind;
}

export interface ResolvePasswordsOptions {
  /** The roles that need a password in this run (e.g. those with an md5 hash). */
  roles: readonly PasswordRole[];
  env: NodeJS.ProcessEnv;
  /** `--secrets FILE`: YAML map role → password, refused unless mode 0600. */
  secretsFile?: string | undefined;
  /** Interactive runs only (the wizard); absent = headless. undefined answer = no password given. */
  prompt?: ((role: string) => Promise<string | undefined>) | undefined;
  /** `--generate-passwords`: client roles without a password get a new one (for the client bundle). */
  generatePasswords?: boolean | undefined;
  /**
   * Passwords this run generated before (its 0600 secrets file, read by `resume`): used instead of
   * generating again, since a role may already have the first one.
   */
  generatedBefore?: ReadonlyMap<string, string> | undefined;
}

export interface ResolvedPassword {
  password: string;
  source: 'env' | 'file' | 'prompt' | 'generated';
}

/** Internal roles: pgharden owns every consumer of their password, so it may issue a new one. */
export const INTERNAL_KINDS: readonly RoleKind[] = ['replication', 'monitor', 'health-check'];

/** 18 random bytes → 24 base64url characters (144 bits): safe in .pgpass, YAML and conninfo. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Role → password for every role in `roles`. Throws UsageError (exit 2) naming the env variable when
 * a client role has none; that happens before any change, so the cluster is untouched.
 */
export async function resolvePasswords(
  options: ResolvePasswordsOptions,
): Promise<Map<string, ResolvedPassword>> {
  const file =
    options.secretsFile === undefined
      ? new Map<string, string>()
      : await readSecretsFile(options.secretsFile);
  const out = new Map<string, ResolvedPassword>();
  const missing: string[] = [];
  for (const role of options.roles) {
    const fromEnv = options.env[passwordEnvVar(role.name)];
    const fromFile = file.get(role.name);
    if (fromEnv !== undefined && fromEnv !== '') out.set(role.name, { password: fromEnv, source: 'env' });
    else if (fromFile !== undefined && fromFile !== '')
      out.set(role.name, { password: fromFile, source: 'file' });
    else if (INTERNAL_KINDS.includes(role.kind) || options.generatePasswords === true)
      out.set(role.name, {
        password: options.generatedBefore?.get(role.name) ?? generatePassword(),
        source: 'generated',
      });
    else if (options.prompt !== undefined) {
      const typed = await options.prompt(role.name);
      if (typed === undefined || typed === '') missing.push(role.name);
      else out.set(role.name, { password: typed, source: 'prompt' });
    } else missing.push(role.name);
  }
  if (missing.length > 0) {
    const vars = missing.map(passwordEnvVar);
    throw new UsageError(
      'secrets.missing-password',
      `no password for client role${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: its md5 hash must be replaced by a SCRAM verifier`,
      `set ${vars.join(', ')}, or put ${missing.join(', ')} in a 0600 --secrets file, or pass --generate-passwords to issue new ones`,
    );
  }
  return out;
}

/** Just the passwords, as HardenContext.passwords wants them. */
export function passwordMap(resolved: ReadonlyMap<string, ResolvedPassword>): Map<string, string> {
  return new Map([...resolved].map(([role, r]) => [role, r.password]));
}
