// Where pgharden's wall time goes, from its own NDJSON events (`--json`, one event per line with `ts`):
//   startup  spawn → run:started (Node start, bundle load, inventory parse)
//   connect  run:started → last node:connected (TCP + SSH handshake + auth, nodes in parallel)
//   gather   last node:connected → last preflight:done (discovery shell, psql, pg_hba.conf read)
//   finish   last preflight:done → process exit (findings, output, closing sessions, exit)
import type { Lab } from '../../test/lab/types.js';
import type { ProcessSample } from './measure.js';

/** Phase → ms, in the order they happen. "node …" phases are per node (mean over nodes), the others whole-run. */
export type Phases = Record<string, number>;

interface AuditEvent {
  type?: string;
  ts?: string;
  ms?: number;
  exitCode?: number;
  nodes?: { node: string; ok: boolean }[];
}

function events(stdout: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as AuditEvent);
    } catch {
      // not an event line
    }
  }
  return out;
}

const at = (e: AuditEvent): number => (e.ts === undefined ? NaN : Date.parse(e.ts));
export const mean = (xs: number[]): number =>
  xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;

export function auditPhases(s: ProcessSample): Phases | undefined {
  const ev = events(s.stdout);
  const started = ev.find((e) => e.type === 'run:started');
  const connected = ev.filter((e) => e.type === 'node:connected');
  const done = ev.filter((e) => e.type === 'preflight:done');
  if (started === undefined || connected.length === 0 || done.length === 0) return undefined;
  const t0 = at(started);
  const tc = Math.max(...connected.map(at));
  const tp = Math.max(...done.map(at));
  return {
    startup: t0 - s.spawnedAt,
    connect: tc - t0,
    gather: tp - tc,
    finish: s.spawnedAt + s.wallMs - tp,
    // What pgharden reports per node itself.
    'node connect': mean(connected.map((e) => e.ms ?? NaN)),
    'node gather': mean(done.map((e) => e.ms ?? NaN)),
  };
}

/** The audit ran to its end on every node: exit 0 or 3 (high findings, expected on the lab), all nodes ok. */
export function checkAudit(stdout: string, exitCode: number, lab: Lab): string[] {
  const problems: string[] = [];
  if (exitCode !== 0 && exitCode !== 3) problems.push(`pgharden exited ${exitCode}`);
  const summary = events(stdout).find((e) => e.type === 'summary');
  if (summary === undefined) return [...problems, 'no summary event'];
  for (const n of lab.nodes) {
    const r = summary.nodes?.find((x) => x.node === n.name);
    if (r?.ok !== true) problems.push(`${n.name}: not audited`);
  }
  return problems;
}
