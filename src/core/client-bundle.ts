// The client bundle of a run (SPEC §4 screen 9): what an application team needs to connect after
// hardening, in one 0700 directory — the cluster CA (root.crt), a certificate and key per role that
// authenticates with one (keys 0600), and ready libpq connection strings (sslmode=verify-full) per
// node and role. Never a password: SCRAM roles keep theirs, and it is not ours to write down.
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from './inventory-schema.js';

export interface ClientBundleRequest {
  /** Created (or reused) with mode 0700. */
  dir: string;
  inventory: Inventory;
  /** Where root.crt and `<role>.crt/.key` of the run are. */
  pkiDir: string;
  /** Roles with a client certificate (certRoles: every inventory role under cert auth). */
  certRoles: readonly string[];
}

export interface ClientBundle {
  dir: string;
  /** Every file written, absolute. */
  files: string[];
  connections: string;
}

/** libpq keyword/value: a value with a space, quote or backslash is quoted (libpq's own rule). */
function kv(key: string, value: string): string {
  return /^[^\s'\\]+$/.test(value) ? `${key}=${value}` : `${key}='${value.replace(/[\\']/g, '\\$&')}'`;
}

/** Pure: the connections.txt of a bundle in `dir`. */
export function connectionLines(inventory: Inventory, dir: string, certRoles: readonly string[]): string[] {
  const roles = (inventory.roles ?? []).filter((r) => r.kind === 'client').map((r) => r.name);
  const users = roles.length > 0 ? roles : ['ROLE'];
  const lines = [
    `# ${inventory.cluster}: libpq connection strings (psql "…", PGSERVICE, drivers).`,
    '# TLS is required and the server certificate is checked against the cluster CA and the host name.',
    '# No password here: give it the usual way (prompt, ~/.pgpass, PGPASSWORD) where SCRAM is used.',
  ];
  for (const user of users) {
    lines.push('', `# role ${user}`);
    const cert = certRoles.includes(user);
    for (const n of inventory.nodes) {
      const parts = [
        kv('host', n.host),
        kv('port', String(n.pg?.port ?? 5432)),
        'dbname=postgres',
        kv('user', user),
        'sslmode=verify-full',
        kv('sslrootcert', join(dir, 'root.crt')),
        ...(cert ? [kv('sslcert', join(dir, `${user}.crt`)), kv('sslkey', join(dir, `${user}.key`))] : []),
      ];
      lines.push(`${n.name} (${n.role}): ${parts.join(' ')}`);
    }
  }
  return lines;
}

export async function writeClientBundle(req: ClientBundleRequest): Promise<ClientBundle> {
  await mkdir(req.dir, { recursive: true, mode: 0o700 });
  await chmod(req.dir, 0o700); // mkdir's mode passes through the umask and skips existing dirs
  const files: string[] = [];
  const put = async (name: string, mode: number): Promise<void> => {
    const to = join(req.dir, name);
    await copyFile(join(req.pkiDir, name), to);
    await chmod(to, mode);
    files.push(to);
  };
  await put('root.crt', 0o644);
  for (const role of req.certRoles) {
    await put(`${role}.crt`, 0o644);
    await put(`${role}.key`, 0o600);
  }
  const connections = join(req.dir, 'connections.txt');
  await writeFile(connections, `${connectionLines(req.inventory, req.dir, req.certRoles).join('\n')}\n`, {
    mode: 0o600,
  });
  files.push(connections);
  return { dir: req.dir, files, connections };
}
