// The lab: real PostgreSQL clusters from Debian packages, each host on its own 127.0.1.x address with its
// own OS user and its own sshd. `up` gives a fresh cluster each time; `down` stops by pid and removes it all.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  LAB_BASE,
  addressesToAssign,
  homeOf,
  hostsOf,
  operatorPaths,
  variantRoot,
  VARIANTS,
  type HostSpec,
} from './paths.js';
import { allSettled, bothSettled, mkdirOwned, run, type OsUser } from './proc.js';
import { writeInventory, writeSecrets } from './inventory.js';
import { makeOperatorKey, startSshd, writeKnownHosts } from './sshd.js';
import { StartedRecorder, readLabState, writeLabState, type LabState } from './state.js';
import { SUDO_NOPASSWD_USER, SUDO_PASSWORD_USER, ensureSudoUsers, ensureUsers, makeHome } from './users.js';
import {
  newPassword,
  passwordsFor,
  upPgAutoFailover,
  upPgpool,
  upStreaming,
  type VariantContext,
} from './variants.js';
import { collectPids, currentPids, expectedAlive, stopAll } from './teardown.js';
import type { Lab, LabVariant } from './types.js';

export type { Lab, LabNode, LabPooler, LabVariant } from './types.js';
export type { LabState } from './state.js';

export interface UpOptions {
  /** streaming only: number of nodes, 2..9 (default 3). */
  nodes?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** pg_auto_failover only: data nodes created with `--skip-pg-hba` (pg_autoctl never edits their pg_hba.conf). */
  skipPgHba?: boolean;
}

/** The sudo password is shared by all running variants (one OS user): reuse a running lab's. */
async function sudoPassword(except: LabVariant): Promise<string> {
  for (const v of VARIANTS) {
    if (v === except) continue;
    const s = await readLabState(v);
    if (s !== undefined && (await isUp(v))) return s.sudoUsers.withPassword.password;
  }
  return newPassword();
}

async function assignAddresses(variant: LabVariant, rec: StartedRecorder): Promise<void> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo']);
  for (const a of addressesToAssign(variant)) {
    // Already there: left by a lab that crashed before its `down` (these addresses are the lab's by design).
    if (!stdout.includes(` ${a}/`)) await run('ip', ['addr', 'add', `${a}/8`, 'dev', 'lo']);
    await rec.address(a);
  }
}

/** Bring up a fresh lab of `variant` (tearing down a running one first). */
export async function up(variant: LabVariant, opts: UpOptions = {}): Promise<Lab> {
  const t0 = performance.now();
  const sink = opts.log ?? ((): void => undefined);
  const log = (line: string): void => sink(`${line} (+${Math.round(performance.now() - t0)} ms)`);
  const hosts: HostSpec[] = hostsOf(variant, opts.nodes ?? 3);
  await down(variant);
  const root = variantRoot(variant);
  const op = operatorPaths(variant);
  await mkdirOwned(LAB_BASE, 0o755);
  await mkdirOwned(root, 0o755);
  await mkdirOwned(op.dir, 0o700);
  const rec = new StartedRecorder(variant);
  await rec.flush();
  try {
    const lab = await bringUp(variant, hosts, rec, log, opts.skipPgHba === true);
    const state: LabState = {
      ...lab,
      pids: rec.started.pids,
      addresses: rec.started.addresses,
      upMs: Math.round(performance.now() - t0),
      startedAt: new Date().toISOString(),
    };
    await writeLabState(state);
    sink(`lab ${variant}: up in ${state.upMs} ms`);
    return lab;
  } catch (e) {
    log(`lab ${variant}: up failed, tearing down what was started`);
    await down(variant).catch((err: unknown) =>
      log(`lab ${variant}: teardown after failure: ${String(err)}`),
    );
    throw e;
  }
}

