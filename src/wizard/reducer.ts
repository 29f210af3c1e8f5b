// The wizard's one reducer: (state, action) → state, for the whole job flow. Pure and unit-tested
// without Ink; the effects layer (controller.ts) does the work the intents ask for.
import type { ExitCode } from '../core/errors.js';
import { reduceEvent } from './event-reducer.js';
import { reduceFlows, rollingBack, saveOpen } from './flows-reducer.js';
import { SUPPORTED_JOBS, type Action, type Job, type Screen, type WizardState } from './state.js';

export const JOB_LABELS: Record<Job, string> = {
  harden: 'First-time hardening',
  pgautofailover: 'Upgrade pg_auto_failover to SSL',
  rotate: 'Certificate re-issue / rotation',
  audit: 'Audit (read-only)',
};

/** Where Esc/q goes from each screen; undefined: not from here (work in progress or finished). */
const BACK: Partial<Record<Screen, Screen>> = {
  inventory: 'welcome',
  preflight: 'inventory',
  auth: 'preflight',
  certificates: 'auth',
  plan: 'certificates',
  audit: 'inventory',
  run: 'welcome',
  rotate: 'preflight',
};

/** Can the operator leave the current screen backwards right now? */
export function canGoBack(s: WizardState): boolean {
  if (s.busy !== undefined || s.prompts.hostKeys.length > 0 || s.prompts.password !== undefined) return false;
  if ((s.secretPrompts?.length ?? 0) > 0) return false;
  if (s.screen === 'preflight' && s.preflight.status === 'running') return false;
  if (s.screen === 'audit' && s.audit.status === 'running') return false;
  if (saveOpen(s)) return false;
  return s.screen === 'welcome' || BACK[s.screen] !== undefined;
}

/** The exit code of the whole wizard run, once it is finished. */
export function finalExitCode(s: WizardState): ExitCode {
  return s.apply.exitCode ?? s.verify.exitCode ?? s.audit.exitCode ?? 0;
}

/** Certificate problems that must be fixed before planning. */
export function certErrors(s: WizardState): number {
  return s.certs.items.reduce((n, c) => n + c.findings.filter((f) => f.severity === 'error').length, 0);
}

function go(s: WizardState, screen: Screen): WizardState {
  return { ...s, screen, history: [...s.history, s.screen], error: undefined, help: false };
}

function back(s: WizardState): WizardState {
  if (s.help) return { ...s, help: false };
  if (s.error !== undefined) return { ...s, error: undefined };
  if (!canGoBack(s)) return s;
  if (s.screen === 'welcome') return s; // leaving the wizard: the controller exits with 0
  if (s.screen === 'plan' && s.runAction?.kind === 'resume') {
    // The rest of an interrupted run: back to its choices (the controller closes the sessions).
    const history = s.history.slice(0, Math.max(0, s.history.lastIndexOf('run')));
    return {
      ...s,
      screen: 'run',
      history,
      error: undefined,
      plan: undefined,
      runAction: { runId: s.runAction.runId },
    };
  }
  // A rotation's plan goes back to the rotation choices (the controller puts the local PKI back).
  const target = s.screen === 'plan' && s.job === 'rotate' ? 'rotate' : (BACK[s.screen] ?? 'welcome');
  const history = s.history.slice(0, Math.max(0, s.history.lastIndexOf(target)));
  const next: WizardState = { ...s, screen: target, history, error: undefined };
  if (target === 'inventory' || target === 'welcome') {
    return {
      ...next,
      runAction: undefined,
      preflight: { rows: [], details: [], findings: [], status: 'idle' },
      audit: { status: 'idle', findings: [] },
      plan: undefined,
    };
  }
  if (target === 'certificates' || target === 'auth') return { ...next, plan: undefined };
  if (target === 'rotate') {
    // The controller puts the PKI directory back first: no new choice until it has.
    return {
      ...next,
      plan: undefined,
      busy: 'Putting the PKI directory back as the nodes use it…',
      rotation: { ...s.rotation, choice: undefined },
    };
  }
  if (target === 'preflight') return { ...next, rotation: undefined };
  return next;
}

function choose(s: WizardState, job: Job): WizardState {
  if (!SUPPORTED_JOBS.includes(job)) {
    return {
      ...s,
      error: {
        code: 'job.later',
        message: `${JOB_LABELS[job]} is coming in a later version`,
        hint: 'choose first-time hardening or audit',
      },
    };
  }
  return { ...go(s, 'inventory'), job };
}

