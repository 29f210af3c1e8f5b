// `pgharden plan` and `pgharden apply` (SPEC §3): preflight, plan, and — for apply, after the plan
// was shown and --yes given — run it node by node with journal, backups and rollback.
import { runAbortController } from '../core/abort.js';
import { closeSessions, preflightAll, type ConnectOptions } from '../core/audit-run.js';
import { EventBus, type EngineEvent } from '../core/events.js';
import { InterruptedError, toPghardenError, UsageError, type ExitCode } from '../core/errors.js';
// Planning and running pull in @peculiar/x509 and the steps: imported while the SSH connections are
// being made (preparePlan), not before them — ~100 ms off every run's critical path.
import type { HardenRequest } from '../core/harden.js';
import { readPlanFile, writePlanFile } from '../core/plan-file.js';
import type { ConfirmedRun, PlannedRun } from '../core/harden-flow.js';
import { loadInventory } from '../core/inventory.js';
import type { Inventory } from '../core/inventory-schema.js';
import { expandHome, inventoryPkiDir, stateDir } from '../core/paths.js';
import type { RunResult } from '../core/runner.js';
import { detectMode } from '../core/terminal.js';
import type { RemoteSession } from '../remote/types.js';
import type { AuthMode } from '../steps/context.js';
import type { CliIo, GlobalOptions } from './io.js';
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

/** `--certs generate|import:DIR` (plan, apply, rotate): the import directory, or undefined for generate. */
export function importDirOf(spec: string, errorCode: string): string | undefined {
  if (spec === 'generate') return undefined;
  if (spec.startsWith('import:') && spec.length > 'import:'.length) {
    return expandHome(spec.slice('import:'.length));
  }
  throw new UsageError(errorCode, `--certs ${spec}: expected generate or import:DIR`);
}

function certsOf(
  flags: HardenFlags,
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
  fixedDir: string | undefined,
): { certs: HardenRequest['certs']; dir: string } {
  const dir = importDirOf(flags.certs ?? 'generate', 'plan.certs');
  return dir === undefined
    ? { certs: 'generate', dir: fixedDir ?? inventoryPkiDir(inventory, env) }
    : { certs: 'import', dir };
}

