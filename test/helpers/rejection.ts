// Await a promise that must reject with one of pgharden's errors, and return that error.
import { PghardenError } from '../../src/core/errors.js';

export async function rejection(p: Promise<unknown>): Promise<PghardenError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!PghardenError.is(err)) throw new Error(`expected a PghardenError, got ${String(err)}`);
  return err;
}
