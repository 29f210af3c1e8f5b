// Undoing a hardening run: `pgharden rollback RUN_ID` after a finished apply, and SIGINT in the
// middle of an apply (exit 130, every node back). Each test starts from a fresh insecure lab.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { BIN, checksums, jsonEvents, runCli } from './rig.js';
import {
  confFiles as labConfFiles,
  labInventory,
  primaryOf,
  sql,
  streamingStandbys,
  labApplyArgs,
} from './lab-sql.js';

let lab: Lab;
let work: string;

const primary = (): LabNode => primaryOf(lab);
const confFiles = (): string[] => labConfFiles(lab);

const inventory = (): Promise<string> => labInventory(lab, work, 'inventory', join(work, 'pki'));

beforeEach(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-rollback-'));
}, 120_000);

afterAll(async () => {
  await up('streaming');
}, 120_000);

describe('undoing a hardening run', () => {
  it('pgharden rollback RUN_ID restores every file of a finished apply, without a restart', async () => {
    const inv = await inventory();
    const state = join(work, 'state');
    const before = await checksums(confFiles());
    const started = lab.nodes.map((n) => sql(n, 'SELECT pg_postmaster_start_time()'));
    const apply = await runCli(labApplyArgs(lab, inv, state, 'scram'));
    expect(apply.code).toBe(0);
    const runId = jsonEvents(apply.stdout).at(-1)?.['runId'] as string;
    expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(sql(primary(), 'SHOW ssl')).toBe('on');

    const rb = await runCli(['rollback', runId, '--state-dir', state, '--json']);
    expect(rb.stderr).toBe('');
    expect(jsonEvents(rb.stdout).at(-1)).toMatchObject({
      type: 'summary',
      command: 'rollback',
      exitCode: 0,
      failed: [],
    });
    expect(await checksums(confFiles())).toEqual(before);
    for (const n of lab.nodes) expect(sql(n, 'SHOW ssl')).toBe('off');
    expect(lab.nodes.map((n) => sql(n, 'SELECT pg_postmaster_start_time()'))).toEqual(started);
    expect(await streamingStandbys(lab)).toBe('2');
    // A second rollback of the same run is refused.
    expect((await runCli(['rollback', runId, '--state-dir', state])).code).toBe(2);
  });

  it('SIGINT during apply → exit 130, every node rolled back', async () => {
    const inv = await inventory();
    const before = await checksums(confFiles());
    const child = execa('node', [BIN, ...labApplyArgs(lab, inv, join(work, 'state'))], {
      reject: false,
      stdin: 'ignore',
      env: { CI: 'true', NO_COLOR: '1' },
    });
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      // Interrupt once the primary has finished a step: something to roll back, more to come.
      if (!sent && /"type":"step:done"/.test(chunk.toString())) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const r = await child;
    expect(sent).toBe(true);
    expect(r.exitCode).toBe(130);
    const events = jsonEvents(r.stdout);
    expect(events.at(-1)).toMatchObject({ type: 'summary', exitCode: 130 });
    expect(events.some((e) => e.type === 'rollback:done')).toBe(true);
    expect(await checksums(confFiles())).toEqual(before);
    for (const n of lab.nodes) expect(sql(n, 'SHOW ssl')).toBe('off');
    expect(await streamingStandbys(lab)).toBe('2');
  });
});
