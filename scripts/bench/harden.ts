// Hardening benchmark (issue #5): `pgharden apply --auth scram` on the 3-node streaming lab vs the same work
// as hand-written bash (bench/harden-per-command.sh: one ssh/scp per command; bench/harden-controlmaster.sh:
// the same over one OpenSSH ControlMaster per node). Each run starts from a fresh insecure lab (`up`, not
// timed) and is checked afterwards, so no variant wins by doing less; a fresh lab is left at the end.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { up } from '../../test/lab/lab.js';
import type { Lab, LabNode } from '../../test/lab/types.js';
import { parseSocketLog, SOCKETS_ENV } from './hook.js';
import { restarts, startTimes } from './lab.js';
import { timeProcess, type ProcessSample, type RunSpec } from './measure.js';
import { stat, type Stat } from './report.js';
import { logDelta, markLogs, type Mine } from './sshd-log.js';
import type { BenchContext } from './variants.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const HARDEN_VARIANTS = ['pgharden', 'percmd', 'master'] as const;
type Variant = (typeof HARDEN_VARIANTS)[number];
const LABELS: Record<Variant, string> = {
  pgharden: 'pgharden apply --auth scram --json',
  percmd: 'bash: one ssh/scp per command',
  master: 'bash: ControlMaster per node',
};
const SCRIPTS = { percmd: 'bench/harden-per-command.sh', master: 'bench/harden-controlmaster.sh' };

/** As the audit bench's context (bundle snapshot, RSS source, socket hook, bash's ssh source address). */
export type HardenOptions = Pick<BenchContext, 'bundle' | 'rss' | 'tmp' | 'hookUrl' | 'bindAddress'> & {
  runs: number;
  log: (line: string) => void;
};

/** Phases (ms), mean ms per node of each step; a Run's connections/channels are per node in lab order. */
type Timings = { phases: Record<string, number>; steps: Record<string, number> };
type Run = Timings & {
  variant: Variant;
  wallMs: number;
  connections: number[];
  channels: number[];
  restarts: number;
  foreignConnections: number;
  problems: string[];
};
export type HardenVariantSummary = Timings &
  Pick<Run, 'variant' | 'restarts'> & {
    label: string;
    wallMs: Stat;
    connectionsPerNode: number[];
    channelsPerNode: number[];
  };
/** ratios: median wall of pgharden / median wall of each script; targets ≤ 0.35 and ≤ 1.0. */
export interface HardenBenchResult {
  runs: number;
  nodes: string[];
  variants: HardenVariantSummary[];
  ratios: { vsPerCommand: number; vsControlMaster: number };
  foreignConnections: number;
  problems: string[];
}

const EXEC = { cwd: '/', timeout: 20_000, stdin: 'ignore' } as const;
/** One SQL query as the node's OS user over its socket (peer auth, no SSH); one line of `|`-joined values. */
async function localSql(n: LabNode, sql: string): Promise<string> {
  const conn = ['-h', n.socketDir, '-p', String(n.port), '-U', 'postgres', '-d', 'postgres'];
  const args = ['-XAtq', ...conn, '-c', sql];
  return (await execa('runuser', ['-u', n.osUser, '--', `${n.binDir}/psql`, ...args], EXEC)).stdout.trim();
}

/** Per node: ssl, password_encryption, plain `host` rules, `hostnossl … reject` rules, WAL receiver. */
const NODE_CHECK = `SELECT current_setting('ssl'), current_setting('password_encryption'),
  (SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host'),
  (SELECT count(*) FROM pg_hba_file_rules WHERE type = 'hostnossl' AND auth_method = 'reject'),
  (SELECT status || ' ' || (conninfo LIKE '%sslmode=verify-full%') FROM pg_stat_wal_receiver)`;
const PRIMARY_CHECK = `SELECT (SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl),
  (SELECT count(*) FROM pg_authid WHERE rolname IN ('app', 'replicator') AND rolpassword LIKE 'SCRAM-SHA-256$%')`;

