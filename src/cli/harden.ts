// `pgharden plan` and `pgharden apply` (SPEC §3): preflight, plan, and — for apply, after the plan
// was shown and --yes given — run it node by node with journal, backups and rollback.
import { readFile, writeFile } from 'node:fs/promises';
import { preflightAll } from '../core/audit-run.js';
import { EventBus, type EngineEvent } from '../core/events.js';
import { InterruptedError, UsageError, type ExitCode } from '../core/errors.js';
import { changedSince, type HardenRequest, type PlanDocument } from '../core/harden.js';
import { applyPlanned, closeSessions, planFromPreflight, type PlannedRun } from '../core/harden-flow.js';
import { loadInventory } from '../core/inventory.js';
import type { Inventory } from '../core/inventory-schema.js';
import { expandHome, stateDir } from '../core/paths.js';
import { detectMode } from '../core/terminal.js';
import type { RemoteSession } from '../remote/types.js';
import type { AuthMode } from '../steps/context.js';
import type { CliIo, GlobalOptions } from './io.js';
import { inventoryPkiDir } from './certs-issue.js';
import { reportFailure } from './report-error.js';
import { envSecrets, envSecretValues } from './secrets.js';
import { auditProgressView } from './views/audit-human.js';
import { jsonLinesView } from './views/json-lines.js';
import { renderPlan } from './views/plan-human.js';
import { makeStyle, type Style } from './views/style.js';

export interface HardenFlags {
  inventory: string;
  auth?: string;
  certs?: string;
  out?: string;
  plan?: string;
}

function authOf(flags: HardenFlags, inventory: Inventory): AuthMode {
  const auth = flags.auth ?? inventory.auth;
  if (auth === 'scram' || auth === 'cert' || auth === 'scram+cert') return auth;
  throw new UsageError(
    'plan.auth',
    'no auth mode chosen',
    'pass --auth scram|cert|scram+cert or set auth: in the inventory',
  );
}

function certsOf(
  flags: HardenFlags,
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
): { certs: HardenRequest['certs']; dir: string } {
  const spec = flags.certs ?? 'generate';
  const defaultDir = inventoryPkiDir(inventory, env);
  if (spec === 'generate') return { certs: 'generate', dir: defaultDir };
  if (spec.startsWith('import:') && spec.length > 'import:'.length) {
    return { certs: 'import', dir: expandHome(spec.slice('import:'.length)) };
  }
  throw new UsageError('plan.certs', `--certs ${spec}: expected generate or import:DIR`);
}

function stepView(stderr: NodeJS.WritableStream, style: Style) {
  const progress = auditProgressView(stderr, style);
  return (e: EngineEvent): void => {
    switch (e.type) {
      case 'step:done':
        stderr.write(
          `${style('green', '✓')} ${e.node} ${e.step}${e.skipped ? style('gray', ' (already done)') : ''} ${style('gray', `${e.ms} ms`)}\n`,
        );
        break;
      case 'step:failed':
        stderr.write(`${style('red', '✗')} ${e.node} ${e.step}: ${e.error.message}\n`);
        break;
      case 'rollback:started':
      case 'rollback:done':
      case 'rollback:failed':
        stderr.write(`${style('yellow', '↺')} ${JSON.stringify(e)}\n`);
        break;
      default:
        progress(e);
    }
  };
}

interface Planned extends PlannedRun {
  sessions: Map<string, RemoteSession>;
  inventory: Inventory;
}

async function preparePlan(
  flags: HardenFlags,
  global: GlobalOptions,
  io: CliIo,
  bus: EventBus,
  signal: AbortSignal,
): Promise<Planned> {
  const { inventory } = await loadInventory(flags.inventory);
  const auth = authOf(flags, inventory);
  const { certs, dir } = certsOf(flags, inventory, io.env);
  const { outcomes, sessions } = await preflightAll(
    inventory,
    bus,
    {
      hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
      secrets: envSecrets(io.env),
    },
    signal,
  );
  try {
    const planned = await planFromPreflight(
      { inventory, auth, certs, pkiDir: dir },
      outcomes,
      sessions,
      { env: io.env, secretsFile: global.secrets },
      signal,
    );
    return { ...planned, sessions, inventory };
  } catch (err) {
    await closeSessions(sessions);
    throw err;
  }
}

