// Debian packages the lab runs on. Quick no-op when they are all present; otherwise apt-get with a
// policy-rc.d that forbids starting services, so nothing runs system-wide (the lab starts its own).
import { copyFile, readFile, rename, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { writeOwned } from './proc.js';

export const LAB_PACKAGES = [
  'openssh-server',
  'sudo',
  'postgresql-15',
  'postgresql-15-auto-failover',
  'pg-auto-failover-cli',
  'pgpool2',
  'testssl.sh',
  'nmap',
  'iproute2',
  'openssl',
  // The wizard's real-terminal e2e test (test/e2e/wizard.test.ts) drives it in a tmux pane.
  'tmux',
] as const;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const POLICY_BACKUP = `${POLICY_RC_D}.pgharden-lab-backup`;
const DENY_ALL =
  '#!/bin/sh\n# Written by the pgharden lab while installing packages: start no services.\nexit 101\n';

/** Packages of `names` that dpkg does not report as installed. */
export async function missingPackages(names: readonly string[] = LAB_PACKAGES): Promise<string[]> {
  const r = await execa('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...names], {
    reject: false,
  });
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name),
  );
  return names.filter((n) => !installed.has(n));
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** True when the script is nothing but `exit 101` (comments and blank lines aside). */
function deniesAll(script: string): boolean {
  const code = script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return code.length === 1 && /^exit\s+101$/.test(code[0] ?? '');
}

/** Make policy-rc.d say `exit 101`; returns how to put back what was there. */
async function denyServiceStarts(): Promise<() => Promise<void>> {
  const current = await readOrUndefined(POLICY_RC_D);
  if (current !== undefined && deniesAll(current)) return () => Promise.resolve();
  if (current !== undefined) await copyFile(POLICY_RC_D, POLICY_BACKUP);
  await writeOwned(POLICY_RC_D, DENY_ALL, 0o755);
  return async () => {
    if (current !== undefined) await rename(POLICY_BACKUP, POLICY_RC_D);
    else await rm(POLICY_RC_D, { force: true });
  };
}

export async function installPackages(opts: { log?: (line: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((): void => undefined);
  const missing = await missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`lab: installing ${missing.join(' ')} needs root`);
  log(`lab: installing ${missing.join(' ')}`);
  const restore = await denyServiceStarts();
  try {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await execa('apt-get', ['update'], { env, stdout: 'pipe', stderr: 'pipe' });
    await execa('apt-get', ['install', '-y', ...LAB_PACKAGES], {
      env,
      stdout: 'pipe',
      stderr: 'pipe',
      timeout: 15 * 60_000,
    });
  } finally {
    await restore();
  }
  const still = await missingPackages();
  if (still.length > 0) throw new Error(`lab: still missing after apt-get install: ${still.join(' ')}`);
}
