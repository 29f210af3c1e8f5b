// The one place that knows about the operator's home directory and XDG dirs (lint keeps os.homedir here).
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Inventory } from './inventory-schema.js';

export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['HOME'] ?? homedir();
}

/** `~` and `~/x` → the operator's home; other paths resolved against `base` (default cwd). */
export function expandHome(
  path: string,
  base: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (path === '~') return homeDir(env);
  if (path.startsWith('~/')) return join(homeDir(env), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

export function stateDir(env: NodeJS.ProcessEnv = process.env, override?: string): string {
  if (override !== undefined) return expandHome(override);
  const base = env['XDG_STATE_HOME'] ?? join(homeDir(env), '.local', 'state');
  return join(base, 'pgharden');
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_DATA_HOME'] ?? join(homeDir(env), '.local', 'share');
  return join(base, 'pgharden');
}

/** The PKI directory an inventory names (`pki.dir`), else the cluster's default. */
export function inventoryPkiDir(
  inventory: Pick<Inventory, 'cluster' | 'pki'>,
  env: NodeJS.ProcessEnv,
): string {
  return inventory.pki?.dir ?? pkiDir(inventory.cluster, env);
}

/** Default PKI directory of a cluster (SPEC §2). */
export function pkiDir(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), cluster, 'pki');
}

export function defaultKnownHosts(env: NodeJS.ProcessEnv = process.env): string {
  return join(homeDir(env), '.ssh', 'known_hosts');
}

export function defaultSshConfig(env: NodeJS.ProcessEnv = process.env): string {
  return join(homeDir(env), '.ssh', 'config');
}