export async function planCommand(flags: HardenFlags, global: GlobalOptions, io: CliIo): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const style = makeStyle(mode.color);
  const json = global.json === true ? jsonLinesView(io.stdout, () => envSecretValues(io.env)) : undefined;
  const bus = new EventBus();
  bus.subscribe(json ? json.onEvent : auditProgressView(io.stderr, style));
  try {
    const p = await preparePlan(flags, global, io, bus, new AbortController().signal);
    await closeSessions(p.sessions);
    if (flags.out !== undefined)
      await writeFile(expandHome(flags.out), `${JSON.stringify(p.plan, null, 2)}\n`, { mode: 0o600 });
    if (json)
      json.summary({ command: 'plan', exitCode: 0, plan: p.plan, ...(flags.out ? { path: flags.out } : {}) });
    else renderPlan(io.stdout, style, p.plan);
    return 0;
  } catch (err) {
    return reportFailure(err, 'plan', global, io);
  }
}

async function readSavedPlan(path: string): Promise<PlanDocument> {
  try {
    const doc = JSON.parse(await readFile(expandHome(path), 'utf8')) as PlanDocument;
    if (doc.v !== 1 || !Array.isArray(doc.nodes)) throw new Error('not a pgharden plan');
    return doc;
  } catch (err) {
    throw new UsageError(
      'apply.bad-plan',
      `cannot use ${path}: ${err instanceof Error ? err.message : String(err)}`,
      'write one with `pgharden plan -o plan.json`',
    );
  }
}

export async function applyCommand(flags: HardenFlags, global: GlobalOptions, io: CliIo): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const style = makeStyle(mode.color);
  const json = global.json === true ? jsonLinesView(io.stdout, () => envSecretValues(io.env)) : undefined;
  const bus = new EventBus();
  bus.subscribe(json ? json.onEvent : stepView(io.stderr, style));
  const controller = new AbortController();
  const onSigint = (): void =>
    controller.abort(new InterruptedError('run.interrupted', 'stopped by the operator (SIGINT)'));
  process.once('SIGINT', onSigint);
  let sessions = new Map<string, RemoteSession>();
  try {
    const saved = flags.plan === undefined ? undefined : await readSavedPlan(flags.plan);
    const p = await preparePlan(flags, global, io, bus, controller.signal);
    sessions = p.sessions;
    if (saved !== undefined) {
      const changed = changedSince(saved, p.plan);
      if (changed.length > 0) {
        throw new UsageError(
          'apply.plan-stale',
          `the cluster changed since ${flags.plan} was written: ${changed.join('; ')}`,
          'run `pgharden plan -o plan.json` again and review it',
        );
      }
    }
    if (!json) renderPlan(io.stdout, style, p.plan);
    const needed = p.plan.nodes.some((n) => n.steps.some((s) => s.needed));
    if (!needed) {
      json?.summary({ command: 'apply', exitCode: 0, runId: null, changed: false });
      return 0;
    }
    if (global.yes !== true) {
      throw new UsageError(
        'apply.confirm',
        'the plan above was not confirmed',
        'pass --yes to apply it (nothing was changed)',
      );
    }
    const { result, journalPath } = await applyPlanned({
      ...p,
      inventoryPath: flags.inventory,
      stateDir: stateDir(io.env, global.stateDir),
      bus,
      signal: controller.signal,
    });
    json?.summary({
      command: 'apply',
      exitCode: 0,
      runId: result.runId,
      nodes: result.nodes,
      journal: journalPath,
    });
    if (!json)
      io.stderr.write(
        `${style('green', '✓')} applied; run ${result.runId}, journal ${journalPath}\n  → next: pgharden verify -i ${flags.inventory}\n`,
      );
    return 0;
  } catch (err) {
    return reportFailure(err, 'apply', global, io);
  } finally {
    process.off('SIGINT', onSigint);
    await closeSessions(sessions);
  }
}
