// PKI benchmark (issue 4): a CA + 3 server + 4 client certificates (ECDSA P-256), issued three ways in
// the same run, interleaved: in-process with src/pki, as a whole `pgharden certs issue` process, and by
// the openssl CLI from a bash script (23 processes). `npx tsx scripts/bench/pki.ts [--runs N] [--json]`;
// scripts/bench.ts calls benchPki().
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { issueToDir, planLeaves } from '../../src/pki/issue.js';
import type { Inventory } from '../../src/core/inventory-schema.js';
import { stat, type Stat } from './report.js';

const BIN = resolve(import.meta.dirname, '..', '..', 'dist', 'pgharden.mjs');
const CLIENTS = ['app', 'replicator', 'monitor', 'reporting'];
const NODES = [1, 2, 3].map((i) => ({ name: `pg${i}`, host: `10.0.0.1${i}`, names: [`pg${i}.internal`] }));

export interface PkiBenchResult {
  runs: number;
  certificates: number;
  /** issueToDir in this process (keys generated, files written). */
  inProcessMs: Stat;
  /** `node dist/pgharden.mjs certs issue`, spawn to exit; undefined without a bundle. */
  processMs: Stat | undefined;
  /** bash + openssl CLI doing the same work. */
  opensslMs: Stat;
  opensslProcesses: number;
  /** Median ratios; < 1 means pgharden is faster. */
  ratios: { inProcessVsOpenssl: number; processVsOpenssl: number | undefined };
  problems: string[];
}

const INVENTORY: Inventory = {
  cluster: 'bench',
  topology: 'streaming',
  network: ['10.0.0.0/24'],
  nodes: NODES,
};

