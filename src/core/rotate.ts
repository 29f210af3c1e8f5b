// `pgharden rotate`: leaf re-issue under the same CA (SPEC §9), planning half. A rotation is the
// hardening engine run with other inputs: the nodes' new key and certificate go into the server
// slot the server does not use (tls-files.ts: server.crt/.key and server-b.crt/.key in tlsDir), and
// enable-ssl points ssl_cert_file/ssl_key_file at them in one validated reload — never two in-place
// renames that a concurrent reload could catch half done (LAB-NOTES). Existing sessions and
// replication connections keep going (a reload re-reads TLS files for new connections only); the
// CA is unchanged, so every client that trusted the old certificate trusts the new one.
//
// The local PKI directory is the record of what the nodes serve (a later `apply` compares against
// it), so the old pairs are copied to <pkiDir>/archive/<runId>/ before new ones are issued, and put
// back if the run is rolled back.
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { issueToDir, planLeaves, requireCa } from '../pki/index.js';
import type { RemoteSession } from '../remote/types.js';
import type { AuthMode, HardenContext, ServerSlot } from '../steps/context.js';
import { enableSsl } from '../steps/enable-ssl.js';
import { installServerCert } from '../steps/install-server-cert.js';
import { activeServerSlot } from '../steps/tls-files.js';
import { UsageError } from './errors.js';
import type { NodeOutcome } from './facts.js';
import {
  certRoles,
  planHardening,
  prepareHardening,
  type HardenRequest,
  type PreparedRun,
} from './harden.js';
import type { PlannedRun } from './harden-flow.js';
import type { Inventory } from './inventory-schema.js';
import { newRunId } from './journal.js';
import type { NodePlan } from './runner.js';

export interface RotateRequest {
  inventory: Inventory;
  pkiDir: string;
  /** Only these nodes (inventory names); default every node. */
  nodes?: readonly string[] | undefined;
  caPassphrase?: string | undefined;
}

export interface PlannedRotation extends PlannedRun {
  nodes: string[];
  /** Where the replaced local pairs were copied (restored by restoreArchive after a rollback). */
  archive: string;
}

/** The nodes to rotate: every one, or the `--nodes` list (each must be in the inventory). */
export function rotationNodes(inventory: Inventory, only: readonly string[] | undefined): string[] {
  const all = inventory.nodes.map((n) => n.name);
  if (only === undefined || only.length === 0) return all;
  const unknown = only.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(
      'rotate.unknown-node',
      `--nodes names ${unknown.join(', ')}, which the inventory does not have`,
      `nodes: ${all.join(', ')}`,
    );
  }
  return all.filter((n) => only.includes(n));
}

const other = (s: ServerSlot): ServerSlot => (s === 'a' ? 'b' : 'a');

/**
 * Which slot each rotated node serves now. Refuses a node that serves no pair of pgharden's (ssl off,
 * or certificates someone else installed): `pgharden apply` hardens it first.
 */
export function servingSlots(prepared: PreparedRun, nodes: readonly string[]): Map<string, ServerSlot> {
  const slots = new Map<string, ServerSlot>();
  const bad: string[] = [];
  for (const node of nodes) {
    const f = prepared.contexts.get(node) as HardenContext;
    const slot = activeServerSlot(f);
    const ssl = f.facts.pg.settings['ssl']?.setting;
    if (slot === undefined || ssl !== 'on') {
      const file = f.facts.pg.settings['ssl_cert_file']?.setting ?? '?';
      bad.push(`${node} (ssl ${ssl ?? '?'}, ssl_cert_file ${file})`);
    } else slots.set(node, slot);
  }
  if (bad.length > 0) {
    throw new UsageError(
      'rotate.not-hardened',
      `not serving a certificate pgharden installed: ${bad.join('; ')}`,
      'harden the cluster first (`pgharden apply`); rotate re-issues what apply installed',
    );
  }
  return slots;
}

/** Copies the nodes' current pairs to <pkiDir>/archive/<runId>/ (0700, keys stay 0600). */
export async function archivePairs(pkiDir: string, runId: string, names: readonly string[]): Promise<string> {
  const dir = join(pkiDir, 'archive', runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const name of names) {
    for (const [ext, mode] of [
      ['key', 0o600],
      ['crt', 0o644],
    ] as const) {
      const to = join(dir, `${name}.${ext}`);
      await copyFile(join(pkiDir, `${name}.${ext}`), to);
      await chmod(to, mode);
    }
  }
  return dir;
}

/** Puts the archived pairs back (after a rollback: the nodes serve them again). */
export async function restoreArchive(
  pkiDir: string,
  archive: string,
  names: readonly string[],
): Promise<void> {
  for (const name of names) {
    // Key first, as issueToDir writes: a certificate never sits next to a key that is not its own
    // longer than between these two copies.
    await copyFile(join(archive, `${name}.key`), join(pkiDir, `${name}.key`));
    await chmod(join(pkiDir, `${name}.key`), 0o600);
    await copyFile(join(archive, `${name}.crt`), join(pkiDir, `${name}.crt`));
  }
}

/**
 * Refuse what cannot be rotated (before anything changes, local PKI included), archive and re-issue
 * the pairs, then plan install-server-cert + enable-ssl into the spare slot of each node.
 */
export async function planRotation(
  req: RotateRequest,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  signal: AbortSignal,
  runId: string = newRunId(),
): Promise<PlannedRotation> {
  const { inventory, pkiDir } = req;
  const nodes = rotationNodes(inventory, req.nodes);
  await requireCa(pkiDir, req.caPassphrase);
  // Server rotation does not depend on the auth mode; cert auth needs the client pairs to be there.
  const auth: AuthMode = inventory.auth ?? 'scram';
  const base: HardenRequest = {
    inventory,
    auth,
    certs: 'import',
    pkiDir,
    ...(req.caPassphrase === undefined ? {} : { caPassphrase: req.caPassphrase }),
    passwords: new Map(),
  };
  // As deployed now: every node up, one primary, the pairs present and matching.
  const slots = servingSlots(await prepareHardening(base, outcomes, sessions), nodes);
  const archive = await archivePairs(pkiDir, runId, nodes);
  try {
    await issueToDir({
      dir: pkiDir,
      cluster: inventory.cluster,
      // Only the rotated nodes' server leaves: anything else issueToDir would re-issue (a client
      // leaf near expiry) would leave the local PKI saying something no node serves.
      leaves: planLeaves(inventory, certRoles(base)).filter(
        (l) => l.kind === 'node' && nodes.includes(l.name),
      ),
      reissue: new Set(nodes),
      ...(req.caPassphrase === undefined ? {} : { caPassphrase: req.caPassphrase }),
    });
    const run = await prepareHardening(base, outcomes, sessions);
    for (const node of nodes) {
      const f = run.contexts.get(node) as HardenContext;
      f.serverSlot = other(slots.get(node) as ServerSlot);
    }
    const steps = [installServerCert, enableSsl];
    const nodePlans: NodePlan<HardenContext>[] = run.nodePlans
      .filter((np) => nodes.includes(np.node))
      .map((np) => ({ ...np, steps }));
    // Side by side: a reload changes nothing for existing connections, and the CA stays.
    const rotation: PreparedRun = { ...run, nodePlans, phases: [nodes.map((node) => ({ node, steps }))] };
    const plan = await planHardening(rotation, base, runId, signal);
    return { plan, run: rotation, runId, generated: new Map(), nodes, archive };
  } catch (err) {
    await restoreArchive(pkiDir, archive, nodes);
    throw err;
  }
}
