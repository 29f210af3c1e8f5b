// The plan file of `pgharden plan -o plan.json`, read back by `apply --plan plan.json`; the wizard's
// "save for a headless replay" writes the same bytes. Plain JSON with no secret in it (the planner
// checks), 0600 like everything pgharden writes about a cluster.
import { readFile, writeFile } from 'node:fs/promises';
import type { PlanDocument } from './harden.js';
import { UsageError } from './errors.js';
import { expandHome } from './paths.js';

export function planFileText(plan: PlanDocument): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** `exclusive`: refuse to replace an existing file (the wizard never overwrites). */
export async function writePlanFile(path: string, plan: PlanDocument, exclusive = false): Promise<void> {
  await writeFile(path, planFileText(plan), { mode: 0o600, flag: exclusive ? 'wx' : 'w' });
}

export async function readPlanFile(path: string): Promise<PlanDocument> {
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
