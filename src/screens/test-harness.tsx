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

/**
 * A tick, then more while the screen keeps changing (up to 1 s; spinner frames do not count): on a
 * loaded machine a render, and the input subscriptions Ink makes in effects after it, can take longer
 * than one tick.
 */
export async function settle(frames: readonly string[]): Promise<void> {
  const still = (): string => (frames.at(-1) ?? '').replace(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/g, '');
  await tick();
  for (let seen = still(), i = 0; i < 40; i++) {
    await tick(25);
    if (still() === seen) return;
    seen = still();
  }
}

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

/**
 * `columns`: the terminal width (ink-testing-library's stdout says 100). Set on its stdout after the
 * first render, which is then redone at that width; `frames` (and `narrowFrames`) start there.
 */
export async function renderWizard(initial: WizardState, color = false, columns?: number) {
  const intents: Intent[] = [];
  let apply: (a: Action) => void = () => undefined;
  function Harness(_: { columns: number | undefined }) {
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
  const tree = (width: number | undefined) => (
    <ColorContext.Provider value={color}>
      <Harness columns={width} />
    </ColorContext.Provider>
  );
  const r = render(tree(undefined));
  await settle(r.frames);
  let from = 0;
  if (columns !== undefined) {
    Object.defineProperty(r.stdout, 'columns', { get: () => columns });
    from = r.frames.length;
    r.stdout.emit('resize'); // for components that follow the width (useColumns)
    r.rerender(tree(columns)); // a new prop: React commits, Ink lays out again at the new width
    await settle(r.frames);
  }
  return {
    ...r,
    /** Frames drawn at `columns` (all frames without it). */
    sized: (): string[] => r.frames.slice(from),
    intents,
    frame: (): string => r.lastFrame() ?? '',
    /** Everything printed so far, <Static> lines included. */
    output: (): string => r.frames.join('\n'),
    push: async (...actions: Action[]): Promise<void> => {
      for (const a of actions) apply(a);
      await settle(r.frames);
    },
    press: async (...keys: string[]): Promise<void> => {
      for (const k of keys) {
        r.stdin.write(k);
        await settle(r.frames);
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
