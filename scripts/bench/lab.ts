// The streaming lab for the bench: reuse a running one, bring one up only when none is recorded, and tear
// down only a lab this process brought up. PostgreSQL restarts are read locally (peer auth over the node's
// socket, no SSH, so they do not show in the sshd logs).
import { execa } from 'execa';
import { installPackages } from '../../test/lab/install.js';
import { down, isUp, readLab, up } from '../../test/lab/lab.js';
import { operatorPaths } from '../../test/lab/paths.js';
import type { Lab, LabNode } from '../../test/lab/types.js';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LabHandle {
  lab: Lab;
  /** true: this process brought the lab up (and may tear it down). */
  startedByUs: boolean;
}

const VARIANT = 'streaming';

/** Someone else's `up` may be in progress (started.json written, lab.json not yet): wait for it. */
async function waitForOthersUp(log: (line: string) => void): Promise<boolean> {
  log('bench: a streaming lab is being brought up by someone else; waiting up to 90 s');
  for (let i = 0; i < 90; i++) {
    if ((await readLab(VARIANT)) !== undefined && (await isUp(VARIANT))) return true;
    await sleep(1000);
  }
  return false;
}

export async function ensureLab(opts: {
  replaceBroken: boolean;
  log: (line: string) => void;
}): Promise<LabHandle> {
  const recorded = await readLab(VARIANT);
  if (recorded !== undefined && (await isUp(VARIANT))) return { lab: recorded, startedByUs: false };
  const paths = operatorPaths(VARIANT);
  if (recorded === undefined && existsSync(paths.startedJson) && (await waitForOthersUp(opts.log))) {
    const lab = await readLab(VARIANT);
    if (lab !== undefined) return { lab, startedByUs: false };
  }
  if ((recorded !== undefined || existsSync(paths.startedJson)) && !opts.replaceBroken) {
    throw new Error(
      'bench: a streaming lab is recorded but not fully up, and it is not ours to tear down. ' +
        'Check `npm run lab -- status`, or pass --replace-broken-lab to rebuild it.',
    );
  }
  await installPackages({ log: opts.log });
  opts.log('bench: bringing up the streaming lab');
  const lab = await up(VARIANT, { log: opts.log });
  return { lab, startedByUs: true };
}

export async function releaseLab(
  handle: LabHandle,
  keep: boolean,
  log: (line: string) => void,
): Promise<void> {
  if (!handle.startedByUs || keep) return;
  log('bench: tearing down the streaming lab this run brought up');
  await down(VARIANT);
}

/** pg_postmaster_start_time() of one node, as its OS user over the local socket. */
async function startTime(node: LabNode): Promise<string> {
  const r = await execa(
    'runuser',
    [
      '-u',
      node.osUser,
      '--',
      `${node.binDir}/psql`,
      '-XAtq',
      '-h',
      node.socketDir,
      '-p',
      String(node.port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      'SELECT pg_postmaster_start_time()::text',
    ],
    { cwd: '/', timeout: 20_000, stdin: 'ignore' },
  );
  return r.stdout.trim();
}

export async function startTimes(lab: Lab): Promise<Map<string, string>> {
  const times = await Promise.all(lab.nodes.map(async (n) => [n.name, await startTime(n)] as const));
  return new Map(times);
}

/** Nodes whose postmaster start time changed between two readings. */
export function restarts(before: Map<string, string>, after: Map<string, string>): number {
  let n = 0;
  for (const [node, t] of before) if (after.get(node) !== t) n++;
  return n;
}