function stepView(stderr: NodeJS.WritableStream, style: Style) {
  const progress = auditProgressView(stderr, style);
  return (e: EngineEvent): void => {
    switch (e.type) {
      case 'step:done':
        stderr.write(
          `${style('green', '✓')} ${e.node} ${e.step}${e.skipped ? style('gray', e.skipped === 'already-done' ? ' (already done)' : ' (done before the resume)') : ''} ${style('gray', `${e.ms} ms`)}\n`,
        );
        break;
      case 'step:failed':
        stderr.write(`${style('red', '✗')} ${e.node} ${e.step}: ${e.error.message}\n`);
        break;
      case 'test:paused':
        stderr.write(
          `${style('yellow', '⏸')} ${e.node} ${e.step}: paused before apply (PGHARDEN_TEST_PAUSE_AT); SIGUSR2 goes on\n`,
        );
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

export interface Planned extends PlannedRun {
  sessions: Map<string, RemoteSession>;
  inventory: Inventory;
  /** As the operator gave it (-i, or the one the resumed run recorded). */
  inventoryPath: string;
  certs: HardenRequest['certs'];
  pkiDir: string;
  /** What preflight connected with: a node that drops mid-run is reconnected the same way. */
  connectOptions: ConnectOptions;
}

/**
 * Preflight, passwords, certificates, plan. `resume` passes the run's id and the PKI dir it used,
 * so the same CA and certificates are found again (never a new CA halfway through a run).
 */
export async function preparePlan(
  flags: HardenFlags,
  global: GlobalOptions,
  io: CliIo,
  bus: EventBus,
  signal: AbortSignal,
  fixed: {
    runId?: string | undefined;
    pkiDir?: string | undefined;
    generatedBefore?: ReadonlyMap<string, string> | undefined;
  } = {},
): Promise<Planned> {
  const { inventory } = await loadInventory(flags.inventory);
  const auth = authOf(flags, inventory);
  const { certs, dir } = certsOf(flags, inventory, io.env, fixed.pkiDir);
  const connectOptions: ConnectOptions = {
    hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
    secrets: envSecrets(io.env),
  };
  const flow = import('../core/harden-flow.js');
  const { outcomes, sessions } = await preflightAll(inventory, bus, connectOptions, signal);
  try {
    const { planFromPreflight } = await flow;
    const planned = await planFromPreflight(
      { inventory, auth, certs, pkiDir: dir },
      outcomes,
      sessions,
      { env: io.env, secretsFile: global.secrets, generatedBefore: fixed.generatedBefore },
      signal,
      fixed.runId,
    );
    return {
      ...planned,
      sessions,
      inventory,
      inventoryPath: flags.inventory,
      certs,
      pkiDir: dir,
      connectOptions,
    };
  } catch (err) {
    await closeSessions(sessions.values());
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
    const p = await preparePlan(flags, global, io, bus, runAbortController().signal);
    await closeSessions(p.sessions.values());
    if (flags.out !== undefined) await writePlanFile(expandHome(flags.out), p.plan);
    if (json)
      json.summary({ command: 'plan', exitCode: 0, plan: p.plan, ...(flags.out ? { path: flags.out } : {}) });
    else renderPlan(io.stdout, style, p.plan);
    return 0;
  } catch (err) {
    return reportFailure(err, 'plan', global, io);
  }
}

export async function applyCommand(flags: HardenFlags, global: GlobalOptions, io: CliIo): Promise<ExitCode> {
  return runFrame('apply', global, io, async (frame) => {
    const saved = flags.plan === undefined ? undefined : await readPlanFile(flags.plan);
    const p = await preparePlan(flags, global, io, frame.bus, frame.signal);
    frame.sessions = p.sessions;
    if (saved !== undefined) {
      const { changedSince } = await import('../core/harden.js');
      const changed = changedSince(saved, p.plan);
      if (changed.length > 0) {
        throw new UsageError(
          'apply.plan-stale',
          `the cluster changed since ${flags.plan} was written: ${changed.join('; ')}`,
          'run `pgharden plan -o plan.json` again and review it',
        );
      }
    }
    if (!frame.json) renderPlan(io.stdout, frame.style, p.plan);
    const needed = p.plan.nodes.some((n) => n.steps.some((s) => s.needed));
    if (!needed) {
      frame.json?.summary({ command: 'apply', exitCode: 0, runId: null, changed: false });
      return 0;
    }
    if (global.yes !== true) {
      throw new UsageError(
        'apply.confirm',
        'the plan above was not confirmed',
        'pass --yes to apply it (nothing was changed)',
      );
    }
    const { applyPlanned } = await import('../core/harden-flow.js');
    return runConfirmed(p, 'apply', frame, global, io, (req) =>
      // Headless and --yes: the plan was read moments ago, nothing waited for a person.
      applyPlanned({
        ...req,
        inventoryPath: p.inventoryPath,
        certs: p.certs,
        pkiDir: p.pkiDir,
        planJustMade: true,
      }),
    );
  });
}

/** The commands that change nodes through the engine. */
export type RunCommand = 'apply' | 'resume' | 'rotate';

/** What apply and resume share while they run: views, the SIGINT abort, the sessions to close. */
export interface RunFrame {
  style: Style;
  json: ReturnType<typeof jsonLinesView> | undefined;
  bus: EventBus;
  signal: AbortSignal;
  /** Closed when the command ends, however it ends. */
  sessions: Map<string, RemoteSession>;
  /** Sessions opened to roll back a node whose first connection dropped; closed with the others. */
  reconnected: RemoteSession[];
}

/**
 * The first SIGINT stops the run after the current step and rolls every node back (exit 130);
 * a failure becomes its exit code and, with --json, a summary line.
 */
export async function runFrame(
  command: RunCommand,
  global: GlobalOptions,
  io: CliIo,
  body: (frame: RunFrame) => Promise<ExitCode>,
): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const style = makeStyle(mode.color);
  const json = global.json === true ? jsonLinesView(io.stdout, () => envSecretValues(io.env)) : undefined;
  const bus = new EventBus();
  bus.subscribe(json ? json.onEvent : stepView(io.stderr, style));
  const controller = runAbortController();
  const onSigint = (): void =>
    controller.abort(new InterruptedError('run.interrupted', 'stopped by the operator (SIGINT)'));
  process.once('SIGINT', onSigint);
  const frame: RunFrame = {
    style,
    json,
    bus,
    signal: controller.signal,
    sessions: new Map(),
    reconnected: [],
  };
  try {
    return await body(frame);
  } catch (err) {
    return reportFailure(err, command, global, io);
  } finally {
    process.off('SIGINT', onSigint);
    await closeSessions([...frame.sessions.values(), ...frame.reconnected]);
  }
}

/**
 * After the plan was shown and confirmed: the run (lock, journal, reconnect, rollback — in
 * core/harden-flow.ts) and the success summary.
 */
export async function runConfirmed(
  p: Planned,
  command: RunCommand,
  frame: RunFrame,
  global: GlobalOptions,
  io: CliIo,
  run: (req: ConfirmedRun & { bus: EventBus; signal: AbortSignal }) => Promise<{
    result: RunResult;
    journalPath: string;
    secretsFile?: string | undefined;
  }>,
): Promise<ExitCode> {
  const dir = stateDir(io.env, global.stateDir);
  const { result, journalPath, secretsFile } = await run({
    ...p,
    stateDir: dir,
    onReconnected: (s) => frame.reconnected.push(s),
    bus: frame.bus,
    signal: frame.signal,
  });
  // The run is applied whatever happens here: a report that cannot be written is a warning.
  const { writeRunOutputs } = await import('../core/run-outputs.js');
  const outputs = await writeRunOutputs({
    stateDir: dir,
    runId: result.runId,
    command,
    exitCode: 0,
    plan: p.plan,
    inventory: p.inventory,
    inventoryPath: p.inventoryPath,
    pkiDir: p.pkiDir,
    secrets: [...p.run.secrets, ...envSecretValues(io.env)],
  }).catch((err: unknown) => {
    const e = toPghardenError(err);
    io.stderr.write(`${frame.style('yellow', '!')} no report: ${e.message}\n`);
    return undefined;
  });
  frame.json?.summary({
    command,
    exitCode: 0,
    runId: result.runId,
    nodes: result.nodes,
    journal: journalPath,
    ...(secretsFile === undefined ? {} : { secretsFile }),
    ...(outputs === undefined ? {} : { report: outputs.report, clientBundle: outputs.bundle ?? null }),
  });
  if (!frame.json) {
    const what = { apply: 'applied', resume: 'resumed and finished', rotate: 'rotated' }[command];
    if (secretsFile !== undefined) {
      io.stderr.write(
        `${frame.style('yellow', '!')} passwords were generated for roles that had none; they are in ${secretsFile} (0600)\n`,
      );
    }
    const files =
      outputs === undefined
        ? ''
        : `  report ${outputs.report.md}${outputs.bundle ? `\n  client bundle ${outputs.bundle}` : ''}\n`;
    io.stderr.write(
      `${frame.style('green', '✓')} ${what}; run ${result.runId}, journal ${journalPath}\n${files}  → next: pgharden verify -i ${p.inventoryPath}\n`,
    );
  }
  return 0;
}
