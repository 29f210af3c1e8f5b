// What a run leaves for the operator in its directory (<stateDir>/runs/<runId>/): the client bundle
// when the run was applied, and the report (report.json, report.md) in every case. One function, so
// the wizard's Done screen and headless apply write the same files.
import { join } from 'node:path';
import { writeClientBundle } from './client-bundle.js';
import type { ExitCode } from './errors.js';
import { certRoles, type PlanDocument } from './harden.js';
import type { Inventory } from './inventory-schema.js';
import { readJournal, runDir } from './journal.js';
import { buildReport, writeReport, type ReportVerifyRow } from './report.js';

export interface RunOutputsRequest {
  stateDir: string;
  runId: string;
  command: string;
  exitCode: ExitCode;
  plan: PlanDocument;
  inventory: Inventory;
  inventoryPath: string;
  pkiDir: string;
  /** Every secret of the run: the report refuses to contain one. */
  secrets: readonly string[];
  verify?: { exitCode: ExitCode; rows: readonly ReportVerifyRow[] } | undefined;
}

export interface RunOutputs {
  report: { json: string; md: string };
  /** Only for an applied run. */
  bundle?: string | undefined;
}

export async function writeRunOutputs(req: RunOutputsRequest): Promise<RunOutputs> {
  const run = await readJournal(req.stateDir, req.runId);
  const bundle = run.finished
    ? await writeClientBundle({
        dir: join(runDir(req.stateDir, req.runId), 'client-bundle'),
        inventory: req.inventory,
        pkiDir: req.pkiDir,
        certRoles: certRoles({ auth: req.plan.auth, inventory: req.inventory }),
      })
    : undefined;
  const report = buildReport({
    command: req.command,
    exitCode: req.exitCode,
    plan: req.plan,
    run,
    journal: join(runDir(req.stateDir, req.runId), 'journal.jsonl'),
    inventory: req.inventoryPath,
    verify: req.verify,
    clientBundle: bundle?.dir,
  });
  return { report: await writeReport(req.stateDir, report, req.secrets), bundle: bundle?.dir };
}
