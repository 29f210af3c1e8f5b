// Who the probes log in as (SPEC §3 secrets): a client certificate from the PKI dir, a password from
// PGHARDEN_PASSWORD_<ROLE>, or from the --secrets file (0600 only). Values never leave this module
// except into the pg client's password callback.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../core/errors.js';

/** `app` → PGHARDEN_PASSWORD_APP; every character outside A–Z0–9 becomes `_`. */
export function passwordEnvVar(role: string): string {
  return `PGHARDEN_PASSWORD_${role.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** YAML map role → password; refused (exit 2) unless the file is 0600 or stricter. */
export async function readSecretsFile(path: string): Promise<Map<string, string>> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    throw new UsageError('secrets.unreadable', `cannot read secrets file ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0)
    throw new UsageError(
      'secrets.mode',
      `secrets file ${path} has mode ${mode.toString(8).padStart(4, '0')}: others can read it`,
      `chmod 600 ${path}`,
    );
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch {
    // The YAML error would quote the file, i.e. a password.
    throw new UsageError('secrets.invalid', `secrets file ${path} is not valid YAML`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError('secrets.invalid', `secrets file ${path} must be a YAML map role → password`);
  const out = new Map<string, string>();
  for (const [role, value] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new UsageError('secrets.invalid', `secrets file ${path}: the value of ${role} is not a string`);
    out.set(role, String(value));
  }
  return out;
}

export interface ClientCert {
  cert: string;
  key: string;
}

export interface Credential {
  role: string;
  password: string | undefined;
  cert: ClientCert | undefined;
}

async function readCert(dir: string, role: string): Promise<ClientCert | undefined> {
  try {
    const [cert, key] = await Promise.all([
      readFile(join(dir, `${role}.crt`), 'utf8'),
      readFile(join(dir, `${role}.key`), 'utf8'),
    ]);
    return { cert, key };
  } catch {
    return undefined;
  }
}

/** Every inventory role with what we have to log in as it (client roles first). */
export async function resolveCredentials(
  roles: { name: string; kind: string }[],
  pkiDir: string,
  env: NodeJS.ProcessEnv,
  secrets: Map<string, string>,
): Promise<Credential[]> {
  const ordered = [...roles.filter((r) => r.kind === 'client'), ...roles.filter((r) => r.kind !== 'client')];
  return Promise.all(
    ordered.map(async (r) => ({
      role: r.name,
      password: env[passwordEnvVar(r.name)] || secrets.get(r.name),
      cert: await readCert(pkiDir, r.name),
    })),
  );
}

/** The credential the probes log in with: the first client role that has a password or a cert. */
export function loginCredential(creds: Credential[]): Credential | undefined {
  return creds.find((c) => c.password !== undefined || c.cert !== undefined);
}
