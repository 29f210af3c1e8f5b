// Everything a hardening run may touch on the lab, read directly (the lab runs on this machine), so
// a test can prove a rollback left it exactly as before: config files byte for byte with owner and
// mode, ~/.pgpass, the TLS directory (contents or absence), the settings the steps change, the role
// hashes scram-migration replaces, and when each postmaster started (no restart).
import { createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Lab, LabNode } from '../lab/types.js';
import { primaryOf } from './lab-sql.js';

const run = promisify(execFile);

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** Where pgharden puts a node's TLS files (src/core/harden.ts: beside the data directory). */
export const tlsDirOf = (n: LabNode): string => join(dirname(n.dataDir), 'pgharden-tls');

/** The files a run edits or could edit on a node (postgresql.conf only by mistake). */
export const configFilesOf = (n: LabNode): string[] => [
  ...['postgresql.conf', 'postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf'].map((f) =>
    join(n.dataDir, f),
  ),
  join(n.home, '.pgpass'),
];

async function fileState(path: string): Promise<string> {
  try {
    const [s, content] = await Promise.all([stat(path), readFile(path)]);
    return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)} ${sha256(content)}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}

async function dirState(dir: string): Promise<Record<string, string> | 'absent'> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  const out: Record<string, string> = { '.': await dirMode(dir) };
  for (const name of names.sort()) out[name] = await fileState(join(dir, name));
  return out;
}

async function dirMode(dir: string): Promise<string> {
  const s = await stat(dir);
  return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
}

const SETTINGS = [
  'ssl',
  'ssl_cert_file',
  'ssl_key_file',
  'ssl_ca_file',
  'ssl_min_protocol_version',
  'password_encryption',
  'primary_conninfo',
];

export interface NodeSnapshot {
  files: Record<string, string>;
  tlsDir: Record<string, string> | 'absent';
  /** Live values of the settings the steps change (proves the restored files were reloaded). */
  settings: string;
  postmasterStart: string;
}

export interface LabSnapshot {
  nodes: Record<string, NodeSnapshot>;
  /** sha256 of every role's stored password hash, read on the primary (never printed). */
  roleHashes: string;
}

/** psql as the node's OS user, like lab-sql's sql(), but not blocking: the nodes are read side by side. */
async function query(node: LabNode, q: string): Promise<string> {
  const args = ['-u', node.osUser, '--', `${node.binDir}/psql`, '-XAtq', '-h', node.socketDir];
  const r = await run('runuser', [...args, '-U', 'postgres', '-d', 'postgres', '-c', q], {
    encoding: 'utf8',
  });
  return r.stdout.trim();
}

const SETTINGS_SQL = `SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN (${SETTINGS.map((s) => `'${s}'`).join(', ')})`;

async function nodeSnapshot(n: LabNode): Promise<NodeSnapshot> {
  const files: Record<string, string> = {};
  for (const f of configFilesOf(n)) files[f] = await fileState(f);
  const [settings = '', postmasterStart = ''] = (
    await query(n, `SELECT (${SETTINGS_SQL}) || E'\\n' || pg_postmaster_start_time()`)
  ).split('\n');
  return { files, tlsDir: await dirState(tlsDirOf(n)), settings, postmasterStart };
}

export async function snapshot(lab: Lab): Promise<LabSnapshot> {
  const [roles, ...nodes] = await Promise.all([
    query(
      primaryOf(lab),
      "SELECT string_agg(rolname || ':' || coalesce(rolpassword, ''), ',' ORDER BY rolname) FROM pg_authid",
    ),
    ...lab.nodes.map(nodeSnapshot),
  ]);
  return {
    nodes: Object.fromEntries(lab.nodes.map((n, i) => [n.name, nodes[i] as NodeSnapshot])),
    roleHashes: sha256(roles),
  };
}

/** Backups, temp files and markers pgharden leaves beside files it touches (`*.pgharden-*`). */
export function pghardenLeftovers(lab: Lab): string[] {
  // find's exit status is ignored: PostgreSQL may delete a file of its own while find walks by.
  return lab.nodes.flatMap((n) =>
    spawnSync('find', [n.home, '-name', '*.pgharden-*'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l !== ''),
  );
}
