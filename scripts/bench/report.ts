// Aggregate the runs and print them: a table for people, or one JSON object (`--json`).
import { LABELS, LAB_VARIANTS, type RunRecord, type VariantName } from './variants.js';

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export interface VariantSummary {
  variant: VariantName;
  label: string;
  runs: number;
  failedRuns: number;
  wallMs: Stat;
  /** Wall ms of each measured run, in order. */
  wallSamplesMs: number[];
  /** Peak RSS (MiB), median over runs. */
  peakRssMiB: number | undefined;
  /** Per node and run; a single number when every node in every run had the same. */
  connectionsPerNode: Stat | undefined;
  channelsPerNode: Stat | undefined;
  channelKinds: Record<string, number> | undefined;
  restarts: number;
  /** Median ms of each phase (see phases.ts and baseline.ts). */
  phases?: Record<string, number> | undefined;
}

export interface Meta {
  date: string;
  loadavgStart: string;
  loadavgEnd: string;
  cpus: number;
  node: string;
  bundle: { path: string; bytes: number; sha256: string };
  lab: { reused: boolean; nodes: string[] };
  runs: number;
  warmup: number;
  rssSource: string;
  /** SSH connections other users of the shared lab made while we measured (not counted above). */
  foreignConnections: number;
}

export interface BenchResult {
  meta: Meta;
  variants: VariantSummary[];
  ratios: {
    pghardenVsPerCommand: number;
    pghardenVsControlMaster: number;
    pghardenVsControlMasterSameKex: number;
  };
  problems: string[];
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
  return { median: round1(median), min: round1(s[0] ?? NaN), max: round1(s[s.length - 1] ?? NaN) };
}

function medianPhases(runs: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(runs.flatMap((p) => Object.keys(p)))];
  return Object.fromEntries(
    keys.map((k) => [k, stat(runs.flatMap((p) => (p[k] === undefined ? [] : [p[k]]))).median]),
  );
}

function summarize(variant: VariantName, runs: RunRecord[]): VariantSummary {
  const lab = LAB_VARIANTS.includes(variant);
  const rss = runs.flatMap((r) => (r.rssKb === undefined ? [] : [r.rssKb / 1024]));
  const kinds: Record<string, number> = {};
  for (const r of runs)
    for (const n of r.perNode) for (const [k, v] of Object.entries(n.kinds)) kinds[k] = (kinds[k] ?? 0) + v;
  const perNodeRuns = runs.length * (runs[0]?.perNode.length ?? 0);
  for (const k of Object.keys(kinds)) kinds[k] = round1((kinds[k] ?? 0) / Math.max(perNodeRuns, 1));
  const phases = runs.flatMap((r) => (r.phases === undefined ? [] : [r.phases]));
  return {
    variant,
    label: LABELS[variant],
    runs: runs.length,
    failedRuns: runs.filter((r) => r.problems.length > 0).length,
    wallMs: stat(runs.map((r) => r.wallMs)),
    wallSamplesMs: runs.map((r) => round1(r.wallMs)),
    peakRssMiB: rss.length === 0 ? undefined : stat(rss).median,
    connectionsPerNode: lab ? stat(runs.flatMap((r) => r.perNode.map((n) => n.connections))) : undefined,
    channelsPerNode: lab ? stat(runs.flatMap((r) => r.perNode.map((n) => n.channels))) : undefined,
    channelKinds: lab ? kinds : undefined,
    restarts: runs.reduce((a, r) => a + r.restarts, 0),
    phases: phases.length === 0 ? undefined : medianPhases(phases),
  };
}

export function buildResult(meta: Meta, records: RunRecord[], order: readonly VariantName[]): BenchResult {
  const variants = order.map((v) =>
    summarize(
      v,
      records.filter((r) => r.variant === v),
    ),
  );
  const med = (v: VariantName): number => variants.find((s) => s.variant === v)?.wallMs.median ?? NaN;
  const problems = records.flatMap((r) => r.problems.map((p) => `${r.variant} run ${r.round ?? '?'}: ${p}`));
  return {
    meta,
    variants,
    ratios: {
      pghardenVsPerCommand: med('pgharden') / med('percmd'),
      pghardenVsControlMaster: med('pgharden') / med('master'),
      pghardenVsControlMasterSameKex: med('pgharden') / med('master25519'),
    },
    problems,
  };
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');
const perNode = (s: Stat | undefined): string =>
  s === undefined ? '–' : s.min === s.max ? f0(s.median) : `${f0(s.min)}–${f0(s.max)}`;

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

export function formatTable(r: BenchResult): string {
  const head = ['variant', 'median ms', 'min', 'max', 'conn/node', 'chan/node', 'peak RSS MiB', 'restarts'];
  const rows = r.variants.map((v) => [
    v.label + (v.failedRuns > 0 ? ` (${v.failedRuns} failed)` : ''),
    f0(v.wallMs.median),
    f0(v.wallMs.min),
    f0(v.wallMs.max),
    perNode(v.connectionsPerNode),
    perNode(v.channelsPerNode),
    v.peakRssMiB === undefined ? '–' : v.peakRssMiB.toFixed(1),
    LAB_VARIANTS.includes(v.variant) ? String(v.restarts) : '–',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] ?? '').length)));
  const m = r.meta;
  const lines = [
    `pgharden bench — ${m.date} — ${m.runs} runs per variant (+${m.warmup} warm-up), ${m.cpus} CPUs, node ${m.node}`,
    `load average at start: ${m.loadavgStart}   at end: ${m.loadavgEnd}   (shared machine)`,
    `lab: streaming, ${m.lab.nodes.length} nodes (${m.lab.reused ? 'reused a running lab' : 'brought up by this run'});` +
      ` bundle ${m.bundle.bytes} bytes sha256 ${m.bundle.sha256.slice(0, 12)}`,
    '',
    row(head, widths),
    row(
      widths.map((w) => '-'.repeat(w)),
      widths,
    ),
    ...rows.map((x) => row(x, widths)),
    '',
    `ratio pgharden / bash one-ssh-per-command: ${r.ratios.pghardenVsPerCommand.toFixed(2)}×`,
    `ratio pgharden / bash ControlMaster:       ${r.ratios.pghardenVsControlMaster.toFixed(2)}×`,
    `ratio pgharden / bash ControlMaster, same KEX as ssh2 (curve25519-sha256): ${r.ratios.pghardenVsControlMasterSameKex.toFixed(2)}×`,
  ];
  lines.push('', 'where the time goes (median ms; "node …" = per node, nodes run in parallel):');
  for (const v of r.variants) {
    if (v.phases === undefined) continue;
    const parts = Object.entries(v.phases).map(([k, ms]) => `${k} ${f0(ms)}`);
    lines.push(`  ${v.label}: ${parts.join(', ')}`);
  }
  for (const v of r.variants) {
    if (v.channelKinds === undefined) continue;
    const kinds = Object.entries(v.channelKinds).map(([k, n]) => `${n.toFixed(1)} ${k}`);
    lines.push(`channels per node, ${v.label}: ${kinds.join(', ') || 'none'}`);
  }
  lines.push(
    `peak RSS: ${m.rssSource}; for the bash variants it is the largest single process (bash or one ssh), not a sum.`,
  );
  if (m.foreignConnections > 0) {
    lines.push(
      `other users' SSH connections to the lab during the runs (not counted): ${m.foreignConnections}`,
    );
  }
  if (r.problems.length > 0) lines.push('', 'problems:', ...r.problems.map((p) => `  ${p}`));
  return `${lines.join('\n')}\n`;
}
