import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock, assertRunUnlocked } from './run-lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgharden-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('run lock', () => {
  it('lets one run per cluster in; the second gets a usage error naming the holder', async () => {
    const lock = await acquireRunLock(dir, 'prod', '20261123T142500Z-aaaaaa');
    const err = await acquireRunLock(dir, 'prod', '20261123T142501Z-bbbbbb').catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2, code: 'run.locked' });
    expect(String((err as Error).message)).toContain(`20261123T142500Z-aaaaaa (pid ${process.pid}`);
    // Another cluster is independent.
    await (await acquireRunLock(dir, 'staging', '20261123T142501Z-cccccc')).release();
    await lock.release();
    await (await acquireRunLock(dir, 'prod', '20261123T142502Z-dddddd')).release();
  });

  it('takes over a lock whose pid is gone on this host', async () => {
    const dead = spawnSync('true').pid ?? 999_999;
    await acquireRunLock(dir, 'prod', '20261123T142500Z-aaaaaa', { pid: dead });
    const lock = await acquireRunLock(dir, 'prod', '20261123T142501Z-bbbbbb');
    await lock.release();
  });

  it('never breaks a lock held from another host', async () => {
    await acquireRunLock(dir, 'prod', '20261123T142500Z-aaaaaa', { pid: 1, host: 'elsewhere' });
    await expect(acquireRunLock(dir, 'prod', '20261123T142501Z-bbbbbb')).rejects.toMatchObject({
      code: 'run.locked',
    });
  });

  it('assertRunUnlocked: free and stale locks pass, a live holder is refused, nothing is taken', async () => {
    await assertRunUnlocked(dir, 'prod');
    const dead = spawnSync('true').pid ?? 999_999;
    await acquireRunLock(dir, 'prod', '20261123T142500Z-aaaaaa', { pid: dead });
    await assertRunUnlocked(dir, 'prod');
    const lock = await acquireRunLock(dir, 'prod', '20261123T142501Z-bbbbbb');
    await expect(assertRunUnlocked(dir, 'prod')).rejects.toMatchObject({ code: 'run.locked', exitCode: 2 });
    await lock.release();
    await assertRunUnlocked(dir, 'prod');
  });
});
