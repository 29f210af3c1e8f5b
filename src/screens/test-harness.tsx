// Screen tests drive the real view and the real reducer by keystrokes, and record every intent the
// screens dispatch. Engine results are pushed in as the effects layer would. Wait a tick after render
// and after every key (Ink subscribes to stdin in an effect and flushes asynchronously).
import { useReducer } from 'react';
import { render } from 'ink-testing-library';
import { reduce } from '../wizard/reducer.js';
import { initialState, type Action, type Intent, type WizardState } from '../wizard/state.js';
import { CERTS, INVENTORY, PLAN } from '../wizard/test-fixtures.js';
import { ColorContext } from './theme.js';
import { WizardView } from './WizardView.js';

export const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  enter: '\r',
  escape: '\u001B',
  ctrlC: '\u0003',
  space: ' ',
} as const;

export async function renderWizard(initial: WizardState, color = false) {
  const intents: Intent[] = [];
  let apply: (a: Action) => void = () => undefined;
  function Harness() {
    const [state, dispatch] = useReducer(reduce, initial);
    apply = dispatch;
    return (
      <WizardView
        state={state}
        dispatch={(i) => {
          intents.push(i);
          dispatch(i);
        }}
      />
    );
  }
  const r = render(
    <ColorContext.Provider value={color}>
      <Harness />
    </ColorContext.Provider>,
  );
  await tick();
  return {
    ...r,
    intents,
    frame: (): string => r.lastFrame() ?? '',
    /** Everything printed so far, <Static> lines included. */
    output: (): string => r.frames.join('\n'),
    push: async (...actions: Action[]): Promise<void> => {
      for (const a of actions) apply(a);
      await tick();
    },
    press: async (...keys: string[]): Promise<void> => {
      for (const k of keys) {
        r.stdin.write(k);
        await tick();
      }
    },
  };
}

export const stateAfter = (actions: Action[]): WizardState => actions.reduce(reduce, initialState());

export const TO_PREFLIGHT: Action[] = [
  { type: 'job:choose', job: 'harden' },
  { type: 'inventory:loaded', view: INVENTORY },
];
export const TO_CERTS: Action[] = [
  ...TO_PREFLIGHT,
  { type: 'preflight:finished', details: [], findings: [] },
  { type: 'preflight:continue' },
  { type: 'auth:choose', auth: 'scram' },
];
export const TO_PLAN: Action[] = [
  ...TO_CERTS,
  { type: 'certs:ready', dir: '/pki', items: CERTS },
  { type: 'certs:continue' },
  { type: 'plan:ready', plan: PLAN },
];
