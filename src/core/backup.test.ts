// What backup.ts sends to the node: values only through shellQuote, never file content on argv.
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
