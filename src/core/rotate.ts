// `pgharden rotate`: leaf re-issue under the same CA (SPEC §9), planning half. A rotation is the
// hardening engine run with other inputs: the nodes' new key and certificate go into the server
// slot the server does not use (tls-files.ts: server.crt/.key and server-b.crt/.key in tlsDir), and
// enable-ssl points ssl_cert_file/ssl_key_file at them in one validated reload — never two in-place
// renames that a concurrent reload could catch half done (LAB-NOTES). Existing sessions and
// replication connections keep going (a reload re-reads TLS files for new connections only); the
// CA is unchanged, so every client that trusted the old certificate trusts the new one.
//
// CA rotation (`--new-ca` twice, then `--finish`) keeps the trust bundle in root.crt, signing CA
// first (loadCa signs with the first block): phase 1 root.crt = old + new (the new key waits in
// root-next.key) and every node's root.crt becomes that bundle; phase 2 root.crt = new + old, the new
// key becomes root.key, every leaf is re-issued under the new CA and switched like a leaf rotation;
// finish root.crt = new, and every node drops the old CA. Everything that reads root.crt (apply,
// verify, the client bundle) follows the phases without knowing them.
//
// The local PKI directory is the record of what the nodes serve (a later `apply` compares against
// it), so its files are copied to <pkiDir>/archive/<runId>/ before anything in it changes, and put
// back if the run is rolled back.
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CA_CERT_FILE,
  CA_KEY_FILE,
  CRL_FILE,
  createCa,
  issueToDir,
  planLeaves,
  requireCa,
  lintFiles,
  writeFileAtomic,
} from '../pki/index.js';
import type { RemoteSession } from '../remote/types.js';
import type { AuthMode, HardenContext, ServerSlot } from '../steps/context.js';
import { enableSsl } from '../steps/enable-ssl.js';
import { installCa } from '../steps/install-ca.js';
import { installServerCert } from '../steps/install-server-cert.js';
import { reload } from '../steps/reload.js';
import { replicationTls } from '../steps/replication-tls.js';
import { activeServerSlot, firstFingerprint } from '../steps/tls-files.js';
import { pemCertificates } from './preflight.js';
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

/** leaves: re-issue under the same CA. new-ca: CA rotation phase 1 or 2 (which one: the PKI dir says). */
export type RotateMode = 'leaves' | 'new-ca' | 'finish';
export type RotationKind = 'leaves' | 'ca-phase1' | 'ca-phase2' | 'ca-finish';

export interface RotateRequest {
  inventory: Inventory;
  pkiDir: string;
  mode: RotateMode;
  /** Only these nodes (inventory names); default every node. Leaf rotation only. */
  nodes?: readonly string[] | undefined;
  /**
   * Leaf rotation with replacement pairs from elsewhere (a company CA): `<node>.crt/.key` per rotated
   * node in this directory, linted (postgres profile, chain to root.crt, the node's names) before
   * anything changes, then used instead of newly issued ones.
   */
  importDir?: string | undefined;
  caPassphrase?: string | undefined;
  now?: Date | undefined;
}

export interface PlannedRotation extends PlannedRun {
  kind: RotationKind;
  nodes: string[];
  /** Copy of the PKI directory's files before this run (restorePki puts it back after a rollback). */
  snapshot: string;
}

/** The new CA's key waits here during phase 1 (root.key still signs with the old one). */
export const CA_NEXT_KEY_FILE = 'root-next.key';

