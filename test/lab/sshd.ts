// One sshd per lab host: own config, own ed25519 host key, listening on <host>:22 only.
// Operator side: one ed25519 key accepted for every login user, and known_hosts (plain and hashed).
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { LabError, readPidFile, run, tail, track, waitFor, writeOwned, type TrackedPid } from './proc.js';
import { SSH_PORT, authorizedKeysDir, operatorPaths } from './paths.js';
import type { LabVariant } from './types.js';

export interface SshdPaths {
  dir: string;
  config: string;
  hostKey: string;
  pidFile: string;
  log: string;
}

export function sshdPaths(home: string): SshdPaths {
  const dir = `${home}/sshd`;
  return {
    dir,
    config: `${dir}/sshd_config`,
    hostKey: `${dir}/ssh_host_ed25519_key`,
    pidFile: `${dir}/sshd.pid`,
    log: `${dir}/sshd.log`,
  };
}

/** Operator key pair (no passphrase) and one root-owned authorized_keys file per login user. */
export async function makeOperatorKey(variant: LabVariant, loginUsers: string[]): Promise<string> {
  const op = operatorPaths(variant);
  await mkdir(op.dir, { recursive: true, mode: 0o700 });
  await chmod(op.dir, 0o700);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    `pgharden-lab-${variant}`,
    '-f',
    op.identityFile,
  ]);
  const pub = (await readFile(`${op.identityFile}.pub`, 'utf8')).trim();
  const akDir = authorizedKeysDir(variant);
  await mkdir(akDir, { recursive: true, mode: 0o755 });
  await chmod(akDir, 0o755);
  await Promise.all(loginUsers.map((u) => writeOwned(`${akDir}/${u}`, `${pub}\n`, 0o644)));
  return pub;
}

function sshdConfig(
  variant: LabVariant,
  host: string,
  user: string,
  p: SshdPaths,
  extraUsers: string[],
): string {
  return [
    `# sshd of the pgharden lab (${variant}), host ${host}; started as: /usr/sbin/sshd -f ${p.config} -E ${p.log}`,
    `ListenAddress ${host}:${SSH_PORT}`,
    `HostKey ${p.hostKey}`,
    `PidFile ${p.pidFile}`,
    `AuthorizedKeysFile ${authorizedKeysDir(variant)}/%u`,
    'PubkeyAuthentication yes',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'StrictModes yes',
    `AllowUsers ${[user, ...extraUsers].join(' ')}`,
    'MaxSessions 10',
    'MaxStartups 50:30:100',
    'PrintMotd no',
    'X11Forwarding no',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/**
 * Write config and host key under <home>/sshd (root-owned), start sshd, wait for its pid file (sshd writes
 * it after binding). Returns the tracked pid and the host's public key line (`ssh-ed25519 AAAA…`).
 */
export async function startSshd(
  variant: LabVariant,
  host: string,
  user: string,
  home: string,
  extraUsers: string[],
): Promise<{ pid: TrackedPid; hostKey: string }> {
  const p = sshdPaths(home);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await mkdir(p.dir, { recursive: true, mode: 0o755 });
  await chmod(p.dir, 0o755);
  await rm(p.hostKey, { force: true });
  await rm(`${p.hostKey}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${host}`, '-f', p.hostKey]);
  await writeOwned(p.config, sshdConfig(variant, host, user, p, extraUsers), 0o644);
  try {
    await run('/usr/sbin/sshd', ['-f', p.config, '-E', p.log]);
  } catch (e) {
    throw new LabError(`lab: sshd for ${host} did not start: ${(e as Error).message}\n${await tail(p.log)}`);
  }
  const pid = await waitFor(
    `sshd on ${host}:${SSH_PORT} to write ${p.pidFile}`,
    () => readPidFile(p.pidFile),
    {
      timeoutMs: 10_000,
      intervalMs: 10,
      logs: [p.log],
    },
  );
  const [type = '', key = ''] = (await readFile(`${p.hostKey}.pub`, 'utf8')).trim().split(/\s+/);
  return { pid: track(pid, `sshd ${host}`, 'SIGTERM'), hostKey: `${type} ${key}` };
}

/** known_hosts (plain `127.0.1.x ssh-ed25519 AAAA…`, port 22 so no [host]:port) and a hashed copy. */
export async function writeKnownHosts(
  variant: LabVariant,
  entries: { host: string; hostKey: string }[],
): Promise<void> {
  const op = operatorPaths(variant);
  const text = entries.map((e) => `${e.host} ${e.hostKey}\n`).join('');
  await writeOwned(op.knownHosts, text, 0o644);
  await writeOwned(op.knownHostsHashed, text, 0o644);
  await run('ssh-keygen', ['-H', '-f', op.knownHostsHashed]);
  await rm(`${op.knownHostsHashed}.old`, { force: true });
}