/** Did the run really harden the cluster? Empty when it did. */
async function checkHardened(lab: Lab): Promise<string[]> {
  const problems: string[] = [];
  for (const n of lab.nodes) {
    const want = `on|scram-sha-256|0|2|${n.role === 'standby' ? 'streaming true' : ''}`;
    const got = await localSql(n, NODE_CHECK).catch((e: unknown) => String(e));
    if (got !== want) problems.push(`${n.name}: ssl|pw_enc|host|reject|walreceiver = ${got}, want ${want}`);
  }
  const primary = lab.nodes.find((n) => n.role === 'primary');
  const want = `${lab.nodes.filter((n) => n.role === 'standby').length}|2`;
  let got = '';
  for (let i = 0; i < 25 && primary !== undefined && got !== want; i++) {
    if (i > 0) await sleep(200);
    got = await localSql(primary, PRIMARY_CHECK).catch((e: unknown) => String(e));
  }
  if (got !== want) problems.push(`primary: ssl replication connections|scram roles = ${got}, want ${want}`);
  return problems;
}

async function pghardenSpec(lab: Lab, dir: string, o: HardenOptions): Promise<RunSpec> {
  const inventory = parse(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  const inv = join(dir, 'inventory.yaml');
  await writeFile(inv, stringify({ ...inventory, pki: { dir: join(dir, 'pki') } }), { mode: 0o600 });
  const cmd = ['apply', '-i', inv, '--auth', 'scram', '--secrets', lab.secretsPath, '--yes'];
  return {
    file: process.execPath,
    args: ['--import', o.hookUrl, o.bundle, ...cmd, '--state-dir', join(dir, 'state'), '--json'],
    env: { ...(process.env as Record<string, string>), [SOCKETS_ENV]: join(dir, 'sockets.log') },
    timeoutMs: 300_000,
  };
}

async function bashSpec(v: 'percmd' | 'master', lab: Lab, dir: string, o: HardenOptions): Promise<RunSpec> {
  const nodes = join(dir, 'nodes.tsv');
  const line = (n: LabNode): string =>
    [n.role, n.osUser, n.host, n.dataDir, n.socketDir, n.port, n.binDir, n.home].join('\t');
  await writeFile(nodes, `${lab.nodes.map(line).join('\n')}\n`);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    BENCH_NODES: nodes,
    BENCH_IDENTITY: lab.identityFile,
    BENCH_KNOWN_HOSTS: lab.knownHostsPath,
    BENCH_BIND: o.bindAddress,
    APP_PASSWORD: lab.passwords['app'] ?? '',
    REPLICATOR_PASSWORD: lab.passwords['replicator'] ?? '',
  };
  return { file: '/bin/bash', args: [join(ROOT, SCRIPTS[v]), join(dir, 'out')], env, timeoutMs: 300_000 };
}

const perStep = (pairs: [string, number][]): Record<string, number> => {
  const by = new Map<string, number[]>();
  for (const [k, ms] of pairs) by.set(k, [...(by.get(k) ?? []), ms]);
  return Object.fromEntries([...by].map(([k, xs]) => [k, xs.reduce((a, b) => a + b, 0) / xs.length]));
};

