// EngineEvent → wizard state. Pure. Events that change nothing on screen (step:output) return the
// same state object, so a view subscribed with useSyncExternalStore does not re-render for them.
import type { EngineEvent } from '../core/events.js';
import type { DoneLine, PreflightRow, WizardState } from './state.js';

function upsertRow(rows: PreflightRow[], node: string, patch: Partial<PreflightRow>): PreflightRow[] {
  const i = rows.findIndex((r) => r.node === node);
  if (i === -1) return [...rows, { node, status: 'waiting', ...patch }];
  return rows.map((r, j) => (j === i ? { ...r, ...patch } : r));
}

function withoutLive(live: Record<string, string>, node: string): Record<string, string> {
  return Object.fromEntries(Object.entries(live).filter(([n]) => n !== node));
}

function appendDone(s: WizardState, line: Omit<DoneLine, 'key'>): WizardState {
  const key = `${s.apply.done.length}:${line.node}/${line.step}`;
  return {
    ...s,
    apply: {
      ...s.apply,
      live: withoutLive(s.apply.live, line.node),
      done: [...s.apply.done, { key, ...line }],
    },
  };
}

/** Connection events feed the preflight table on the preflight and audit screens only. */
function preflightEvent(s: WizardState, e: EngineEvent): WizardState {
  if (s.screen !== 'preflight' && s.screen !== 'audit') return s;
  const rows = s.preflight.rows;
  switch (e.type) {
    case 'node:connecting':
      return {
        ...s,
        preflight: { ...s.preflight, rows: upsertRow(rows, e.node, { status: 'connecting', host: e.host }) },
      };
    case 'node:connected':
      return {
        ...s,
        preflight: {
          ...s.preflight,
          rows: upsertRow(rows, e.node, { status: 'connected', fingerprint: e.hostKey, keyType: e.keyType }),
        },
      };
    case 'preflight:done':
      return {
        ...s,
        preflight: {
          ...s.preflight,
          rows: upsertRow(rows, e.node, { status: 'inspected', summary: e.summary }),
        },
      };
    case 'node:failed':
      return {
        ...s,
        preflight: { ...s.preflight, rows: upsertRow(rows, e.node, { status: 'failed', error: e.error }) },
      };
    default:
      return s;
  }
}

export function reduceEvent(s: WizardState, e: EngineEvent): WizardState {
  switch (e.type) {
    case 'node:connecting':
    case 'node:connected':
    case 'preflight:done':
    case 'node:failed':
      return preflightEvent(s, e);
    case 'finding':
      return s.screen === 'audit'
        ? { ...s, audit: { ...s.audit, findings: [...s.audit.findings, e.finding] } }
        : s;
    case 'step:started':
      return { ...s, apply: { ...s.apply, live: { ...s.apply.live, [e.node]: e.step } } };
    case 'step:done':
      return appendDone(s, {
        node: e.node,
        step: e.step,
        status: e.skipped ? 'skipped' : 'ok',
        ms: e.ms,
      });
    case 'step:failed':
      return appendDone(s, { node: e.node, step: e.step, status: 'failed', detail: e.error.message });
    case 'rollback:started':
      return {
        ...s,
        apply: { ...s.apply, live: { ...s.apply.live, [e.node]: `rolling back (${e.reason})` } },
      };
    case 'rollback:step':
      return appendDone(s, { node: e.node, step: e.step, status: e.ok ? 'undone' : 'undo-failed' });
    case 'rollback:done':
      return appendDone(s, { node: e.node, step: 'rollback', status: 'undone', ms: e.ms });
    case 'rollback:failed':
      return appendDone(s, {
        node: e.node,
        step: 'rollback',
        status: 'undo-failed',
        detail: `${e.error.message}${e.error.hint ? ` → ${e.error.hint}` : ''}`,
      });
    case 'verify:row':
      if (s.screen !== 'verify') return s;
      return {
        ...s,
        verify: {
          ...s.verify,
          rows: [
            ...s.verify.rows,
            { key: `${s.verify.rows.length}`, node: e.node, check: e.check, ok: e.ok, value: e.value },
          ],
        },
      };
    case 'warning':
      return { ...s, warnings: [...s.warnings, e.node ? `${e.node}: ${e.message}` : e.message] };
    case 'run:started':
    case 'step:output': // never a state change per chunk of SSH output
    case 'node:disconnected':
    case 'test:paused': // the fault matrix's pause point: headless runs only
      return s;
  }
}
