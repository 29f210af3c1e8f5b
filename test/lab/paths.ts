// Where everything of a lab lives, and which node of which variant sits on which address with which user.
import type { LabVariant } from './types.js';

export const LAB_BASE = '/var/lib/pgharden-lab';
export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const PG_PORT = 5432;
export const SSH_PORT = 22;
export const VARIANTS: readonly LabVariant[] = ['streaming', 'pg_auto_failover', 'pgpool'];

export function isVariant(v: string): v is LabVariant {
  return (VARIANTS as readonly string[]).includes(v);
}

export function variantRoot(variant: LabVariant): string {
  return `${LAB_BASE}/${variant}`;
}

export interface OperatorPaths {
  dir: string;
  identityFile: string;
  knownHosts: string;
  knownHostsHashed: string;
  inventory: string;
  secrets: string;
  labJson: string;
  /** Written while `up` runs, so a `down` after a crash mid-way still finds what was started. */
  startedJson: string;
}

export function operatorPaths(variant: LabVariant): OperatorPaths {
  const dir = `${variantRoot(variant)}/operator`;
  return {
    dir,
    identityFile: `${dir}/id_ed25519`,
    knownHosts: `${dir}/known_hosts`,
    knownHostsHashed: `${dir}/known_hosts.hashed`,
    inventory: `${dir}/inventory.yaml`,
    secrets: `${dir}/secrets.yaml`,
    labJson: `${dir}/lab.json`,
    startedJson: `${dir}/started.json`,
  };
}

/** Directory of root-owned authorized_keys files, one per login user (AuthorizedKeysFile …/%u). */
export function authorizedKeysDir(variant: LabVariant): string {
  return `${variantRoot(variant)}/authorized_keys`;
}

/** One host of a lab: a PostgreSQL node or a pooler. */
export interface HostSpec {
  name: string;
  host: string;
  user: string;
  kind: 'primary' | 'standby' | 'monitor' | 'pooler';
}

/** Addresses that must be assigned to `lo` (pg_autoctl needs its hostname on an interface). */
export function addressesToAssign(variant: LabVariant): string[] {
  return variant === 'pg_auto_failover' ? ['127.0.1.11', '127.0.1.12', '127.0.1.13'] : [];
}

export function hostsOf(variant: LabVariant, nodes = 3): HostSpec[] {
  switch (variant) {
    case 'streaming': {
      if (!Number.isInteger(nodes) || nodes < 2 || nodes > 9) {
        throw new Error(`lab: streaming needs 2..9 nodes, got ${nodes}`);
      }
      return Array.from({ length: nodes }, (_, i) => ({
        name: `pg${i + 1}`,
        host: `127.0.1.${i + 1}`,
        user: `lab_s${i + 1}`,
        kind: i === 0 ? 'primary' : 'standby',
      }));
    }
    case 'pg_auto_failover':
      return [
        { name: 'monitor', host: '127.0.1.11', user: 'lab_a0', kind: 'monitor' },
        { name: 'node1', host: '127.0.1.12', user: 'lab_a1', kind: 'primary' },
        { name: 'node2', host: '127.0.1.13', user: 'lab_a2', kind: 'standby' },
      ];
    case 'pgpool':
      return [
        { name: 'pg1', host: '127.0.1.21', user: 'lab_p1', kind: 'primary' },
        { name: 'pg2', host: '127.0.1.22', user: 'lab_p2', kind: 'standby' },
        { name: 'pg3', host: '127.0.1.23', user: 'lab_p3', kind: 'standby' },
        { name: 'pool1', host: '127.0.1.20', user: 'lab_pool', kind: 'pooler' },
      ];
  }
}

export function homeOf(variant: LabVariant, name: string): string {
  return `${variantRoot(variant)}/${name}`;
}