/** The same certificates, extensions included, the way a DBA would script them with openssl. */
const OPENSSL_SCRIPT = `set -euo pipefail
cd "$1"
umask 077
leaf='basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nsubjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n'
printf "\${leaf}extendedKeyUsage=clientAuth\\n" > client.ext
openssl ecparam -name prime256v1 -genkey -noout -out root.key
openssl req -x509 -new -key root.key -sha256 -days 3650 -subj "/CN=bench pgharden CA" \\
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \\
  -addext "subjectKeyIdentifier=hash" -out root.crt
for i in 1 2 3; do
  n=pg$i
  printf "\${leaf}extendedKeyUsage=serverAuth\\nsubjectAltName=IP:10.0.0.1$i,DNS:$n.internal\\n" > $n.ext
  openssl ecparam -name prime256v1 -genkey -noout -out $n.key
  openssl req -new -key $n.key -subj "/CN=$n" -out $n.csr
  openssl x509 -req -in $n.csr -CA root.crt -CAkey root.key -CAcreateserial -sha256 -days 365 -extfile $n.ext -out $n.crt 2>/dev/null
done
for r in ${CLIENTS.join(' ')}; do
  openssl ecparam -name prime256v1 -genkey -noout -out $r.key
  openssl req -new -key $r.key -subj "/CN=$r" -out $r.csr
  openssl x509 -req -in $r.csr -CA root.crt -CAkey root.key -CAcreateserial -sha256 -days 365 -extfile client.ext -out $r.crt 2>/dev/null
done
`;
// bash itself, then openssl only (printf is a builtin): 2 for the CA and 3 per leaf.
const OPENSSL_PROCESSES = 1 + 2 + (NODES.length + CLIENTS.length) * 3;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function benchPki(runs: number): Promise<PkiBenchResult> {
  const work = await mkdtemp(join(tmpdir(), 'pgharden-bench-pki-'));
  const problems: string[] = [];
  try {
    const inventory = join(work, 'inventory.yaml');
    await writeFile(inventory, stringify(INVENTORY));
    const script = join(work, 'openssl.sh');
    await writeFile(script, OPENSSL_SCRIPT);
    const haveBundle = existsSync(BIN);
    if (!haveBundle) problems.push(`${BIN} missing: run \`npm run build\` to time the CLI process`);
    let n = 0;
    const fresh = (): string => join(work, `out-${n++}`);
    let firstInProcess: string | undefined;
    const variants = {
      inProcess: async () => {
        const dir = fresh();
        firstInProcess ??= dir;
        await issueToDir({ dir, cluster: 'bench', leaves: planLeaves(INVENTORY, CLIENTS), keyType: 'p256' });
      },
      process: async () => {
        const dir = fresh();
        const r = await execa(
          'node',
          [BIN, 'certs', 'issue', '-i', inventory, '--out', dir, ...CLIENTS.flatMap((c) => ['--client', c])],
          {
            reject: false,
            env: { CI: 'true', NO_COLOR: '1' },
          },
        );
        if (r.exitCode !== 0) problems.push(`certs issue exited ${r.exitCode}: ${r.stderr.trim()}`);
      },
      openssl: async () => {
        const dir = fresh();
        await execa('mkdir', ['-p', dir]);
        const r = await execa('bash', [script, dir], { reject: false });
        if (r.exitCode !== 0) problems.push(`openssl script exited ${r.exitCode}: ${r.stderr.trim()}`);
      },
    };
    const names = (['inProcess', 'process', 'openssl'] as const).filter((v) => v !== 'process' || haveBundle);
    const samples: Record<string, number[]> = { inProcess: [], process: [], openssl: [] };
    for (let round = 0; round <= runs; round++) {
      // Round 0 warms up (JIT, page cache); rounds rotate so no variant always follows the same one.
      for (let k = 0; k < names.length; k++) {
        const v = names[(round + k) % names.length]!;
        const ms = await timed(variants[v]);
        if (round > 0) samples[v]!.push(ms);
      }
    }
    // One check that the pgharden output is what it claims, with the same tool the script uses.
    const check = await execa(
      'openssl',
      ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'root.crt', 'pg1.crt'],
      {
        cwd: firstInProcess ?? work,
        reject: false,
      },
    );
    if (check.exitCode !== 0)
      problems.push(`openssl verify of the in-process output failed: ${check.stdout}${check.stderr}`);
    const inProcessMs = stat(samples['inProcess']!);
    const processMs = haveBundle ? stat(samples['process']!) : undefined;
    const opensslMs = stat(samples['openssl']!);
    const ratio = (a: Stat) => Math.round((a.median / opensslMs.median) * 100) / 100;
    return {
      runs,
      certificates: 1 + NODES.length + CLIENTS.length,
      inProcessMs,
      processMs,
      opensslMs,
      opensslProcesses: OPENSSL_PROCESSES,
      ratios: { inProcessVsOpenssl: ratio(inProcessMs), processVsOpenssl: processMs && ratio(processMs) },
      problems,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function formatPki(r: PkiBenchResult): string {
  const row = (label: string, s: Stat | undefined, ratio?: number) =>
    s === undefined
      ? `  ${label.padEnd(36)} (skipped)\n`
      : `  ${label.padEnd(36)} ${String(s.median).padStart(7)} ms  (min ${s.min}, max ${s.max})${ratio === undefined ? '' : `  ${ratio}× openssl`}\n`;
  return (
    `PKI: CA + ${NODES.length} server + ${CLIENTS.length} client certs, ECDSA P-256, median of ${r.runs}\n` +
    row('pgharden in-process (src/pki)', r.inProcessMs, r.ratios.inProcessVsOpenssl) +
    row('pgharden certs issue (whole process)', r.processMs, r.ratios.processVsOpenssl) +
    row(`openssl CLI (bash, ${r.opensslProcesses} processes)`, r.opensslMs) +
    r.problems.map((p) => `  ! ${p}\n`).join('')
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 10;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs N: a positive integer');
  const result = await benchPki(runs);
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(result)}\n` : formatPki(result));
  process.exitCode = result.problems.length > 0 ? 1 : 0;
}
