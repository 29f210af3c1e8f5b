// Command line of `npm run bench`: `tsx scripts/bench.ts [--runs N] [--harden-runs N] [--frame-runs N] [--warmup N] [--json] [--keep-lab] [--replace-broken-lab]`.
import { parseArgs } from 'node:util';

export interface BenchArgs {
  /** Measured runs per variant (default 5). */
  runs: number;
  /** Runs of the hardening block (default 3, or --runs): each one brings up a fresh lab first. */
  hardenRuns: number;
  /** Runs of the wizard first-frame block (default 15: a run is well under a second). */
  frameRuns: number;
  /** Unrecorded runs per variant before measuring (default 1): warms the page cache and sshd. */
  warmup: number;
  /** Print one JSON object instead of the table. */
  json: boolean;
  /** Leave a lab this run brought up running (a lab that was already up is never torn down). */
  keepLab: boolean;
  /** A recorded streaming lab that is not fully up may be torn down and brought up again. */
  replaceBrokenLab: boolean;
}

export const USAGE = `usage: npm run bench -- [--runs N] [--harden-runs N] [--frame-runs N] [--warmup N] [--json] [--keep-lab] [--replace-broken-lab]
  --runs N               measured runs per variant (default 5; hardening: 3)
  --harden-runs N        runs of the hardening block (default: --runs if given, else 3)
  --frame-runs N         runs of the wizard first-frame block (default 15)
  --warmup N             unrecorded runs per variant first (default 1)
  --json                 print the results as one JSON object
  --keep-lab             keep the streaming lab running if this run had to bring it up
  --replace-broken-lab   if a streaming lab is recorded but not fully up, rebuild it (tears it down)`;

function count(value: string | undefined, name: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 1000) throw new Error(`--${name} needs an integer ${min}..1000`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      'harden-runs': { type: 'string' },
      'frame-runs': { type: 'string' },
      warmup: { type: 'string' },
      json: { type: 'boolean', default: false },
      'keep-lab': { type: 'boolean', default: false },
      'replace-broken-lab': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return {
    runs: count(values.runs, 'runs', 1, 5),
    hardenRuns: count(values['harden-runs'], 'harden-runs', 1, count(values.runs, 'runs', 1, 3)),
    frameRuns: count(values['frame-runs'], 'frame-runs', 1, 15),
    warmup: count(values.warmup, 'warmup', 0, 1),
    json: values.json,
    keepLab: values['keep-lab'],
    replaceBrokenLab: values['replace-broken-lab'],
  };
}
