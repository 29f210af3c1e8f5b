// A test-only pause for the fault-injection matrix (test/e2e/fault-matrix.test.ts, issue #5): with
// PGHARDEN_TEST_PAUSE_AT=<node>:<stepId> in the environment, the runner stops right before that
// step's apply — after its backups were taken and journaled — says so with a `test:paused` event,
// and goes on when the process receives SIGUSR2 (or the run is aborted). While it waits, the test
// makes a real fault happen on the node (kills its SSH connection, makes a file unwritable,
// swaps a key), so the step then fails the way it would in the field.
// Inert unless the variable is set: no listener, no event, no delay.
import type { EngineEvent } from '../events.js';

export const PAUSE_ENV = 'PGHARDEN_TEST_PAUSE_AT';

/** `pg1:tls.enable-ssl` → { node, step }; anything else (unset, no colon) → undefined. */
export function parsePausePoint(value: string | undefined): { node: string; step: string } | undefined {
  if (value === undefined) return undefined;
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) return undefined;
  return { node: value.slice(0, at), step: value.slice(at + 1) };
}

export async function pauseBeforeApply(
  node: string,
  step: string,
  emit: (e: EngineEvent) => void,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const at = parsePausePoint(env[PAUSE_ENV]);
  if (at === undefined || at.node !== node || at.step !== step || signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGUSR2', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    // Listening before the event goes out: a SIGUSR2 sent on seeing it never hits Node's default
    // action (which ends the process).
    process.on('SIGUSR2', done);
    signal.addEventListener('abort', done, { once: true });
    emit({ type: 'test:paused', node, step });
  });
}