/** pgharden's phases from the `ts` of its JSON events; steps from step:done `ms`. */
function applyPhases(s: ProcessSample): Timings {
  const ev = s.stdout.split('\n').flatMap((l) => {
    try {
      const e = JSON.parse(l) as { type?: string; ts?: string; step?: string; ms?: number };
      return e.ts === undefined ? [] : [{ ...e, t: Date.parse(e.ts) }];
    } catch {
      return [];
    }
  });
  const at = (type: string, f: (...ts: number[]) => number): number =>
    f(...ev.filter((e) => e.type === type).map((e) => e.t));
  const cuts: [string, number][] = [
    ['startup, connect, preflight', at('preflight:done', Math.max)],
    ['plan, backups', at('step:started', Math.min)],
    ['steps', at('step:done', Math.max)],
    ['verify, summary', Math.max(...ev.map((e) => e.t))],
    ['exit', s.spawnedAt + s.wallMs],
  ];
  const phases: Record<string, number> = {};
  let prev = s.spawnedAt;
  for (const [k, t] of cuts) {
    if (Number.isFinite(t)) [phases[k], prev] = [t - prev, t];
  }
  const done = ev.filter((e) => e.type === 'step:done' && e.step !== undefined);
  return { phases, steps: perStep(done.map((e) => [e.step ?? '', e.ms ?? 0])) };
}

/** The scripts' "<node|all> <step> <epoch s>" marks: phases between "all" marks, steps per node. */
async function bashPhases(out: string, s: ProcessSample): Promise<Timings> {
  const marks = (await readFile(join(out, 'times'), 'utf8').catch(() => ''))
    .split('\n')
    .map((l) => l.split(' '))
    .flatMap(([who, step, t]) => (t === undefined ? [] : [{ who, step: step ?? '', t: Number(t) * 1000 }]))
    .sort((a, b) => a.t - b.t);
  const phases: Record<string, number> = {};
  const steps: [string, number][] = [];
  const lastOf = new Map<string, number>();
  let prevAll = s.spawnedAt;
  for (const m of marks) {
    if (m.who === 'all') {
      phases[m.step === 'start' ? 'startup' : m.step] = m.t - prevAll;
      prevAll = m.t;
    } else {
      steps.push([m.step, m.t - Math.max(prevAll, lastOf.get(m.who ?? '') ?? 0)]);
      lastOf.set(m.who ?? '', m.t);
    }
  }
  phases['exit'] = s.spawnedAt + s.wallMs - prevAll;
  return { phases, steps: perStep(steps) };
}

