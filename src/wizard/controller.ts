// The wizard's store and effects layer. Screens dispatch intents; the reducer updates the state;
// then the effect of the intent (if any) calls the engine and feeds its events and results back as
// actions. No React here: a hook under src/screens subscribes to it.
import { runAbortController } from '../core/abort.js';
import { InterruptedError, toPghardenError, UsageError, type ExitCode } from '../core/errors.js';
import type { HostKeyInfo, UnknownHostKeyDecision } from '../remote/types.js';
import type { EngineHooks, WizardEngine } from './port.js';
import { canGoBack, finalExitCode, reduce } from './reducer.js';
import {
  initialState,
  type Action,
  type ErrorView,
  type Intent,
  type SecretRequest,
  type WizardState,
} from './state.js';

export function errorView(err: unknown): ErrorView {
  const e = toPghardenError(err);
  return { code: e.code, message: e.message, hint: e.hint };
}

export class WizardController {
  #state: WizardState;
  readonly #listeners = new Set<() => void>();
  readonly #engine: Promise<WizardEngine>;
  /** The operation in flight (preflight, planning, verify, audit): aborted by a confirmed Ctrl-C. */
  #op: AbortController | undefined;
  /** The apply run: aborting it stops after the current step and rolls back. */
  #run: AbortController | undefined;
  readonly #hostKeyAnswers = new Map<string, (d: UnknownHostKeyDecision) => void>();
  #passwordAnswer: ((p: string | undefined) => void) | undefined;
  /** Secret prompts by id: each resolves the engine's promise once, then is forgotten. */
  readonly #secretAnswers = new Map<string, (value: string | undefined) => void>();
  /** Keys accepted once in this wizard run: verify reconnects and should not ask again. */
  readonly #acceptedOnce = new Set<string>();
  /** Their nodes: a saved headless replay refuses those keys (the save dialog says so). */
  readonly #acceptedOnceNodes = new Set<string>();
  #promptSeq = 0;
  #exiting = false;

  constructor(engine: WizardEngine | Promise<WizardEngine>, state: WizardState = initialState()) {
    this.#engine = Promise.resolve(engine);
    this.#state = state;
  }

