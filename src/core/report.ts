// The report of a run (SPEC §10): report.json and report.md beside the run's journal — every step
// per node with its status, every file changed with its backup, the verification rows, where the
// client bundle is. Built from the plan and the journal (what happened, not what was hoped), so the
// wizard and headless apply write the same report. Never a private key or password: the guard refuses.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BugError, type ExitCode } from './errors.js';
import { assertNoSecrets, type PlanDocument } from './harden.js';
import { runDir, type RunState } from './journal.js';

export type ReportStepStatus = 'done' | 'already done' | 'failed' | 'undone' | 'not run';

export interface ReportVerifyRow {
  node: string;
  check: string;
  ok: boolean;
  value: string;
}

export interface RunReport {
  v: 1;
  runId: string;
  /** What wrote it: `apply`, `resume` or `wizard`. */
  command: string;
  cluster: string;
  inventory: string;
  auth: string;
  writtenAt: string;
  exitCode: ExitCode;
  /** applied: run:done; rolled back: every changed node undone; incomplete: `pgharden resume` it. */
  outcome: 'applied' | 'rolled back' | 'incomplete';
  journal: string;
  nodes: {
    node: string;
    host: string;
    role: string;
    steps: { id: string; title: string; status: ReportStepStatus }[];
  }[];
  files: {
    node: string;
    step: string;
    path: string;
    backup: string;
    /** false: the step created it (rollback deletes it). */
    existed: boolean;
    /** true: a rollback put the original back. */
    restored: boolean;
  }[];
  verification?: { exitCode: ExitCode; passed: number; failed: number; rows: ReportVerifyRow[] } | undefined;
  clientBundle?: string | undefined;
}

export interface ReportInput {
  command: string;
  exitCode: ExitCode;
  plan: PlanDocument;
  run: RunState;
  journal: string;
  inventory: string;
  verify?: { exitCode: ExitCode; rows: readonly ReportVerifyRow[] } | undefined;
  clientBundle?: string | undefined;
  now?: Date | undefined;
}

function stepStatus(run: RunState, node: string, id: string, needed: boolean): ReportStepStatus {
  const n = run.nodes[node];
  const skipped = run.records.some((r) => r.type === 'step:skipped' && r.node === node && r.step === id);
  if (n?.undone.includes(id)) return n.failed === id ? 'failed' : 'undone';
  if (n?.failed === id) return 'failed';
  if (n?.done.includes(id)) return 'done';
  if (skipped || !needed) return 'already done';
  return 'not run';
}

/** Pure: plan + journal (+ verification) → the report. */
export function buildReport(input: ReportInput): RunReport {
  const { plan, run } = input;
  const rows = input.verify?.rows ?? [];
  return {
    v: 1,
    runId: run.runId,
    command: input.command,
    cluster: plan.cluster,
    inventory: input.inventory,
    auth: plan.auth,
    writtenAt: (input.now ?? new Date()).toISOString(),
    exitCode: input.exitCode,
    outcome: run.finished ? 'applied' : run.rolledBack ? 'rolled back' : 'incomplete',
    journal: input.journal,
    nodes: plan.nodes.map((n) => ({
      node: n.node,
      host: n.host,
      role: n.role,
      steps: n.steps.map((s) => ({
        id: s.id,
        title: s.title,
        status: stepStatus(run, n.node, s.id, s.needed),
      })),
    })),
    files: Object.entries(run.nodes).flatMap(([node, n]) =>
      n.backups.map((b) => ({
        node,
        step: b.step,
        path: b.path,
        backup: b.backup,
        existed: b.existed,
        restored: n.undone.includes(b.step),
      })),
    ),
    verification:
      input.verify === undefined
        ? undefined
        : {
            exitCode: input.verify.exitCode,
            passed: rows.filter((r) => r.ok).length,
            failed: rows.filter((r) => !r.ok).length,
            rows: rows.map((r) => ({ node: r.node, check: r.check, ok: r.ok, value: r.value })),
          },
    clientBundle: input.clientBundle,
  };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Pure: the report as Markdown, for people. */
export function renderReportMarkdown(r: RunReport): string {
  const out = [
    `# pgharden run ${r.runId}`,
    '',
    `- cluster: ${r.cluster} (auth ${r.auth})`,
    `- outcome: ${r.outcome}, exit ${r.exitCode} (${r.command})`,
    `- inventory: ${r.inventory}`,
    `- journal: ${r.journal}`,
    ...(r.clientBundle ? [`- client bundle: ${r.clientBundle}`] : []),
    `- written: ${r.writtenAt}`,
    '',
    '## Steps',
  ];
  for (const n of r.nodes) {
    out.push('', `### ${n.node} (${n.host}, ${n.role})`, '', '| step | status | what |', '|---|---|---|');
    for (const s of n.steps) out.push(`| ${s.id} | ${s.status} | ${cell(s.title)} |`);
  }
  out.push('', '## Files changed', '');
  if (r.files.length === 0) out.push('None.');
  else {
    out.push('| node | file | backup | step | note |', '|---|---|---|---|---|');
    for (const f of r.files) {
      const note = [f.existed ? '' : 'created', f.restored ? 'restored by rollback' : ''].filter(Boolean);
      out.push(`| ${f.node} | ${f.path} | ${f.backup} | ${f.step} | ${note.join(', ')} |`);
    }
  }
  out.push('', '## Verification', '');
  if (r.verification === undefined) out.push('Not run.');
  else {
    const v = r.verification;
    out.push(
      `${v.passed} passed, ${v.failed} failed (exit ${v.exitCode}).`,
      '',
      '| | node | check | value |',
    );
    out.push('|---|---|---|---|');
    for (const row of v.rows)
      out.push(`| ${row.ok ? '✓' : '✗'} | ${row.node} | ${row.check} | ${cell(row.value)} |`);
  }
  return `${out.join('\n')}\n`;
}

/** Writes report.json and report.md (0600) into the run's directory; refuses one with a secret. */
export async function writeReport(
  stateDir: string,
  report: RunReport,
  secrets: readonly string[],
): Promise<{ json: string; md: string }> {
  const dir = runDir(stateDir, report.runId);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const md = renderReportMarkdown(report);
  try {
    assertNoSecrets(json + md, secrets);
  } catch {
    throw new BugError(
      'report.secret',
      `the report of run ${report.runId} would contain a password or private key: not written`,
      'the run itself is recorded in its journal; please report this',
    );
  }
  const paths = { json: join(dir, 'report.json'), md: join(dir, 'report.md') };
  await writeFile(paths.json, json, { mode: 0o600 });
  await writeFile(paths.md, md, { mode: 0o600 });
  return paths;
}
