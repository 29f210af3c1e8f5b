// `npm run bench`: pgharden audit vs the same work as hand-written bash + ssh (one ssh per command, and an
// OpenSSH ControlMaster per node), side by side on the streaming lab; then certificate issuance vs the
// openssl CLI; then hardening (`apply`) vs the same work in bench/*.sh. The wizard's first frame vs
// `node -e 0` runs first, before the lab is touched (it needs none). See docs/benchmarks.md.
import { createHash, randomInt } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseBenchArgs, USAGE, type BenchArgs } from './bench/args.js';
import { writeBaseline } from './bench/baseline.js';
import { benchFirstFrame, formatFirstFrame } from './bench/first-frame.js';
import { writeSocketHook } from './bench/hook.js';
import { benchHarden, formatHarden } from './bench/harden.js';
import { benchPki, formatPki } from './bench/pki.js';
import { ensureLab, releaseLab, type LabHandle } from './bench/lab.js';
import { ensureRssSource } from './bench/measure.js';
import { buildResult, formatTable, type Meta } from './bench/report.js';
import { runOnce, VARIANTS, type BenchContext, type RunRecord, type VariantName } from './bench/variants.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const loadavg = async (): Promise<string> => (await readFile('/proc/loadavg', 'utf8')).trim();

/** Round i starts at a different variant, so no variant always runs right after the same one. */
function rotated(i: number): VariantName[] {
  const k = i % VARIANTS.length;
  return [...VARIANTS.slice(k), ...VARIANTS.slice(0, k)];
}

/** Ctrl-C stops after the current run, so a lab this process brought up is still torn down. */
let interrupted = false;
const stopCheck = (): void => {
  if (interrupted) throw new Error('bench: interrupted');
};

/** The bin and its chunks (*.mjs, no source maps), in name order: one size and one hash for all. */
async function bundleBytes(dir: string): Promise<Buffer> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.mjs')).sort();
  return Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, f)))));
}

async function measure(
  args: BenchArgs,
  ctx: BenchContext,
): Promise<{ records: RunRecord[]; foreign: number }> {
  for (let w = 0; w < args.warmup; w++) {
    for (const v of rotated(w)) {
      stopCheck();
      await runOnce(v, ctx);
    }
  }
  const records: RunRecord[] = [];
  for (let round = 1; round <= args.runs; round++) {
    for (const v of rotated(round)) {
      stopCheck();
      const r = { ...(await runOnce(v, ctx)), round };
      records.push(r);
      if (!args.json || process.stderr.isTTY) {
        log(
          `bench: round ${round}/${args.runs} ${v}: ${r.wallMs.toFixed(0)} ms${r.problems.length > 0 ? ' (problems)' : ''}`,
        );
      }
    }
  }
  return { records, foreign: records.reduce((a, r) => a + r.foreignConnections, 0) };
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    log(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const loadavgStart = await loadavg();
  const dist = resolve('dist/pgharden.mjs');
  const tmp = await mkdtemp(join(tmpdir(), 'pgharden-bench-'));
  let handle: LabHandle | undefined;
  try {
    // A snapshot of the bundle (the bin and its chunks): other people may rebuild dist/ while this runs.
    const bundle = join(tmp, 'dist', 'pgharden.mjs');
    await cp(dirname(dist), dirname(bundle), { recursive: true }).catch(() => {
      throw new Error(`bench: ${dist} is missing — run \`npm run bench\` (it builds first)`);
    });
    const bytes = await bundleBytes(dirname(bundle));
    // The wizard's first frame (issue #6) needs no lab: measured before the lab is brought up or used.
    log('bench: wizard first frame vs node -e 0 …');
    const firstFrame = await benchFirstFrame({ runs: args.frameRuns, bin: bundle });
    const rss = await ensureRssSource(log);
    handle = await ensureLab({ replaceBroken: args.replaceBrokenLab, log });
    const lab = handle.lab;
    // A source address of our own for the baseline's ssh (127.0.1.200-254: no lab node uses these).
    const bindAddress = `127.0.1.${randomInt(200, 255)}`;
    const ctx: BenchContext = {
      lab,
      rss,
      tmp,
      bundle,
      hookUrl: await writeSocketHook(tmp),
      bindAddress,
      baseline: await writeBaseline(lab, tmp, bindAddress),
    };
    const { records, foreign } = await measure(args, ctx);
    const meta: Meta = {
      date: new Date().toISOString(),
      loadavgStart,
      loadavgEnd: await loadavg(),
      cpus: availableParallelism(),
      node: process.version,
      bundle: { path: dist, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      lab: { reused: !handle.startedByUs, nodes: lab.nodes.map((n) => n.host) },
      runs: args.runs,
      warmup: args.warmup,
      rssSource: rss === 'gnu-time' ? 'GNU time %M' : '/proc/<pid>/status VmHWM, polled',
      foreignConnections: foreign,
    };
    const result = buildResult(meta, records, VARIANTS);
    // Certificate issuance needs no lab: CA + 3 server + 4 client certs vs the openssl CLI (issue #4).
    const pki = await benchPki(args.runs);
    // Hardening (issue #5): a fresh lab per run (3 runs unless --runs is given); it leaves a fresh lab
    // running at the end, which other tests expect, so it is not torn down below.
    stopCheck();
    const harden = await benchHarden({ ...ctx, runs: args.hardenRuns, log });
    handle = { ...handle, startedByUs: false };
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ ...result, pki, harden, firstFrame }, null, 2)}\n`
        : `${formatTable(result)}\n${formatPki(pki)}${formatHarden(harden)}\n${formatFirstFrame(firstFrame)}`,
    );
    return [result.problems, pki.problems, harden.problems, firstFrame.problems].some((p) => p.length > 0)
      ? 1
      : 0;
  } finally {
    if (handle !== undefined) await releaseLab(handle, args.keepLab, log);
    await rm(tmp, { recursive: true, force: true });
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = true;
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
