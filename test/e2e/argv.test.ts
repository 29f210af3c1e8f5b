// Passwords and private keys never on a command line (SPEC §3, §11), checked the way anyone on a
// node could look: every process's argv, sampled every ~20 ms (`ps` and /proc/*/cmdline) for as
// long as a full apply runs. The lab's nodes are local OS users, so pgharden's remote commands
// (sh, psql, openssl, cp … run over SSH) are processes of this machine and show up here too.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { up } from '../lab/lab.js';
import type { Lab } from '../lab/types.js';
import { labInventory, labApplyArgs } from './lab-sql.js';
import { BIN, jsonEvents } from './rig.js';

const run = promisify(execFile);
const uidOf = (user: string): number => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
let lab: Lab;
let work: string;

beforeEach(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-argv-'));
}, 120_000);

afterAll(async () => {
  await up('streaming'); // the other e2e files expect the insecure lab
}, 120_000);

/**
 * `uid pid cmdline` of every process, from /proc (what ps reads too): ~8 ms here, so it can run
 * every 20 ms without starving the run it watches. Synchronous on purpose: one consistent sweep.
 */
function sampleProc(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const uid = statSync(`/proc/${pid}`).uid;
      const argv = readFileSync(`/proc/${pid}/cmdline`).toString('utf8').replaceAll('\0', ' ').trim();
      if (argv !== '') out.push(`${uid} ${pid} ${argv}`);
    } catch {
      // gone since readdir
    }
  }
  return out;
}

/** `user pid args` as an operator would look (~35 ms a call: every 10th sample). */
async function samplePs(): Promise<string[]> {
  const r = await run('ps', ['-eo', 'user,pid,args', '--no-headers'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** The base64 lines of every private key pgharden handled (CA, nodes, clients): key material. */
async function keyMaterial(pki: string): Promise<string[]> {
  const files = (await readdir(pki)).filter((f) => f.endsWith('.key'));
  const lines = await Promise.all(files.map((f) => readFile(join(pki, f), 'utf8')));
  return lines.flatMap((t) => t.split('\n').filter((l) => /^[A-Za-z0-9+/=]{24,}$/.test(l)));
}

describe('secrets never in argv', () => {
  it.each(['scram', 'cert'] as const)(
    'auth %s: no password or private key in any process argv during apply --yes, on this machine or a node',
    async (auth) => {
      const pki = join(work, 'pki');
      const inv = await labInventory(lab, work, auth, pki);
      const child = execa('node', [BIN, ...labApplyArgs(lab, inv, join(work, 'state'), auth)], {
        reject: false,
        stdin: 'ignore',
        env: { CI: 'true', NO_COLOR: '1' },
        timeout: 120_000,
      });
      let running = true;
      void child.finally(() => (running = false));
      const seen = new Set<string>();
      let samples = 0;
      while (running) {
        for (const line of sampleProc()) seen.add(line);
        if (samples % 10 === 0) for (const line of await samplePs()) seen.add(line);
        samples++;
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await child;
      expect(jsonEvents(r.stdout).at(-1)).toMatchObject({ type: 'summary', exitCode: 0 });
      expect(r.exitCode).toBe(0);

      const argv = [...seen];
      // The samples did catch pgharden at work on the nodes: its psql runs as each node's OS user.
      const osUsers = new Set(lab.nodes.flatMap((n) => [n.osUser, String(uidOf(n.osUser))]));
      const remotePsql = argv.filter((l) => osUsers.has(l.split(' ')[0] ?? '') && /\bpsql\b/.test(l));
      expect(samples).toBeGreaterThan(20);
      expect(remotePsql.length).toBeGreaterThan(0);

      const secrets = [...Object.values(lab.passwords), ...(await keyMaterial(pki))];
      expect(secrets.length).toBeGreaterThan(Object.keys(lab.passwords).length); // keys were read
      for (const line of argv) {
        if (/PRIVATE KEY/.test(line))
          expect.fail(`a PEM private key in the argv of ${line.split(' ').slice(0, 3).join(' ')} …`);
        for (const s of secrets) {
          // Said without the secret itself: test output is a log too.
          if (line.includes(s))
            expect.fail(`a secret in argv: ${line.replaceAll(s, '<secret>').slice(0, 200)}`);
        }
      }
    },
  );
});
