import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawResult } from './exec.js';
import { readRemoteFile, writeRemoteFileAtomic, type FileContext } from './files.js';
import type { AsUserOptions } from './sudo.js';

// The exec paths run for real through a local sh (as if sudo had already switched user), so the
// temp-file-and-rename script is exercised, not just string-compared.
const dir = mkdtempSync(join(tmpdir(), 'pgh-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function localCtx() {
  const commands: { command: string; options: AsUserOptions }[] = [];
  const ctx: FileContext = {
    node: 'pg1',
    runAs: (command, options) => {
      commands.push({ command, options });
      const r = spawnSync('sh', ['-c', command], { input: options.stdin ?? '' });
      const result: RawResult = { code: r.status, stdout: r.stdout, stderr: r.stderr };
      return Promise.resolve(result);
    },
  };
  return { ctx, commands };
}

describe('writeRemoteFileAtomic as another user', () => {
  it('content via stdin, mode applied, same-directory rename, no temp file left', async () => {
    const { ctx, commands } = localCtx();
    const path = join(dir, 'server.key');
    writeFileSync(path, 'old');
    const content = Buffer.from([0, 1, 2, 10, 13, 255, 39, 34]);
    await writeRemoteFileAtomic(ctx, path, content, { owner: 'postgres', mode: 0o600 });
    expect(readFileSync(path).equals(content)).toBe(true);
    expect(statSync(path).mode & 0o7777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.includes('pgharden-tmp'))).toEqual([]);
    expect(commands[0]?.options.asUser).toBe('postgres');
    expect(commands[0]?.command).toContain('mv -f -T');
    expect(commands[0]?.command).not.toContain(content.toString('latin1'));
  });

  it('a failing write removes its temp file and says write-failed', async () => {
    const { ctx } = localCtx();
    const sub = join(dir, 'ro');
    spawnSync('mkdir', ['-p', join(sub, 'target-is-a-dir')]);
    const err = await writeRemoteFileAtomic(ctx, join(sub, 'target-is-a-dir'), 'x', {
      owner: 'postgres',
      mode: 0o644,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'remote.write-failed', node: 'pg1' });
    expect(readdirSync(sub)).toEqual(['target-is-a-dir']);
  });

  it('refuses relative paths and impossible modes before touching anything', async () => {
    const { ctx, commands } = localCtx();
    await expect(
      writeRemoteFileAtomic(ctx, 'rel/path', 'x', { owner: 'postgres', mode: 0o600 }),
    ).rejects.toThrow(/absolute/);
    await expect(writeRemoteFileAtomic(ctx, '/x', 'x', { owner: 'postgres', mode: 0o17777 })).rejects.toThrow(
      /mode/,
    );
    expect(commands).toEqual([]);
  });
});

describe('as the SSH user', () => {
  it('writes and reads with one remote command each, and says not-found for a missing file', async () => {
    const { ctx, commands } = localCtx();
    const path = join(dir, 'own.conf');
    await writeRemoteFileAtomic(ctx, path, 'a = 1\n', { owner: 'admin', mode: 0o640 });
    expect(readFileSync(path, 'utf8')).toBe('a = 1\n');
    expect(statSync(path).mode & 0o7777).toBe(0o640);
    expect((await readRemoteFile(ctx, path)).toString()).toBe('a = 1\n');
    expect(commands.map((c) => c.options.asUser)).toEqual(['admin', undefined]);
    await expect(readRemoteFile(ctx, join(dir, 'missing'))).rejects.toMatchObject({
      code: 'remote.not-found',
    });
  });
});
