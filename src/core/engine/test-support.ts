// Fakes for the engine's unit tests: in-memory steps and a session that answers only the
// backup/restore/remove commands the engine sends. Nothing here touches SSH.
import { defineStep, emptyPlan, type Step } from '../step.js';
import type { ExecResult, RemoteSession } from '../../remote/types.js';

const SHA = 'a'.repeat(64);

/** Answers backupFile/restoreFile/removeBackup like a node would; records every command. */
export function fakeSession(log: string[], node: string): RemoteSession {
  const exec = (cmd: string): Promise<ExecResult> => {
    log.push(`${node}:exec:${cmd.includes('mktemp') ? 'restore' : cmd.startsWith('rm') ? 'rm' : 'backup'}`);
    const stdout = cmd.includes('mktemp')
      ? `${SHA}  f\n`
      : cmd.startsWith('rm')
        ? ''
        : `present postgres 640 ${SHA}\n`.repeat(Math.max(1, cmd.split('.bak').length - 1));
    return Promise.resolve({ code: 0, stdout, stderr: '' });
  };
  return { node, exec, closed: new Promise(() => undefined) } as unknown as RemoteSession;
}

export interface Fake {
  fail?: 'apply' | 'verify' | undefined;
  done?: boolean | undefined;
  file?: string | undefined;
  onApply?: (() => void | Promise<void>) | undefined;
}

export function fakeStep(log: string[], node: string, id: string, f: Fake = {}): Step {
  return defineStep({
    id,
    title: id,
    check: () => f.done !== true,
    plan: () => ({
      ...emptyPlan(),
      files:
        f.file === undefined
          ? []
          : [{ path: f.file, owner: 'postgres', mode: 0o640, before: '', after: 'x' }],
    }),
    apply: async () => {
      log.push(`${node}:apply:${id}`);
      await f.onApply?.();
      if (f.fail === 'apply') throw new Error(`${id} broke`);
    },
    verify: () => f.fail !== 'verify',
    undo: () => {
      log.push(`${node}:undo:${id}`);
      return Promise.resolve();
    },
  });
}
