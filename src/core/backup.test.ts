// What backup.ts sends to the node: values only through shellQuote, never file content on argv.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { backupFile, backupName, restoreFile } from './backup.js';
import type { ExecOptions, ExecResult, RemoteSession } from '../remote/types.js';

function session(
  reply: Partial<ExecResult>,
  seen: { cmd: string; o?: ExecOptions | undefined }[],
): RemoteSession {
  const exec = (cmd: string, o?: ExecOptions): Promise<ExecResult> => {
    seen.push({ cmd, o });
    return Promise.resolve({ code: 0, stdout: '', stderr: '', ...reply });
  };
  return { node: 'pg1', exec } as unknown as RemoteSession;
}

const SHA = 'b'.repeat(64);

describe('backupFile', () => {
  it('quotes the paths and runs as the owner', async () => {
    const seen: { cmd: string; o?: ExecOptions | undefined }[] = [];
    const path = "/etc/it's here/pg_hba.conf";
    const r = await backupFile(session({ stdout: `present postgres 640 ${SHA}\n` }, seen), path, {
      runId: '20261123T142500Z-abcdef',
      asUser: 'postgres',
    });
    expect(r).toEqual({
      path,
      backup: backupName(path, '20261123T142500Z-abcdef'),
      sha256: SHA,
      mode: 0o640,
      owner: 'postgres',
      existed: true,
    });
    expect(seen[0]?.cmd).toContain(`'/etc/it'\\''s here/pg_hba.conf.pgharden-20261123T142500Z-abcdef.bak'`);
    expect(seen[0]?.o).toEqual({ asUser: 'postgres' });
  });

  it('records a missing file as existed: false, and refuses a clashing backup', async () => {
    const r = await backupFile(session({ stdout: 'absent\n' }, []), '/x', { runId: 'r' });
    expect(r.existed).toBe(false);
    await expect(
      backupFile(session({ code: 3, stdout: 'clash /x\n' }, []), '/x', { runId: 'r' }),
    ).rejects.toMatchObject({
      code: 'backup.exists',
    });
  });
});

describe('restoreFile', () => {
  const record = { path: '/x', backup: '/x.bak', sha256: SHA, mode: 0o600, owner: 'postgres', existed: true };
  it('checks the sha256 the node reports after the rename', async () => {
    const seen: { cmd: string }[] = [];
    await restoreFile(session({ stdout: `${SHA}  /x\n` }, seen), record);
    expect(seen[0]?.cmd).toMatch(/mv -f -T/);
    await expect(
      restoreFile(session({ stdout: `${'c'.repeat(64)}  /x\n` }, []), record),
    ).rejects.toMatchObject({
      code: 'restore.mismatch',
    });
  });

  it('deletes a file the run created', async () => {
    const seen: { cmd: string }[] = [];
    await restoreFile(session({}, seen), { ...record, existed: false });
    expect(seen.map((s) => s.cmd)).toEqual(['rm -f -- /x']);
  });
});

/** Runs the commands here, in a local sh: the restore script's own logic, without a node. */
function localSession(): RemoteSession {
  const exec = async (cmd: string): Promise<ExecResult> => {
    try {
      const r = await promisify(execFile)('sh', ['-c', cmd], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  return { node: 'local', exec } as unknown as RemoteSession;
}

describe('restoreFile, run by a real sh', () => {
  it('leaves a file that already is its backup alone (a step that failed before writing it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgharden-restore-'));
    try {
      const path = join(dir, 'pg_hba.conf');
      writeFileSync(path, 'host all all 0.0.0.0/0 md5\n', { mode: 0o600 });
      const record = await backupFile(localSession(), path, { runId: '20261123T142500Z-abcdef' });
      const inode = statSync(path).ino;
      await restoreFile(localSession(), { ...record, owner: '' });
      expect(statSync(path).ino).toBe(inode); // not replaced: an immutable file would have failed here
      writeFileSync(path, 'changed\n');
      await restoreFile(localSession(), { ...record, owner: '' });
      expect(statSync(path).ino).not.toBe(inode);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no temp file behind when the rename fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgharden-restore-'));
    try {
      const path = join(dir, 'conf');
      writeFileSync(`${path}.bak`, 'x\n');
      mkdirSync(path); // a non-empty directory where the file should be: mv -T cannot replace it
      writeFileSync(join(path, 'inside'), '');
      const record = { path, backup: `${path}.bak`, sha256: SHA, mode: 0o644, owner: '', existed: true };
      await expect(restoreFile(localSession(), record)).rejects.toMatchObject({ code: 'restore.failed' });
      expect(readdirSync(dir).sort()).toEqual(['conf', 'conf.bak']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