async function runOnce(v: Variant, o: HardenOptions): Promise<Run> {
  const lab = await up('streaming');
  const dir = await mkdtemp(join(o.tmp, `harden-${v}-`));
  try {
    await mkdir(join(dir, 'out'));
    const spec = v === 'pgharden' ? await pghardenSpec(lab, dir, o) : await bashSpec(v, lab, dir, o);
    const before = await startTimes(lab);
    const marks = await markLogs(lab.nodes.map((n) => n.sshdLog));
    const s = await timeProcess(spec, o.rss, dir);
    const after = await startTimes(lab);
    const sockets = parseSocketLog(await readFile(join(dir, 'sockets.log'), 'utf8').catch(() => ''));
    const ours = new Set(sockets.map((e) => `${e.localAddress}:${e.localPort}`));
    const mine: Mine = v === 'pgharden' ? (a, p) => ours.has(`${a}:${p}`) : (a) => a === o.bindAddress;
    const deltas = await Promise.all(
      lab.nodes.map((n) => logDelta(n.sshdLog, marks.get(n.sshdLog) ?? 0, mine)),
    );
    const problems = s.exitCode === 0 ? [] : [`exit ${s.exitCode}: ${s.stderr.trim().slice(-400)}`];
    problems.push(...(await checkHardened(lab)));
    return {
      variant: v,
      wallMs: s.wallMs,
      connections: deltas.map((d) => d.ours.connections),
      channels: deltas.map((d) => d.ours.channels),
      restarts: restarts(before, after),
      foreignConnections: deltas.reduce((a, d) => a + d.foreignConnections, 0),
      ...(v === 'pgharden' ? applyPhases(s) : await bashPhases(join(dir, 'out'), s)),
      problems,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function medianOf(rs: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(rs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, stat(rs.flatMap((r) => r[k] ?? [])).median]));
}

export async function benchHarden(o: HardenOptions): Promise<HardenBenchResult> {
  const runs: Run[] = [];
  const problems: string[] = [];
  let nodes: string[] = [];
  try {
    for (let round = 1; round <= o.runs; round++) {
      const k = round % HARDEN_VARIANTS.length;
      for (const v of [...HARDEN_VARIANTS.slice(k), ...HARDEN_VARIANTS.slice(0, k)]) {
        const r = await runOnce(v, o);
        runs.push(r);
        problems.push(...r.problems.map((p) => `harden ${v} round ${round}: ${p}`));
        const tag = r.problems.length > 0 ? ' (problems)' : '';
        o.log(`bench harden: round ${round}/${o.runs} ${v}: ${r.wallMs.toFixed(0)} ms${tag}`);
      }
    }
  } finally {
    o.log('bench harden: leaving a fresh insecure streaming lab');
    nodes = (await up('streaming')).nodes.map((n) => n.name);
  }
  const variants = HARDEN_VARIANTS.map((v): HardenVariantSummary => {
    const rs = runs.filter((r) => r.variant === v);
    const col = (f: (r: Run) => number[]): number[] =>
      nodes.map((_, i) => stat(rs.map((r) => f(r)[i] ?? NaN)).median);
    return {
      variant: v,
      label: LABELS[v],
      wallMs: stat(rs.map((r) => r.wallMs)),
      connectionsPerNode: col((r) => r.connections),
      channelsPerNode: col((r) => r.channels),
      restarts: rs.reduce((a, r) => a + r.restarts, 0),
      phases: medianOf(rs.map((r) => r.phases)),
      steps: medianOf(rs.map((r) => r.steps)),
    };
  });
  const wall = (v: Variant): number => variants.find((s) => s.variant === v)?.wallMs.median ?? NaN;
  const ratio = (v: Variant): number => Math.round((wall('pgharden') / wall(v)) * 100) / 100;
  for (const s of variants)
    if (s.restarts > 0) problems.push(`harden ${s.variant}: ${s.restarts} restart(s)`);
  return {
    runs: o.runs,
    nodes,
    variants,
    ratios: { vsPerCommand: ratio('percmd'), vsControlMaster: ratio('master') },
    foreignConnections: runs.reduce((a, r) => a + r.foreignConnections, 0),
    problems,
  };
}

const fmt = (o: Record<string, number>): string =>
  Array.from(Object.entries(o), ([k, x]) => `${k} ${Math.round(x)}`).join(', ');

export function formatHarden(r: HardenBenchResult): string {
  const ms = (n: number): string => n.toFixed(0);
  const lines = [
    `\nHardening, 3-node streaming lab, apply --auth scram vs bash (fresh lab per run, ${r.runs} runs each)`,
    `| variant | median ms | min | max | SSH conns per node (${r.nodes.join('/')}) | channels per node | restarts |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...r.variants.map(
      (v) =>
        `| ${v.label} | ${ms(v.wallMs.median)} | ${ms(v.wallMs.min)} | ${ms(v.wallMs.max)} | ` +
        `${v.connectionsPerNode.join('/')} | ${v.channelsPerNode.join('/')} | ${v.restarts} |`,
    ),
    '',
    `pgharden / one ssh per command: ${r.ratios.vsPerCommand}× (target ≤ 0.35: ${r.ratios.vsPerCommand <= 0.35 ? 'met' : 'MISSED'})`,
    `pgharden / ControlMaster:       ${r.ratios.vsControlMaster}× (target ≤ 1.0: ${r.ratios.vsControlMaster <= 1 ? 'met' : 'MISSED'})`,
  ];
  for (const v of r.variants) {
    lines.push(
      `\n${v.label}\n  phases (median ms): ${fmt(v.phases)}\n  steps (mean ms per node): ${fmt(v.steps)}`,
    );
  }
  if (r.foreignConnections > 0)
    lines.push(`(${r.foreignConnections} SSH connections by others during the runs)`);
  for (const p of r.problems) lines.push(`PROBLEM ${p}`);
  return `${lines.join('\n')}\n`;
}
