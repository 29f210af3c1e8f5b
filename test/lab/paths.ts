// Where everything of a lab lives, and which node of which variant sits on which address with which user.
import type { LabVariant } from './types.js';

/**
 * PGHARDEN_LAB_SLOT=1|2 runs a second or third set of labs beside the default one (slot 0), so two
 * people (or helpers in their own worktrees) can run the e2e tests at once: each slot has its own
 * base directory, OS users (`lab1_s1`, …) and loopback addresses (slot 1: 127.0.1.121–143, slot 2:
 * 127.0.1.151–173; slot 0 keeps 127.0.1.1–23). Addresses the tests use as "nobody there"
 * (127.0.1.97–99, .198–.199) and the bench's source addresses (.200–.254) stay clear of every slot.
 */
export const LAB_SLOT = labSlot(process.env['PGHARDEN_LAB_SLOT']);
export const LAB_BASE = LAB_SLOT === 0 ? '/var/lib/pgharden-lab' : `/var/lib/pgharden-lab-slot${LAB_SLOT}`;
/** Prefix of every lab OS user of this slot. */
export const LAB_USER_PREFIX = LAB_SLOT === 0 ? 'lab_' : `lab${LAB_SLOT}_`;
const ADDRESS_OFFSET = LAB_SLOT === 0 ? 0 : 90 + LAB_SLOT * 30;

function labSlot(value: string | undefined): number {
  if (value === undefined || value === '' || value === '0') return 0;
  if (value === '1' || value === '2') return Number(value);
  throw new Error(`PGHARDEN_LAB_SLOT=${value}: expected 0, 1 or 2`);
}

/** 127.0.1.<n> of this slot. */
export function labAddress(n: number): string {
  return `127.0.1.${ADDRESS_OFFSET + n}`;
}
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
  return variant === 'pg_auto_failover' ? [labAddress(11), labAddress(12), labAddress(13)] : [];
}

export function hostsOf(variant: LabVariant, nodes = 3): HostSpec[] {
  switch (variant) {
    case 'streaming': {
      if (!Number.isInteger(nodes) || nodes < 2 || nodes > 9) {
        throw new Error(`lab: streaming needs 2..9 nodes, got ${nodes}`);
      }
      return Array.from({ length: nodes }, (_, i) => ({
        name: `pg${i + 1}`,
        host: labAddress(i + 1),
        user: `${LAB_USER_PREFIX}s${i + 1}`,
        kind: i === 0 ? 'primary' : 'standby',
      }));
    }
    case 'pg_auto_failover':
      return [
        { name: 'monitor', host: labAddress(11), user: `${LAB_USER_PREFIX}a0`, kind: 'monitor' },
        { name: 'node1', host: labAddress(12), user: `${LAB_USER_PREFIX}a1`, kind: 'primary' },
        { name: 'node2', host: labAddress(13), user: `${LAB_USER_PREFIX}a2`, kind: 'standby' },
      ];
    case 'pgpool':
      return [
        { name: 'pg1', host: labAddress(21), user: `${LAB_USER_PREFIX}p1`, kind: 'primary' },
        { name: 'pg2', host: labAddress(22), user: `${LAB_USER_PREFIX}p2`, kind: 'standby' },
        { name: 'pg3', host: labAddress(23), user: `${LAB_USER_PREFIX}p3`, kind: 'standby' },
        { name: 'pool1', host: labAddress(20), user: `${LAB_USER_PREFIX}pool`, kind: 'pooler' },
      ];
  }
}

export function homeOf(variant: LabVariant, name: string): string {
  return `${variantRoot(variant)}/${name}`;
}
