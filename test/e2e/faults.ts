// Real faults for the fault-injection matrix (fault-matrix.test.ts), made while the CLI waits at its
// test-only pause point (PGHARDEN_TEST_PAUSE_AT, src/core/engine/pause-point.ts). Each fault is done
// to the lab of this slot only: its node's sshd children, files under its node's home.
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LabNode } from '../lab/types.js';
import { tlsDirOf } from './lab-snapshot.js';

export type FaultKind = 'ssh-dropped' | 'file-unwritable' | 'bad-cert';

export interface Fault {
  /** Before the run: part of the state the rollback must restore. */
  prepare(): Promise<void>;
  /** While the CLI is paused before the step's apply. */
  inject(): Promise<void>;
  /** After the run, before comparing: takes away what the fault itself left (not what pgharden did). */
  clear(): Promise<void>;
  /** Always, last: the lab as the fault found it, whatever happened. */
  release(): Promise<void>;
}

const noop = (): Promise<void> => Promise.resolve();
const pgrep = (args: string[]): number[] =>
  spawnSync('pgrep', args, { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l !== '')
    .map(Number);

/**
 * Kills the node's SSH connections the hard way, as a crashed or cut session would end: the
 * per-connection sshd processes, i.e. the listener's children (`sshd: USER [priv]`, root) and the
 * session processes running as the node's OS user (`sshd: USER@notty`; named `sshd-session` from
 * OpenSSH 9.8). Never the listener itself, never another node's or another slot's processes.
 */
export function sshDropped(node: LabNode): Fault {
  const listener = (): string => execFileSync('cat', [node.sshdPidFile], { encoding: 'utf8' }).trim();
  const sessions = (): number[] => [...pgrep(['-P', listener()]), ...pgrep(['-u', node.osUser, '^sshd'])];
  return {
    prepare: noop,
    async inject() {
      const pids = sessions();
      if (pids.length === 0)
        throw new Error(`${node.name}: no SSH connection to kill (is pgharden connected?)`);
      for (const pid of new Set(pids)) spawnSync('kill', ['-KILL', String(pid)]);
      for (let i = 0; i < 50 && sessions().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      if (sessions().length > 0) throw new Error(`${node.name}: its sshd children outlived SIGKILL`);
    },
    clear: noop,
    release: noop,
  };
}

const chattr = (flag: '+i' | '-i', path: string): void => {
  spawnSync('chattr', [flag, path]);
};

/**
 * Makes the write of `path` by step k fail for real, in a way the rollback can still undo (a fault
 * that also blocks the restore cannot end in exit 4 whatever the tool does):
 * - a file in the TLS directory (created by the run): the directory is a tiny tmpfs, filled up
 *   while paused, so creating files fails (ENOSPC) and deleting them still works;
 * - an existing file the run has not changed yet: `chattr +i` (rename over it fails with EPERM;
 *   its restore has nothing to do, the content is the original);
 * - postgresql.auto.conf already changed by an earlier step: PostgreSQL's ALTER SYSTEM writes
 *   `postgresql.auto.conf.tmp` and renames it; an immutable root-owned file by that name makes
 *   every ALTER SYSTEM fail, while the restore (its own temp name) still works.
 */
export function fileUnwritable(node: LabNode, path: string, changedEarlier: boolean): Fault {
  const tlsDir = tlsDirOf(node);
  if (path.startsWith(`${tlsDir}/`)) {
    const filler = join(tlsDir, '.fault-filler');
    let mounted = false;
    return {
      async prepare() {
        await mkdir(tlsDir);
        const uid = execFileSync('id', ['-u', node.osUser], { encoding: 'utf8' }).trim();
        const gid = execFileSync('id', ['-g', node.osUser], { encoding: 'utf8' }).trim();
        execFileSync('mount', [
          '-t',
          'tmpfs',
          '-o',
          `size=64k,mode=0700,uid=${uid},gid=${gid}`,
          `pgharden-fault-${node.osUser}`,
          tlsDir,
        ]);
        mounted = true;
      },
      inject() {
        // dd stops with ENOSPC once every page is taken: that is the point.
        spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k']);
        const free = execFileSync('df', ['--output=avail', tlsDir], { encoding: 'utf8' }).split('\n')[1];
        if (Number(free) !== 0) return Promise.reject(new Error(`${tlsDir} still has ${free} KiB free`));
        return Promise.resolve();
      },
      clear: () => rm(filler, { force: true }),
      async release() {
        await rm(filler, { force: true });
        if (mounted) execFileSync('umount', [tlsDir]);
        mounted = false;
        await rmdir(tlsDir).catch(() => undefined);
      },
    };
  }
  if (!changedEarlier) {
    return {
      prepare: noop,
      inject: () => Promise.resolve(chattr('+i', path)),
      clear: () => Promise.resolve(chattr('-i', path)),
      release: () => Promise.resolve(chattr('-i', path)),
    };
  }
  if (basename(path) !== 'postgresql.auto.conf') {
    throw new Error(`no fault that leaves ${path} restorable after an earlier step changed it`);
  }
  const blocker = `${path}.tmp`;
  const release = async (): Promise<void> => {
    chattr('-i', blocker);
    await rm(blocker, { force: true });
  };
  return {
    prepare: noop,
    async inject() {
      await writeFile(blocker, '', { mode: 0o000 });
      chattr('+i', blocker);
    },
    clear: release,
    release,
  };
}

/** A new key of the same kind (curve or RSA size) as `key`, as PKCS#8 PEM. */
function sameKindKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  const pair =
    key.asymmetricKeyType === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: d.namedCurve ?? 'prime256v1' })
      : key.asymmetricKeyType === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: d.modulusLength ?? 3072 })
        : generateKeyPairSync('ed25519');
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Swaps the node's installed server key for another valid key of the same type, keeping the file's
 * owner (the node's OS user) and mode: the certificate no longer matches its key, which the next
 * validated reload must refuse (PostgreSQL itself would only log "SSL configuration was not
 * reloaded" and keep serving the old one).
 */
export function badCert(node: LabNode): Fault {
  const keyPath = join(tlsDirOf(node), 'server.key');
  return {
    prepare: noop,
    async inject() {
      const installed = createPrivateKey(await readFile(keyPath));
      await writeFile(keyPath, sameKindKey(installed)); // an existing file keeps owner and mode
    },
    clear: noop,
    release: noop,
  };
}