  getState = (): WizardState => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** What screens call. Never throws: failures become an error on screen. */
  dispatch = (intent: Intent): void => {
    const before = this.#state;
    this.#apply(intent);
    this.#effect(intent, before).catch((err: unknown) =>
      this.#apply({ type: 'failed', error: errorView(err) }),
    );
  };

  /** After the first frame: inventories and interrupted runs to offer on the welcome screen. */
  async start(): Promise<void> {
    try {
      const engine = await this.#engine;
      const [inventories, runs] = await Promise.all([engine.findInventories(), engine.interruptedRuns()]);
      this.#apply({ type: 'welcome:found', inventories, runs });
    } catch (err) {
      this.#apply({ type: 'failed', error: errorView(err) });
    }
  }

  #apply(action: Action): void {
    const next = reduce(this.#state, action);
    if (next === this.#state) return;
    this.#state = next;
    for (const l of this.#listeners) l();
  }

  #hooks(): EngineHooks {
    return {
      emit: (event) => this.#apply({ type: 'engine', event }),
      askHostKey: (info) => this.#askHostKey(info),
      askPassword: (role) =>
        new Promise((resolve) => {
          this.#passwordAnswer = resolve;
          this.#apply({ type: 'password:ask', role });
        }),
      askSecret: (request) => this.#askSecret(request),
    };
  }

  #askSecret(request: SecretRequest): Promise<string | undefined> {
    if (this.#exiting) return Promise.resolve(undefined);
    const id = `s${++this.#promptSeq}`;
    return new Promise((resolve) => {
      this.#secretAnswers.set(id, resolve);
      this.#apply({ type: 'secret:ask', prompt: { ...request, id } });
    });
  }

  #askHostKey(info: HostKeyInfo): Promise<UnknownHostKeyDecision> {
    const key = `${info.host}:${info.port} ${info.fingerprint}`;
    if (this.#acceptedOnce.has(key)) return Promise.resolve('accept-once');
    const id = `hk${++this.#promptSeq}`;
    return new Promise((resolve) => {
      this.#hostKeyAnswers.set(id, (decision) => {
        if (decision === 'accept-once') {
          this.#acceptedOnce.add(key);
          this.#acceptedOnceNodes.add(info.node);
        }
        resolve(decision);
      });
      this.#apply({ type: 'hostkey:ask', prompt: { id, info } });
    });
  }

  /** Unanswered prompts get "no": the engine then fails that node, which changes nothing. */
  #refusePrompts(): void {
    for (const answer of this.#hostKeyAnswers.values()) answer('reject');
    this.#hostKeyAnswers.clear();
    this.#passwordAnswer?.(undefined);
    this.#passwordAnswer = undefined;
    for (const [id, answer] of this.#secretAnswers) {
      answer(undefined);
      this.#apply({ type: 'secret:answer', id, value: undefined });
    }
    this.#secretAnswers.clear();
  }

  async #exit(code: ExitCode): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#refusePrompts();
    await (await this.#engine).close().catch(() => undefined);
    this.#apply({ type: 'exit', code });
  }

  async #operation<T>(work: (engine: WizardEngine, signal: AbortSignal) => Promise<T>): Promise<T> {
    const engine = await this.#engine;
    const op = runAbortController();
    this.#op = op;
    try {
      return await work(engine, op.signal);
    } finally {
      if (this.#op === op) this.#op = undefined;
    }
  }

  async #startJob(): Promise<void> {
    if (this.#state.job === 'audit') {
      const r = await this.#operation((e, signal) => e.audit(this.#hooks(), signal));
      this.#apply({ type: 'audit:finished', findings: r.findings, exitCode: r.exitCode });
      return;
    }
    const r = await this.#operation((e, signal) => e.preflight(this.#hooks(), signal));
    this.#apply({ type: 'preflight:finished', details: r.details, findings: r.findings });
  }

  async #load(path: string): Promise<void> {
    const view = await (await this.#engine).loadInventory(path);
    this.#apply({ type: 'inventory:loaded', view });
    await this.#startJob();
  }

  async #applyAndVerify(): Promise<void> {
    const engine = await this.#engine;
    const run = runAbortController();
    this.#run = run;
    try {
      const r = await engine.apply(this.#hooks(), run.signal);
      this.#apply({ type: 'apply:finished', runId: r.runId, journal: r.journal });
    } catch (err) {
      const e = toPghardenError(err);
      this.#apply({ type: 'apply:failed', error: errorView(e), exitCode: e.exitCode });
      await this.#runOutputs(e.exitCode); // the report says what was done and undone
      if (e.exitCode === 130) await this.#exit(130);
      return;
    } finally {
      this.#run = undefined;
    }
    await this.#verify(true);
  }

  async #verify(afterApply = false): Promise<void> {
    await (await this.#engine).close(); // verify makes its own connections
    const code = await this.#operation((e, signal) => e.verify(this.#hooks(), signal));
    this.#apply({ type: 'verify:finished', exitCode: code });
    if (afterApply) await this.#runOutputs(code); // the Done screen shows the paths when written
  }

  /** Report and client bundle of the run; a failure to write them is shown, the run stands. */
  async #runOutputs(exitCode: ExitCode): Promise<void> {
    try {
      const files = await (await this.#engine).runOutputs(exitCode);
      if (files !== undefined) this.#apply({ type: 'run:files', files });
    } catch (err) {
      this.#apply({ type: 'failed', error: errorView(err) });
    }
  }

  async #effect(intent: Intent, before: WizardState): Promise<void> {
    const after = this.#state;
    switch (intent.type) {
      case 'run:resume':
      case 'run:rollback':
      case 'save:ask':
      case 'save:write':
        return this.#flowEffect(intent, before, after);
      case 'inventory:load':
        return this.#load(intent.path);
      case 'inventory:pick-hosts': {
        const hosts = await (await this.#engine).sshConfigHosts();
        this.#apply({ type: 'inventory:hosts', hosts });
        return;
      }
      case 'inventory:build': {
        const path = await (await this.#engine).writeInventory(intent.input);
        return this.#load(path);
      }
      case 'back':
        if (before.screen === 'welcome' && !before.help && before.error === undefined && canGoBack(before)) {
          return this.#exit(0); // q on the welcome screen: nothing was started
        }
        // A rotation's plan not applied: the PKI directory goes back to what the nodes use.
        if (before.screen === 'plan' && after.screen === 'rotate') {
          await (await this.#engine).discardRotation();
          this.#apply({ type: 'busy', label: undefined });
          return;
        }
        if (
          after.screen !== before.screen &&
          (after.screen === 'inventory' || after.screen === 'welcome' || after.screen === 'run') &&
          before.screen !== 'welcome'
        ) {
          await (await this.#engine).close();
        }
        return;
      case 'certs:generate':
      case 'certs:import': {
        const auth = after.auth;
        if (auth === undefined) return;
        const r = await (
          await this.#engine
        ).certificates(
          auth,
          intent.type === 'certs:generate' ? { kind: 'generate' } : { kind: 'import', dir: intent.dir },
          this.#hooks(),
        );
        this.#apply({ type: 'certs:ready', dir: r.dir, items: r.items });
        return;
      }
      case 'certs:continue': {
        const auth = after.auth;
        if (auth === undefined || after.busy === undefined || after.busy === before.busy) return;
        const plan = await this.#operation((e, signal) => e.plan(auth, this.#hooks(), signal));
        // The pg_auto_failover job runs the same flow; the planner detects the formation from the
        // nodes. Without one, this job has nothing to do (first-time hardening is the other job).
        if (this.#state.job === 'pgautofailover' && plan.topology !== 'pg_auto_failover') {
          throw new UsageError(
            'wizard.not-pg-auto-failover',
            'no pg_auto_failover formation found on these nodes (pg_autoctl manages none of them)',
            'check the inventory, or choose first-time hardening',
          );
        }
        this.#apply({ type: 'plan:ready', plan });
        return;
      }
      case 'rotate:choose': {
        const choice = after.rotation?.choice;
        if (choice === undefined || after.busy === undefined || after.busy === before.busy) return;
        const plan = await this.#operation((e, signal) => e.planRotation(choice, this.#hooks(), signal));
        this.#apply({ type: 'plan:ready', plan });
        return;
      }
      case 'preflight:continue':
        if (after.screen === 'rotate' && before.screen === 'preflight') {
          this.#apply({ type: 'rotate:ready', view: await (await this.#engine).rotationView() });
        }
        return;
      case 'plan:confirm':
        if (after.screen === 'apply' && before.screen === 'plan') return this.#applyAndVerify();
        if (after.screen === 'verify' && before.screen === 'plan') return this.#verify();
        return;
      case 'hostkey:answer':
        this.#hostKeyAnswers.get(intent.id)?.(intent.decision);
        this.#hostKeyAnswers.delete(intent.id);
        return;
      case 'password:answer':
        this.#passwordAnswer?.(intent.password);
        this.#passwordAnswer = undefined;
        return;
      case 'secret:answer':
        this.#secretAnswers.get(intent.id)?.(intent.value);
        this.#secretAnswers.delete(intent.id);
        return;
      case 'interrupt:confirm':
        if (this.#run !== undefined) {
          // The engine finishes the current step, rolls back, and apply fails with exit 130.
          this.#run.abort(new InterruptedError('run.interrupted', 'stopped by the operator (Ctrl-C)'));
          this.#refusePrompts();
          return;
        }
        this.#op?.abort(new InterruptedError('run.interrupted', 'stopped by the operator (Ctrl-C)'));
        return this.#exit(130);
      case 'finish':
        if (before.screen === 'done') return this.#exit(finalExitCode(after));
        return;
      case 'auth:choose':
        // Before certificates: which roles get one depends on each role's auth.
        if (after.screen === 'certificates' && before.screen === 'auth' && after.roleAuth !== undefined) {
          (await this.#engine).setRoleAuth?.(after.roleAuth);
        }
        return;
      case 'auth:role':
      case 'job:choose':
      case 'help:toggle':
      case 'error:dismiss':
      case 'interrupt:request':
      case 'interrupt:cancel':
      case 'run:select':
      case 'save:close':
        return;
    }
  }

  // ── Interrupted runs (welcome → run screen) and saving answers for a headless replay ──
  async #flowEffect(
    intent: Extract<Intent, { type: 'run:resume' | 'run:rollback' | 'save:ask' | 'save:write' }>,
    before: WizardState,
    after: WizardState,
  ): Promise<void> {
    const runId = after.runAction?.runId;
    switch (intent.type) {
      case 'run:resume': {
        // Same checks as the CLI's resume; the rest of the run is shown on the plan screen and runs
        // only after a and y (plan:confirm → apply, which continues this run).
        if (runId === undefined || after.busy === undefined || after.busy === before.busy) return;
        const r = await this.#operation((e, signal) => e.prepareResume(runId, this.#hooks(), signal));
        this.#apply({ type: 'run:planned', ...r });
        return;
      }
      case 'run:rollback': {
        if (runId === undefined || after.screen !== 'apply' || before.screen !== 'run') return;
        try {
          const r = await (await this.#engine).rollback(runId, this.#hooks());
          const exitCode: ExitCode = r.failed.length > 0 ? 1 : 0;
          this.#apply({ type: 'run:rolled-back', exitCode, nodes: r.nodes, failed: r.failed });
        } catch (err) {
          const e = toPghardenError(err);
          this.#apply({ type: 'apply:failed', error: errorView(e), exitCode: e.exitCode });
        }
        return;
      }
      case 'save:ask': {
        if (after.screen !== 'plan' || after.save !== undefined) return;
        const dir = await (await this.#engine).suggestSaveDir();
        this.#apply({ type: 'save:suggested', dir });
        return;
      }
      case 'save:write': {
        if (after.busy === undefined || after.busy === before.busy) return;
        try {
          const saved = await (await this.#engine).saveAnswers(intent.dir);
          const once = [...this.#acceptedOnceNodes].sort();
          this.#apply({
            type: 'save:done',
            saved: once.length > 0 ? { ...saved, hostKeysOnce: once } : saved,
          });
        } catch (err) {
          this.#apply({ type: 'failed', error: errorView(err) });
        }
        return;
      }
    }
  }
}