async function bringUp(
  variant: LabVariant,
  hosts: HostSpec[],
  rec: StartedRecorder,
  log: (line: string) => void,
  skipPgHba = false,
): Promise<Lab> {
  const op = operatorPaths(variant);
  const users = await ensureUsers(hosts.map((h) => ({ name: h.user, home: homeOf(variant, h.name) })));
  const sudoPw = await sudoPassword(variant);
  await ensureSudoUsers(sudoPw);
  await allSettled([...users.values()].map((u: OsUser) => makeHome(u)));
  const sudoers = [SUDO_NOPASSWD_USER, SUDO_PASSWORD_USER];
  await makeOperatorKey(variant, [...hosts.map((h) => h.user), ...sudoers]);
  await assignAddresses(variant, rec);
  log(`lab ${variant}: users, keys and addresses ready`);

  const passwords = passwordsFor(variant);
  const ctx: VariantContext = {
    variant,
    hosts,
    users,
    identUsers: [...hosts.map((h) => h.user), ...sudoers],
    passwords,
    rec,
    log,
    skipPgHba,
  };
  const hostKeys: { host: string; hostKey: string }[] = [];
  const sshds = hosts.map(async (h) => {
    const { pid, hostKey } = await startSshd(variant, h.host, h.user, homeOf(variant, h.name), sudoers);
    await rec.pid(pid);
    hostKeys.push({ host: h.host, hostKey });
    log(`lab ${variant}: sshd ${h.host} up`);
  });
  const db =
    variant === 'streaming' ? upStreaming(ctx) : variant === 'pgpool' ? upPgpool(ctx) : upPgAutoFailover(ctx);
  const [result] = await bothSettled(db, allSettled(sshds));
  log(`lab ${variant}: PostgreSQL and sshd ready`);

  // Record the PostgreSQL pids as they are now (pg_autoctl starts its own; `down` reads postmaster.pid again).
  for (const p of await currentPids(variant)) {
    if (!rec.started.pids.some((r) => r.pid === p.pid)) await rec.pid(p);
  }
  hostKeys.sort(
    (a, b) => hosts.findIndex((h) => h.host === a.host) - hosts.findIndex((h) => h.host === b.host),
  );
  await writeKnownHosts(variant, hostKeys);
  const lab: Lab = {
    variant,
    root: variantRoot(variant),
    inventoryPath: op.inventory,
    identityFile: op.identityFile,
    knownHostsPath: op.knownHosts,
    knownHostsHashedPath: op.knownHostsHashed,
    secretsPath: op.secrets,
    passwords,
    nodes: result.nodes,
    poolers: result.poolers,
    sudoUsers: {
      nopasswd: SUDO_NOPASSWD_USER,
      withPassword: { user: SUDO_PASSWORD_USER, password: sudoPw },
    },
  };
  await writeSecrets(lab);
  await writeInventory(lab);
  return lab;
}

/** Stop everything of `variant` by pid, remove the addresses it assigned and its state dir. No-op if not up. */
export async function down(variant: LabVariant): Promise<void> {
  const root = variantRoot(variant);
  if (!existsSync(root)) return;
  const { phases, addresses } = await collectPids(variant);
  await stopAll(phases);
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo']);
  for (const a of addresses) {
    if (stdout.includes(` ${a}/`)) await run('ip', ['addr', 'del', `${a}/8`, 'dev', 'lo']);
  }
  await rm(root, { recursive: true, force: true, maxRetries: 3 });
}

export async function downAll(): Promise<void> {
  for (const v of VARIANTS) await down(v);
}

/** The Lab of a running (or at least recorded) variant, from its lab.json; undefined when there is none. */
export async function readLab(variant: LabVariant): Promise<LabState | undefined> {
  return readLabState(variant);
}

/** lab.json exists and every process the lab runs (by its current pid files) is alive. */
export async function isUp(variant: LabVariant): Promise<boolean> {
  const state = await readLabState(variant);
  return state !== undefined && (await expectedAlive(state));
}