/** Where a CA rotation stands, from the PKI directory: root.crt's certificates and root-next.key. */
export async function caRotationState(pkiDir: string): Promise<'none' | 'phase1' | 'phase2'> {
  const certs = pemCertificates(await readFile(join(pkiDir, CA_CERT_FILE), 'utf8'));
  if (certs.length < 2) return 'none';
  return existsSync(join(pkiDir, CA_NEXT_KEY_FILE)) ? 'phase1' : 'phase2';
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

/** Copies every file of the PKI directory (not its archive) to <pkiDir>/archive/<runId>/, modes kept. */
export async function snapshotPki(pkiDir: string, runId: string): Promise<string> {
  const dir = join(pkiDir, 'archive', runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const name of await topFiles(pkiDir)) await copyKeepingMode(join(pkiDir, name), join(dir, name));
  return dir;
}

/** The PKI directory as the snapshot had it: files it did not have are removed, the others copied back. */
export async function restorePki(pkiDir: string, snapshot: string): Promise<void> {
  const saved = await topFiles(snapshot);
  for (const name of await topFiles(pkiDir)) {
    if (!saved.includes(name)) await rm(join(pkiDir, name), { force: true });
  }
  // Keys before certificates (issueToDir's order): a certificate never sits next to a key that is
  // not its own longer than between two copies.
  const keysFirst = [...saved].sort((a, b) => Number(b.endsWith('.key')) - Number(a.endsWith('.key')));
  for (const name of keysFirst) await copyKeepingMode(join(snapshot, name), join(pkiDir, name));
}

async function topFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

async function copyKeepingMode(from: string, to: string): Promise<void> {
  const mode = (await stat(from)).mode & 0o777;
  await copyFile(from, to);
  await chmod(to, mode);
}

/**
 * Replacement pairs are bad input until lint says otherwise (SPEC §6, postgres profile): each must
 * chain to the trust bundle the nodes have (root.crt), name the node (host and names), and go with
 * its key. One error anywhere refuses the whole rotation before anything changes.
 */
async function lintReplacements(
  inventory: Inventory,
  nodes: readonly string[],
  dir: string,
  pkiDir: string,
): Promise<void> {
  const problems: string[] = [];
  for (const name of nodes) {
    const node = inventory.nodes.find((n) => n.name === name);
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    if (!existsSync(cert) || !existsSync(key)) {
      problems.push(`${name}: ${existsSync(cert) ? key : cert} is missing`);
      continue;
    }
    const result = await lintFiles({
      files: [cert],
      key,
      ca: join(pkiDir, CA_CERT_FILE),
      hosts: [node?.host ?? name, ...(node?.names ?? [])],
      usage: 'server',
      profile: 'postgres',
    });
    // Exit 2: a file could not be read as what it should be (its finding is an error too).
    const errors = result.findings.filter((f) => f.severity === 'error');
    if (errors.length > 0 || result.exitCode !== 0) {
      problems.push(`${name}: ${errors.map((f) => `${f.id} (${f.message})`).join(', ') || 'unreadable'}`);
    }
  }
  if (problems.length > 0) {
    throw new UsageError(
      'rotate.import-lint',
      `replacement certificates refused, nothing was changed: ${problems.join('; ')}`,
      `see \`pgharden certs lint ${join(dir, 'NODE.crt')} --key ${join(dir, 'NODE.key')} --ca ${join(pkiDir, CA_CERT_FILE)} --host HOST\``,
    );
  }
}

/**
 * The auth mode the cluster was hardened with: the inventory's, else what the standbys show (a
 * client certificate in primary_conninfo = certificate auth). It decides which client pairs a
 * rotation re-issues and deploys; guessing "cert" for a SCRAM cluster would add certificates to
 * its replication, so only the deployed state says so.
 */
export function deployedAuth(inventory: Inventory, outcomes: readonly NodeOutcome[]): AuthMode {
  if (inventory.auth !== undefined) return inventory.auth;
  const certReplication = outcomes.some(
    (o) => o.ok && o.facts.pg?.role === 'standby' && /\bsslcert=/.test(o.facts.pg.primaryConninfo ?? ''),
  );
  return certReplication ? 'cert' : 'scram';
}

/** Which rotation a request is, from the PKI directory's state; refuses one that does not fit it. */
export function rotationKind(mode: RotateMode, state: 'none' | 'phase1' | 'phase2'): RotationKind {
  if (mode === 'leaves') return 'leaves';
  if (mode === 'new-ca') {
    if (state === 'none') return 'ca-phase1';
    if (state === 'phase1') return 'ca-phase2';
    throw new UsageError(
      'rotate.ca-phase2-done',
      'the CA rotation is past phase 2: every leaf is under the new CA, the old CA is still trusted',
      'when no client uses the old CA any more, run `pgharden rotate --finish`',
    );
  }
  if (state === 'phase2') return 'ca-finish';
  throw new UsageError(
    'rotate.nothing-to-finish',
    state === 'none'
      ? 'no CA rotation is in progress'
      : 'the CA rotation is in phase 1: leaves are still under the old CA',
    state === 'none'
      ? 'start one with `pgharden rotate --new-ca`'
      : 'run `pgharden rotate --new-ca` again for phase 2 first',
  );
}

/**
 * The nodes must already be where the phase starts from: phase 2 needs every node to trust the new
 * CA (phase 1 done everywhere), finish needs every node to serve its leaf from the new CA (phase 2).
 */
function checkPhaseReached(
  kind: RotationKind,
  prepared: PreparedRun,
  rootPem: string,
  pkiDir: string,
): Promise<void> {
  return (async () => {
    const missing: string[] = [];
    const certs = pemCertificates(rootPem);
    for (const [node, f] of prepared.contexts) {
      if (kind === 'ca-phase2') {
        const next = firstFingerprint(certs[1] ?? '');
        if (!(f.facts.pg.caCerts ?? []).some((c) => c.sha256 === next))
          missing.push(`${node} does not trust the new CA yet`);
      } else if (kind === 'ca-finish') {
        const local = firstFingerprint(await readFile(join(pkiDir, `${node}.crt`), 'utf8'));
        if (f.facts.pg.serverCert?.sha256 !== local)
          missing.push(`${node} does not serve its new-CA certificate`);
      }
    }
    if (missing.length > 0) {
      throw new UsageError(
        'rotate.phase-incomplete',
        `the previous phase is not complete on every node: ${missing.join('; ')}`,
        '`pgharden apply` installs what the PKI directory holds on the nodes that lack it; then run this again (nothing was changed)',
      );
    }
  })();
}

/** The PKI directory's own change for a phase (leaves: none here; issueToDir re-issues below). */
async function advancePki(kind: RotationKind, req: RotateRequest): Promise<void> {
  const { pkiDir } = req;
  const root = join(pkiDir, CA_CERT_FILE);
  const certs = pemCertificates(await readFile(root, 'utf8'));
  const [first = '', second = ''] = certs;
  if (kind === 'ca-phase1') {
    const now = req.now ?? new Date();
    const ca = await createCa({
      cluster: req.inventory.cluster,
      generation: now.toISOString().slice(0, 10),
      ...(req.caPassphrase === undefined ? {} : { passphrase: req.caPassphrase }),
      now,
    });
    // The key first: a crash in between leaves a key nobody trusts yet, never a trusted CA without its key.
    await writeFileAtomic(join(pkiDir, CA_NEXT_KEY_FILE), ca.keyPem, 0o600);
    await writeFileAtomic(root, `${first}\n${ca.certPem}`, 0o644);
  } else if (kind === 'ca-phase2') {
    // The new CA signs from now on: first in root.crt, its key in root.key; the old one stays trusted.
    await writeFileAtomic(
      join(pkiDir, CA_KEY_FILE),
      await readFile(join(pkiDir, CA_NEXT_KEY_FILE), 'utf8'),
      0o600,
    );
    await writeFileAtomic(root, `${second}\n${first}\n`, 0o644);
    await rm(join(pkiDir, CA_NEXT_KEY_FILE));
  } else if (kind === 'ca-finish') {
    await writeFileAtomic(root, `${first}\n`, 0o644);
  }
}

/**
 * Refuse what cannot be rotated (before anything changes, local PKI included), snapshot the PKI
 * directory, change it for the phase, then plan what the nodes need: new pairs into the spare server
 * slot (leaves, CA phase 2) or the new CA bundle (CA phase 1, finish).
 */
export async function planRotation(
  req: RotateRequest,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  signal: AbortSignal,
  runId: string = newRunId(),
): Promise<PlannedRotation> {
  const { inventory, pkiDir } = req;
  if (req.mode !== 'leaves' && req.nodes !== undefined && req.nodes.length > 0) {
    throw new UsageError(
      'rotate.ca-every-node',
      '--nodes limits a leaf rotation only: a CA rotation phase covers every node',
      'drop --nodes',
    );
  }
  const nodes = rotationNodes(inventory, req.nodes);
  await requireCa(pkiDir, req.caPassphrase);
  if (req.importDir !== undefined) {
    if (req.mode !== 'leaves') {
      throw new UsageError(
        'rotate.import-ca',
        '--certs import: replaces leaves; it does not go with --new-ca/--finish',
      );
    }
    await lintReplacements(inventory, nodes, req.importDir, pkiDir);
  }
  const kind = rotationKind(req.mode, await caRotationState(pkiDir));
  if (kind !== 'leaves' && existsSync(join(pkiDir, CRL_FILE))) {
    // ssl_crl_file makes OpenSSL demand a CRL from every CA of a client's chain: certificates of
    // the new CA would be refused until it has one. Not handled yet, so not started.
    throw new UsageError(
      'rotate.ca-with-crl',
      `${join(pkiDir, CRL_FILE)} exists: a CA rotation with a deployed CRL is not supported by this version`,
      'nothing was changed; rotate leaves (`pgharden rotate`) or revoke and re-issue instead',
    );
  }
  const auth = deployedAuth(inventory, outcomes);
  const base: HardenRequest = {
    inventory,
    auth,
    certs: 'import',
    pkiDir,
    ...(req.caPassphrase === undefined ? {} : { caPassphrase: req.caPassphrase }),
    passwords: new Map(),
  };
  // As deployed now: every node up, one primary, the pairs present and matching, pgharden's TLS on.
  const deployed = await prepareHardening(base, outcomes, sessions);
  const slots = servingSlots(deployed, nodes);
  await checkPhaseReached(kind, deployed, await readFile(join(pkiDir, CA_CERT_FILE), 'utf8'), pkiDir);
  const snapshot = await snapshotPki(pkiDir, runId);
  try {
    await advancePki(kind, req);
    const newLeaves = kind === 'leaves' || kind === 'ca-phase2';
    const allNodes = nodes.length === inventory.nodes.length;
    if (req.importDir !== undefined) {
      for (const node of nodes) {
        await copyKeepingMode(join(req.importDir, `${node}.key`), join(pkiDir, `${node}.key`));
        await chmod(join(pkiDir, `${node}.key`), 0o600);
        await copyKeepingMode(join(req.importDir, `${node}.crt`), join(pkiDir, `${node}.crt`));
      }
    } else if (newLeaves) {
      await issueToDir({
        dir: pkiDir,
        cluster: inventory.cluster,
        // Leaves: only the rotated nodes' server leaves (anything else issueToDir would re-issue, a
        // client leaf near expiry, would leave the local PKI saying something no node serves).
        // CA phase 2: every leaf; those of the old CA are re-issued by issueToDir itself.
        // With certificate auth a rotation of every node re-issues the client pairs too (SPEC §9:
        // "per node and per client role"); --nodes limits it to those nodes' server leaves.
        leaves:
          kind === 'leaves'
            ? planLeaves(inventory, allNodes ? certRoles(base) : []).filter(
                (l) => (l.kind === 'node' && nodes.includes(l.name)) || l.kind === 'client',
              )
            : planLeaves(inventory, certRoles(base)),
        ...(kind === 'leaves' ? { reissue: new Set([...nodes, ...(allNodes ? certRoles(base) : [])]) } : {}),
        ...(req.caPassphrase === undefined ? {} : { caPassphrase: req.caPassphrase }),
      });
    }
    const run = await prepareHardening(base, outcomes, sessions);
    const stepsOf = (node: string) => {
      if (!newLeaves) return [installCa, reload];
      const f = run.contexts.get(node) as HardenContext;
      f.serverSlot = other(slots.get(node) as ServerSlot);
      // A standby that authenticates its replication with a certificate gets its new pair too (it
      // presents it at its next reconnect).
      const replication =
        f.role === 'standby' && certRoles(base).length > 0 && (allNodes || kind !== 'leaves');
      const tail = replication ? [replicationTls] : [];
      if (kind === 'leaves') return [installServerCert, enableSsl, ...tail];
      // Phase 2 reorders root.crt (the new CA signs now, so it comes first; same two CAs).
      return [installCa, installServerCert, enableSsl, ...tail];
    };
    const nodePlans: NodePlan<HardenContext>[] = run.nodePlans
      .filter((np) => nodes.includes(np.node))
      .map((np) => ({ ...np, steps: stepsOf(np.node) }));
    // Side by side: a reload changes nothing for existing connections, and every phase keeps a CA
    // that both the old and the new leaves chain to.
    const rotation: PreparedRun = {
      ...run,
      nodePlans,
      phases: [nodePlans.map((np) => ({ node: np.node, steps: np.steps }))],
    };
    const plan = await planHardening(rotation, base, runId, signal);
    return { plan, run: rotation, runId, generated: new Map(), kind, nodes, snapshot };
  } catch (err) {
    await restorePki(pkiDir, snapshot);
    throw err;
  }
}
