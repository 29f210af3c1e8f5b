// Undoing a hardening run: `pgharden rollback RUN_ID` after a finished apply, and SIGINT in the
// middle of an apply (exit 130, every node back). Each test starts from a fresh insecure lab.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { BIN, checksums, jsonEvents, runCli } from './rig.js';

let lab: Lab;
let work: string;

const sql = (node: LabNode, query: string): string =>
  execFileSync(
    'runuser',
    [
      '-u',
      node.osUser,
      '--',
      `${node.binDir}/psql`,
      '-XAtq',
      '-h',
      node.socketDir,
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      query,
    ],
    { encoding: 'utf8' },
  ).trim();
const primary = (): LabNode => lab.nodes.find((n) => n.role === 'primary') as LabNode;
const confFiles = (): string[] =>
  lab.nodes.flatMap((n) =>
    ['postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf'].map((f) => join(n.dataDir, f)),
  );

async function streamingStandbys(): Promise<string> {
  let n = '';
  for (let i = 0; i < 100 && n !== '2'; i++) {
    n = sql(primary(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
    if (n !== '2') await new Promise((r) => setTimeout(r, 100));
  }
  return n;
}

async function inventory(): Promise<string> {
  const inv = parse(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  inv['pki'] = { dir: join(work, 'pki') };
  const path = join(work, 'inventory.yaml');
  await writeFile(path, stringify(inv));
  return path;
}

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
    const apply = await runCli([
      'apply',
      '-i',
      inv,
      '--auth',
      'scram',
      '--secrets',
      lab.secretsPath,
      '--yes',
      '--state-dir',
      state,
      '--json',
    ]);
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
    expect(await streamingStandbys()).toBe('2');
    // A second rollback of the same run is refused.
    expect((await runCli(['rollback', runId, '--state-dir', state])).code).toBe(2);
  });

  it('SIGINT during apply → exit 130, every node rolled back', async () => {
    const inv = await inventory();
    const before = await checksums(confFiles());
    const child = execa(
      'node',
      [
        BIN,
        'apply',
        '-i',
        inv,
        '--auth',
        'scram',
        '--secrets',
        lab.secretsPath,
        '--yes',
        '--state-dir',
        join(work, 'state'),
        '--json',
      ],
      { reject: false, stdin: 'ignore', env: { CI: 'true', NO_COLOR: '1' } },
    );
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
    expect(await streamingStandbys()).toBe('2');
  });
});