function afterInventory(s: WizardState, action: Extract<Action, { type: 'inventory:loaded' }>): WizardState {
  const rows = action.view.nodes.map((n) => ({ node: n.name, host: n.host, status: 'waiting' as const }));
  const next = go({ ...s, busy: undefined }, s.job === 'audit' ? 'audit' : 'preflight');
  return {
    ...next,
    inventory: { ...s.inventory, view: action.view },
    roleAuth: undefined, // per-role choices belong to the inventory they were made for
    preflight: { rows, details: [], findings: [], status: 'running' },
    audit: { status: s.job === 'audit' ? 'running' : 'idle', findings: [] },
  };
}

function continueFromPreflight(s: WizardState): WizardState {
  if (s.screen !== 'preflight' || s.preflight.status !== 'done') return s;
  const failed = s.preflight.rows.filter((r) => r.status === 'failed').map((r) => r.node);
  const noPg = s.preflight.details.filter((d) => d.problem !== undefined).map((d) => d.node);
  const blocked = [...failed, ...noPg];
  if (blocked.length > 0) {
    return {
      ...s,
      error: {
        code: 'preflight.nodes',
        message: `cannot plan without every node: ${blocked.join(', ')}`,
        hint: 'fix what the table says and go back (Esc) to run preflight again; nothing was changed',
      },
    };
  }
  if (s.job === 'rotate') {
    return {
      ...go(s, 'rotate'),
      busy: 'Reading the certificates in use and the PKI directory…',
      rotation: {},
    };
  }
  return go(s, 'auth');
}

function finish(s: WizardState): WizardState {
  if (s.screen === 'audit' && s.audit.status !== 'running') return go(s, 'done');
  if (s.screen === 'apply' && (s.apply.status === 'failed' || s.apply.status === 'interrupted'))
    return go(s, 'done');
  return s;
}

function applyFailed(s: WizardState, a: Extract<Action, { type: 'apply:failed' }>): WizardState {
  return {
    ...s,
    busy: undefined,
    error: a.error,
    apply: {
      ...s.apply,
      live: {},
      status: a.exitCode === 130 ? 'interrupted' : 'failed',
      exitCode: a.exitCode,
    },
  };
}

