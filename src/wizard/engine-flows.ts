// What the wizard's engine adapter does for its flows around the main job, kept out of engine.ts:
// saving the answers for a headless replay (inventory + plan.json, never a secret), and turning an
// interrupted run's journal into what the screens show.
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../core/errors.js';
import { assertNoSecrets } from '../core/harden.js';
import type { PlannedRun } from '../core/harden-flow.js';
import { AUTH_MODES, inventorySchema, type Inventory } from '../core/inventory-schema.js';
import { planFileText } from '../core/plan-file.js';
import { caRotationState } from '../core/rotate.js';
import { passwordEnvVar } from '../core/secrets.js';
import type { CertFacts, NodeOutcome } from '../core/facts.js';
import type { AuthMode } from '../steps/context.js';
import type { CertSource } from './port.js';
import type { InventoryView, RotationView, SavedAnswers } from './state.js';

/** A word the operator can paste into a POSIX shell as is (quoted only when it needs to be). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function viewOf(loaded: { path: string; inventory: Inventory }): InventoryView {
  const inv = loaded.inventory;
  return {
    path: loaded.path,
    cluster: inv.cluster,
    topology: inv.topology,
    network: inv.network,
    nodes: inv.nodes.map((n) => ({ name: n.name, host: n.host, role: n.role })),
  };
}

export function authMode(value: string | undefined, runId: string): AuthMode {
  const mode = AUTH_MODES.find((m) => m === value);
  if (mode === undefined) {
    throw new UsageError(
      'resume.auth',
      `run ${runId} does not say which auth mode it applied`,
      `set auth: in its inventory, or run \`pgharden resume ${runId} -i INVENTORY\``,
    );
  }
  return mode;
}

/**
 * The wizard's answers as files a headless run replays: the inventory with the chosen auth (keys of
 * the inventory schema only, validated again) and the plan exactly as `pgharden plan -o` writes it.
 * Never a secret: passwords stay in the environment or a --secrets file; the files are checked.
 */
export async function saveReplay(
  dir: string,
  inventory: Inventory,
  planned: PlannedRun,
  certs: { source: CertSource; dir: string },
  secrets: readonly string[],
): Promise<SavedAnswers> {
  const inventoryPath = join(dir, 'inventory.yaml');
  const planPath = join(dir, 'plan.json');
  const inventoryText =
    `# Saved by the pgharden wizard for a headless replay of plan.json (no secret in here).\n` +
    stringify(inventorySchema.parse({ ...inventory, auth: planned.plan.auth }));
  const planText = planFileText(planned.plan);
  assertNoSecrets(inventoryText + planText, [...secrets, ...planned.run.secrets]);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  if (!st.isDirectory() || (st.mode & 0o077) !== 0) {
    throw new UsageError(
      'save.dir-mode',
      `${dir} is not a private directory (mode ${(st.mode & 0o777).toString(8)})`,
      'choose a new directory (it is made 0700), or chmod 700 this one',
    );
  }
  for (const p of [inventoryPath, planPath]) {
    if (existsSync(p)) {
      throw new UsageError(
        'save.exists',
        `${p} exists already`,
        'choose another directory; nothing was written',
      );
    }
  }
  await writeFile(inventoryPath, inventoryText, { mode: 0o600, flag: 'wx' });
  await writeFile(planPath, planText, { mode: 0o600, flag: 'wx' });
  await chmod(dir, 0o700);
  const passwords = planned.run.contexts.values().next().value?.passwords ?? new Map<string, string>();
  const typed = [...passwords.keys()].filter((role) => !planned.generated.has(role)).sort();
  const certsFlag = certs.source.kind === 'import' ? ` --certs ${shellWord(`import:${certs.dir}`)}` : '';
  return {
    dir,
    inventory: inventoryPath,
    plan: planPath,
    command: `pgharden apply -i ${shellWord(inventoryPath)} --plan ${shellWord(planPath)}${certsFlag} --yes`,
    env: typed.map((role) => passwordEnvVar(role)),
  };
}

/**
 * The rotation screen's view: per node the server certificate, the CA bundle's certificates and the
 * replication client certificate preflight read (SPEC §9, the same ones audit reports), and where a
 * CA rotation stands in the PKI directory.
 */
export async function rotationViewOf(
  inventory: Inventory,
  outcomes: readonly NodeOutcome[],
  pkiDir: string,
): Promise<RotationView> {
  const certs: RotationView['certs'] = [];
  for (const o of outcomes) {
    if (!o.ok || o.facts.pg === undefined) continue;
    const pg = o.facts.pg;
    const add = (what: RotationView['certs'][number]['what'], c: CertFacts | undefined): void => {
      if (c !== undefined)
        certs.push({ node: o.node, what, subject: c.subject, notAfter: c.notAfter, daysLeft: c.daysLeft });
    };
    add('server', pg.serverCert);
    for (const ca of pg.caCerts ?? []) add('CA', ca);
    add('replication client', pg.replicationCert);
  }
  const order = new Map(inventory.nodes.map((n, i) => [n.name, i]));
  certs.sort((a, b) => (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0));
  return { pkiDir, caState: await caRotationState(pkiDir), certs };
}
