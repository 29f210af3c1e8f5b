// Wizard startup benchmark (issue 6, SPEC §12): time from spawn to the first wizard frame on a real
// pseudo-terminal, next to `node -e 0` in the same run (target ≤ 2.5×). No lab needed. The pty comes
// from Python's pty module (first-frame-pty.py; node-pty is not installed). Variants are interleaved.
// `npx tsx scripts/bench/first-frame.ts [--runs N] [--bin FILE] [--frames 1] [--json]`; scripts/bench.ts
// calls benchFirstFrame(). `--frames 1` times a build from before the painted first frame (7cf97f4 and
// earlier), where Ink draws the only frame.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stat, type Stat } from './report.js';

export const FIRST_FRAME_TARGET = 2.5;
const DRIVER = join(import.meta.dirname, 'first-frame-pty.py');
const DEFAULT_BIN = resolve(import.meta.dirname, '..', '..', 'dist', 'pgharden.mjs');
/** Text of the welcome screen; bin paints it once, then Ink draws the same frame over it. */
const MARKER = 'What do you want to do?';
const COLS = 80;
const ROWS = 24;

export interface FirstFrameResult {
  runs: number;
  warmup: number;
  terminal: string;
  loadavgStart: string;
  loadavgEnd: string;
  /** `node -e 0`, spawn to exit. */
  nodeMs: Stat | undefined;
  /** `pgharden --version`, spawn to exit. */
  versionMs: Stat | undefined;
  /** Bare `pgharden`: spawn until the welcome screen is on the terminal. */
  firstFrameMs: Stat | undefined;
  /** The same runs: until Ink has drawn its frame over it (keys are handled from here on). */
  inkFrameMs: Stat | undefined;
  /** Median ratios to `node -e 0`. */
  ratios: { firstFrame: number | undefined; inkFrame: number | undefined; version: number | undefined };
  target: number;
  problems: string[];
}

interface DriverOutput {
  samples: Record<string, number[][]>;
  problems: string[];
}

const loadavg = async (): Promise<string> =>
  (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).trim();

export async function benchFirstFrame(opts: {
  runs: number;
  warmup?: number;
  bin?: string;
  /** How often the welcome screen is drawn: 2 (painted by bin, then by Ink), 1 for older builds. */
  frames?: 1 | 2;
}): Promise<FirstFrameResult> {
  const bin = opts.bin ?? DEFAULT_BIN;
  const warmup = opts.warmup ?? 2;
  const problems: string[] = [];
  const loadavgStart = await loadavg();
  // An empty working directory: the welcome screen finds no inventory there.
  const cwd = await mkdtemp(join(tmpdir(), 'pgharden-bench-frame-'));
  let out: DriverOutput = { samples: {}, problems: [] };
  try {
    if (!existsSync(bin)) {
      problems.push(`${bin} missing: run \`npm run build\``);
    } else {
      const env: Record<string, string> = { TERM: 'xterm-256color', LANG: 'C.UTF-8' };
      for (const k of ['PATH', 'HOME'] as const) if (process.env[k]) env[k] = process.env[k];
      const job = {
        runs: opts.runs,
        warmup,
        timeoutMs: 15_000,
        cols: COLS,
        rows: ROWS,
        cwd,
        env,
        variants: [
          { name: 'node', argv: [process.execPath, '-e', '0'], marker: null },
          { name: 'version', argv: [process.execPath, bin, '--version'], marker: null },
          { name: 'wizard', argv: [process.execPath, bin], marker: MARKER, count: opts.frames ?? 2 },
        ],
      };
      const r = await execa('python3', [DRIVER], { input: JSON.stringify(job), reject: false });
      if (r.exitCode !== 0) problems.push(`pty driver (python3) exited ${r.exitCode}: ${r.stderr.trim()}`);
      else out = JSON.parse(r.stdout) as DriverOutput;
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
  problems.push(...out.problems);
  const pick = (name: string, i: number): Stat | undefined => {
    const xs = (out.samples[name] ?? []).flatMap((t) => (t[i] === undefined ? [] : [t[i]]));
    return xs.length > 0 ? stat(xs) : undefined;
  };
  const nodeMs = pick('node', 0);
  const versionMs = pick('version', 0);
  const firstFrameMs = pick('wizard', 0);
  const inkFrameMs = pick('wizard', (opts.frames ?? 2) - 1);
  const ratio = (s: Stat | undefined): number | undefined =>
    s === undefined || nodeMs === undefined ? undefined : Math.round((s.median / nodeMs.median) * 100) / 100;
  const ratios = { firstFrame: ratio(firstFrameMs), inkFrame: ratio(inkFrameMs), version: ratio(versionMs) };
  if (ratios.firstFrame !== undefined && ratios.firstFrame > FIRST_FRAME_TARGET) {
    problems.push(`first frame is ${ratios.firstFrame}× node -e 0 (target ≤ ${FIRST_FRAME_TARGET}×)`);
  }
  return {
    runs: opts.runs,
    warmup,
    terminal: `${COLS}x${ROWS} pty, TERM=xterm-256color`,
    loadavgStart,
    loadavgEnd: await loadavg(),
    nodeMs,
    versionMs,
    firstFrameMs,
    inkFrameMs,
    ratios,
    target: FIRST_FRAME_TARGET,
    problems,
  };
}

export function formatFirstFrame(r: FirstFrameResult): string {
  const row = (label: string, s: Stat | undefined, ratio?: number) =>
    s === undefined
      ? `  ${label.padEnd(44)} (no samples)\n`
      : `  ${label.padEnd(44)} ${String(s.median).padStart(7)} ms  (min ${s.min}, max ${s.max})${ratio === undefined ? '' : `  ${ratio}× node`}\n`;
  const verdict =
    r.ratios.firstFrame === undefined
      ? ''
      : `  first frame / node -e 0 = ${r.ratios.firstFrame}× (target ≤ ${r.target}×: ${r.ratios.firstFrame <= r.target ? 'met' : 'MISSED'})\n`;
  return (
    `Wizard first frame: ${r.terminal}, median of ${r.runs} (+${r.warmup} warm-up), interleaved; ` +
    `load ${r.loadavgStart.split(' ').slice(0, 3).join(' ')} → ${r.loadavgEnd.split(' ').slice(0, 3).join(' ')}\n` +
    row('node -e 0 (to exit)', r.nodeMs) +
    row('pgharden --version (to exit)', r.versionMs, r.ratios.version) +
    row('pgharden: first frame on the terminal', r.firstFrameMs, r.ratios.firstFrame) +
    row('pgharden: Ink frame over it (keys live)', r.inkFrameMs, r.ratios.inkFrame) +
    verdict +
    r.problems.map((p) => `  ! ${p}\n`).join('')
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 15;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs N: a positive integer');
  const b = argv.indexOf('--bin');
  const frames = argv.includes('--frames') && argv[argv.indexOf('--frames') + 1] === '1' ? 1 : 2;
  const result = await benchFirstFrame({
    runs,
    frames,
    ...(b >= 0 && argv[b + 1] ? { bin: resolve(argv[b + 1]!) } : {}),
  });
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(result)}\n` : formatFirstFrame(result));
  process.exitCode = result.problems.length > 0 ? 1 : 0;
}