export function reduce(s: WizardState, a: Action): WizardState {
  switch (a.type) {
    case 'run:select':
    case 'run:resume':
    case 'run:rollback':
    case 'run:planned':
    case 'run:rolled-back':
    case 'save:ask':
    case 'save:write':
    case 'save:close':
    case 'save:suggested':
    case 'save:done':
      return reduceFlows(s, a);
    case 'job:choose':
      return s.screen === 'welcome' ? choose(s, a.job) : s;
    case 'back':
      return back(s);
    case 'help:toggle':
      return { ...s, help: !s.help };
    case 'error:dismiss':
      return { ...s, error: undefined };
    case 'inventory:load':
      return { ...s, busy: `Loading ${a.path}…`, error: undefined };
    case 'inventory:pick-hosts':
      return { ...s, busy: 'Reading ~/.ssh/config…', error: undefined };
    case 'inventory:build':
      return { ...s, busy: `Writing ${a.input.path}…`, error: undefined };
    case 'preflight:continue':
      return continueFromPreflight(s);
    case 'auth:choose':
      return s.screen === 'auth' ? { ...go(s, 'certificates'), auth: a.auth, certs: { items: [] } } : s;
    case 'certs:generate':
      return {
        ...s,
        busy: 'Issuing certificates…',
        error: undefined,
        certs: { source: 'generate', items: [] },
      };
    case 'certs:import':
      return {
        ...s,
        busy: `Reading ${a.dir}…`,
        error: undefined,
        certs: { source: 'import', dir: a.dir, items: [] },
      };
    case 'certs:continue':
      if (s.certs.items.length === 0) return s;
      if (certErrors(s) > 0) {
        return {
          ...s,
          error: {
            code: 'certs.errors',
            message: `${certErrors(s)} certificate problem(s) in red must be fixed first`,
            hint: 'generate new certificates, or fix the imported files and import again',
          },
        };
      }
      return { ...s, busy: 'Planning: asking every step what it would change…', error: undefined };
    case 'rotate:choose':
      return s.screen === 'rotate' && s.rotation?.view !== undefined && s.busy === undefined
        ? {
            ...s,
            busy: 'Planning the rotation: new certificates, then every step…',
            error: undefined,
            rotation: { ...s.rotation, choice: a.choice },
          }
        : s;
    case 'rotate:ready':
      return s.screen === 'rotate' ? { ...s, busy: undefined, rotation: { view: a.view } } : s;
    case 'plan:confirm': {
      if (s.screen !== 'plan' || s.plan === undefined) return s;
      const needed = s.plan.nodes.some((n) => n.steps.some((st) => st.needed));
      // A resumed run always goes through apply: its journal must end with run:done.
      if (!needed && s.runAction?.kind !== 'resume')
        return { ...go(s, 'verify'), verify: { status: 'running', rows: [] } };
      return { ...go(s, 'apply'), apply: { status: 'running', done: [], live: {} } };
    }
    case 'hostkey:answer':
      return { ...s, prompts: { ...s.prompts, hostKeys: s.prompts.hostKeys.filter((p) => p.id !== a.id) } };
    case 'password:answer': // the password itself is for the engine only
      return { ...s, prompts: { ...s.prompts, password: undefined } };
    case 'auth:role':
      return s.screen === 'auth' ? { ...s, roleAuth: { ...s.roleAuth, [a.role]: a.auth } } : s;
    case 'secret:answer': // the answer itself is for the engine only
      return { ...s, secretPrompts: s.secretPrompts?.filter((p) => p.id !== a.id) };
    case 'secret:ask':
      return { ...s, secretPrompts: [...(s.secretPrompts ?? []), a.prompt] };
    case 'interrupt:request':
      return s.exitCode === undefined && !rollingBack(s) ? { ...s, quitConfirm: true } : s;
    case 'interrupt:cancel':
      return { ...s, quitConfirm: false };
    case 'interrupt:confirm':
      return {
        ...s,
        quitConfirm: false,
        busy:
          s.apply.status === 'running' ? 'Stopping after the current step, then rolling back…' : 'Stopping…',
      };
    case 'finish':
      return finish(s);
    case 'welcome:found':
      return { ...s, welcome: { inventories: a.inventories, runs: a.runs } };
    case 'busy':
      return { ...s, busy: a.label };
    case 'failed':
      return {
        ...s,
        busy: undefined,
        error: a.error,
        preflight: s.preflight.status === 'running' ? { ...s.preflight, status: 'failed' } : s.preflight,
        audit: s.audit.status === 'running' ? { ...s.audit, status: 'failed' } : s.audit,
        verify: s.verify.status === 'running' ? { ...s.verify, status: 'failed' } : s.verify,
      };
    case 'inventory:loaded':
      return afterInventory(s, a);
    case 'inventory:hosts':
      return { ...s, busy: undefined, inventory: { ...s.inventory, sshHosts: a.hosts } };
    case 'engine':
      return reduceEvent(s, a.event);
    case 'preflight:finished':
      return {
        ...s,
        preflight: { ...s.preflight, details: a.details, findings: a.findings, status: 'done' },
      };
    case 'hostkey:ask':
      return { ...s, prompts: { ...s.prompts, hostKeys: [...s.prompts.hostKeys, a.prompt] } };
    case 'password:ask':
      return { ...s, prompts: { ...s.prompts, password: { role: a.role } } };
    case 'certs:ready':
      return { ...s, busy: undefined, certs: { ...s.certs, dir: a.dir, items: a.items } };
    case 'plan:ready':
      return s.screen === 'certificates' || s.screen === 'rotate'
        ? { ...go({ ...s, busy: undefined }, 'plan'), plan: a.plan }
        : s;
    case 'apply:finished':
      return {
        ...go(s, 'verify'),
        apply: {
          ...s.apply,
          status: 'done',
          live: {},
          runId: a.runId,
          journal: a.journal,
          exitCode: undefined,
        },
        verify: { status: 'running', rows: [] },
      };
    case 'apply:failed':
      return applyFailed(s, a);
    case 'verify:finished':
      return {
        ...go({ ...s, busy: undefined }, 'done'),
        verify: { ...s.verify, status: 'done', exitCode: a.exitCode },
      };
    case 'run:files':
      return { ...s, apply: { ...s.apply, files: a.files } };
    case 'audit:finished':
      return {
        ...s,
        busy: undefined,
        audit: { status: 'done', findings: a.findings, exitCode: a.exitCode },
        preflight: { ...s.preflight, status: 'done' },
      };
    case 'exit':
      return { ...s, exitCode: a.code };
  }
}
