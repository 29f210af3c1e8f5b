// One measured run of one variant: the process timed, plus (for the variants that touch the lab) the sshd
// log delta of each node attributed to this run's own connections, and PostgreSQL restarts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from '../../test/lab/types.js';
import { readBaselineOutput, type BaselineFiles } from './baseline.js';
import { parseSocketLog, SOCKETS_ENV } from './hook.js';
import { restarts, startTimes } from './lab.js';
import { timeProcess, type ProcessSample, type RssSource } from './measure.js';
import { auditPhases, checkAudit, type Phases } from './phases.js';
import { logDelta, markLogs, type Mine, type SshCounts } from './sshd-log.js';

export const VARIANTS = ['node', 'startup', 'pgharden', 'percmd', 'master', 'master25519'] as const;
export type VariantName = (typeof VARIANTS)[number];
/** The variants that do the audit's work on the lab (the others only start a process). */
export const LAB_VARIANTS: readonly VariantName[] = ['pgharden', 'percmd', 'master', 'master25519'];

export const LABELS: Record<VariantName, string> = {
  node: 'node -e 0 (Node itself)',
  startup: 'startup: pgharden --version',
  pgharden: 'pgharden audit --json',
  percmd: 'bash+ssh, one ssh per command',
  master: 'bash+ssh, ControlMaster per node',
  master25519: 'same, KEX curve25519-sha256 (as ssh2)',
};

export interface BenchContext {
  lab: Lab;
  rss: RssSource;
  tmp: string;
  /** Snapshot of dist/pgharden.mjs taken at the start (others may rebuild dist/ meanwhile). */
  bundle: string;
  hookUrl: string;
  /** Source address of the baseline's ssh connections (tells them apart in the shared sshd logs). */
  bindAddress: string;
  baseline: BaselineFiles;
}

export interface NodeCounts extends SshCounts {
  node: string;
}

export interface RunRecord {
  variant: VariantName;
  wallMs: number;
  rssKb: number | undefined;
  exitCode: number;
  /** Empty when the run did its work; else what was wrong (the run is still reported). */
  problems: string[];
  perNode: NodeCounts[];
  restarts: number;
  foreignConnections: number;
  phases?: Phases | undefined;
  /** Measured round (1-based), set by the caller. */
  round?: number;
}

async function spawnVariant(
  variant: VariantName,
  ctx: BenchContext,
  scratch: string,
): Promise<ProcessSample> {
  const socketLog = join(scratch, 'sockets.log');
  switch (variant) {
    case 'node':
      return timeProcess({ file: process.execPath, args: ['-e', '0'] }, ctx.rss, scratch);
    case 'startup':
      return timeProcess({ file: process.execPath, args: [ctx.bundle, '--version'] }, ctx.rss, scratch);
    case 'pgharden':
      return timeProcess(
        {
          file: process.execPath,
          args: ['--import', ctx.hookUrl, ctx.bundle, 'audit', '-i', ctx.lab.inventoryPath, '--json'],
          env: { ...(process.env as Record<string, string>), [SOCKETS_ENV]: socketLog },
        },
        ctx.rss,
        scratch,
      );
    case 'percmd':
    case 'master':
    case 'master25519':
      return timeProcess(
        { file: '/bin/bash', args: [ctx.baseline.script, variant, join(scratch, 'out')] },
        ctx.rss,
        scratch,
      );
  }
}

async function mineOf(variant: VariantName, ctx: BenchContext, scratch: string): Promise<Mine> {
  if (variant !== 'pgharden') return (address) => address === ctx.bindAddress;
  const text = await readFile(join(scratch, 'sockets.log'), 'utf8').catch(() => '');
  const ours = new Set(parseSocketLog(text).map((e) => `${e.localAddress}:${e.localPort}`));
  return (address, port) => ours.has(`${address}:${port}`);
}

export async function runOnce(variant: VariantName, ctx: BenchContext): Promise<RunRecord> {
  const scratch = await mkdtemp(join(ctx.tmp, `${variant}-`));
  try {
    if (!LAB_VARIANTS.includes(variant)) {
      const s = await spawnVariant(variant, ctx, scratch);
      const problems = s.exitCode === 0 ? [] : [`exit ${s.exitCode}: ${s.stderr.trim().slice(0, 300)}`];
      return { variant, ...pick(s), problems, perNode: [], restarts: 0, foreignConnections: 0 };
    }
    const logs = ctx.lab.nodes.map((n) => n.sshdLog);
    const before = await startTimes(ctx.lab);
    const marks = await markLogs(logs);
    const s = await spawnVariant(variant, ctx, scratch);
    const after = await startTimes(ctx.lab);
    const mine = await mineOf(variant, ctx, scratch);
    const perNode: NodeCounts[] = [];
    let foreignConnections = 0;
    for (const n of ctx.lab.nodes) {
      const d = await logDelta(n.sshdLog, marks.get(n.sshdLog) ?? 0, mine);
      perNode.push({ node: n.name, ...d.ours });
      foreignConnections += d.foreignConnections;
    }
    const checked =
      variant === 'pgharden'
        ? { problems: checkAudit(s.stdout, s.exitCode, ctx.lab), phases: auditPhases(s) }
        : await readBaselineOutput(join(scratch, 'out'), ctx.lab, s);
    const problems =
      s.exitCode === 0 || variant === 'pgharden'
        ? checked.problems
        : [`exit ${s.exitCode}: ${s.stderr.trim().slice(0, 300)}`, ...checked.problems];
    return {
      variant,
      ...pick(s),
      problems,
      perNode,
      restarts: restarts(before, after),
      foreignConnections,
      phases: checked.phases,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function pick(s: ProcessSample): Pick<RunRecord, 'wallMs' | 'rssKb' | 'exitCode'> {
  return { wallMs: s.wallMs, rssKb: s.rssKb, exitCode: s.exitCode };
}
