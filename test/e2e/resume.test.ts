// `pgharden resume RUN_ID` on the real lab (issue #5, SPEC §10): an apply whose process is killed
// (SIGKILL: no rollback, no run:done) while the primary is done and a standby's step is in flight,
// then resumed, or rolled back; and the runs resume must refuse. Each test starts from a fresh
// insecure lab and the file leaves one behind.
import { mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/core/journal.js';
import { lockPath } from '../../src/core/run-lock.js';
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
let state: string;

const primary = (): LabNode => primaryOf(lab);
const standbys = (): LabNode[] => lab.nodes.filter((n) => n.role === 'standby');
const confFiles = (): string[] => labConfFiles(lab);
const startTimes = (): string[] => lab.nodes.map((n) => sql(n, 'SELECT pg_postmaster_start_time()'));
const inventory = (): Promise<string> => labInventory(lab, work, 'inventory', join(work, 'pki'));
const applyArgs = (inv: string): string[] => labApplyArgs(lab, inv, state, 'scram');
/** Inventory, auth and certificates come from the journal: no -i, no --auth. */
const resumeArgs = (runId: string, ...more: string[]): string[] => [
  'resume',
  runId,
  '--secrets',
  lab.secretsPath,
  '--yes',
  '--state-dir',
  state,
  ...more,
];

beforeEach(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-resume-'));
  state = join(work, 'state');
}, 120_000);

afterAll(async () => {
  await up('streaming');
}, 120_000);

async function journal(runId: string): Promise<JournalRecord[]> {
  const text = await readFile(join(state, 'runs', runId, 'journal.jsonl'), 'utf8');
  // The killed process may have left a torn last line.
  return text.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as JournalRecord];
    } catch {
      return [];
    }
  });
}

/**
 * A command the dead process had started on a node (psql running ALTER SYSTEM) can still finish
 * after the kill: wait until the config files stop changing before taking them as the baseline.
 */
async function settled(): Promise<void> {
  let last = JSON.stringify(await checksums(confFiles()));
  for (let stable = 0, i = 0; stable < 6 && i < 80; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = JSON.stringify(await checksums(confFiles()));
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/**
 * Starts `apply` and SIGKILLs it the moment the journal announces a standby's
 * tls.replication-tls change (step:apply is fsync'ed before the ALTER SYSTEM): every node's TLS
 * phase is done, the standbys' conninfo phase is half way, and that step is in flight.
 */
async function applyKilledMidPhase2(inv: string): Promise<string> {
  const child = execa('node', [BIN, ...applyArgs(inv)], {
    reject: false,
    stdin: 'ignore',
    env: { CI: 'true', NO_COLOR: '1' },
  });
  const names = new Set(standbys().map((n) => n.name));
  let runId: string | undefined;
  let killed = false;
  const deadline = Date.now() + 60_000;
  while (!killed && child.exitCode === null && Date.now() < deadline) {
    runId = (await readdir(join(state, 'runs')).catch(() => []))[0];
    // The run directory appears a moment before its journal file: not there yet = nothing yet.
    const records = runId === undefined ? [] : await journal(runId).catch(() => []);
    if (
      records.some(
        (r) => r.type === 'step:apply' && names.has(r.node ?? '') && r.step === 'tls.replication-tls',
      )
    ) {
      killed = child.kill('SIGKILL');
    } else await new Promise((r) => setTimeout(r, 5));
  }
  const r = await child;
  expect(killed).toBe(true);
  expect(r.signal).toBe('SIGKILL');
  await settled();
  expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  const records = await journal(runId as string);
  expect(records.some((x) => x.type === 'run:done' || x.type === 'rollback:done')).toBe(false);
  const done = (node: string): string[] =>
    records.filter((x) => x.type === 'step:done' && x.node === node).map((x) => x.step ?? '');
  expect(done(primary().name)).toEqual(['tls.install-ca', 'tls.install-server-cert', 'tls.enable-ssl']);
  const inFlight = [...names].filter(
    (n) =>
      records.some((x) => x.type === 'step:begin' && x.node === n && x.step === 'tls.replication-tls') &&
      !done(n).includes('tls.replication-tls'),
  );
  expect(inFlight.length).toBeGreaterThan(0);
  return runId as string;
}

describe('pgharden resume RUN_ID', () => {
  it('after SIGKILL mid-phase 2: resume --yes finishes the run; verify passes, no restart, replication over TLS, nothing left to apply', async () => {
    const inv = await inventory();
    const before = await checksums(confFiles());
    const started = startTimes();
    const runId = await applyKilledMidPhase2(inv);
    // The dead process's lock is still there: resume must take it over, not refuse.
    await expect(readFile(lockPath(state, 'lab-streaming'), 'utf8')).resolves.toContain(runId);

    // Inventory, auth and certificates come from the journal: no -i, no --auth.
    const r = await runCli(resumeArgs(runId, '--json'));
    expect(r.stderr, r.stderr).toBe('');
    const events = jsonEvents(r.stdout);
    expect(events.at(-1)).toMatchObject({ type: 'summary', command: 'resume', exitCode: 0, runId });
    expect(r.code).toBe(0);
    // The primary's finished steps are not run again; the interrupted standby step was undone first.
    expect(
      events.filter(
        (e) => e.type === 'step:done' && e['node'] === primary().name && e['step'] === 'tls.enable-ssl',
      ),
    ).toEqual([expect.objectContaining({ skipped: 'done-before-resume' })]);
    expect(events.findIndex((e) => e.type === 'rollback:done')).toBeLessThan(
      events.findIndex((e) => e.type === 'step:started'),
    );
    const text = r.stdout + r.stderr;
    for (const p of Object.values(lab.passwords)) expect(text).not.toContain(p);
    expect(text).not.toMatch(/PRIVATE KEY/);

    const records = await journal(runId);
    expect(records.filter((x) => x.type === 'run:begin')).toHaveLength(1);
    expect(records.filter((x) => x.type === 'run:resumed')).toHaveLength(1);
    expect(records.at(-1)?.type).toBe('run:done');

    const env = { PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '' };
    const verify = await runCli(['verify', '-i', inv, '--json'], env);
    expect(jsonEvents(verify.stdout).filter((e) => e.type === 'verify:row' && e['ok'] !== true)).toEqual([]);
    expect(verify.code).toBe(0);
    expect(startTimes()).toEqual(started);
    expect(
      sql(
        primary(),
        "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl AND r.state = 'streaming'",
      ),
    ).toBe('2');
    for (const s of standbys()) {
      expect(sql(s, 'SELECT conninfo FROM pg_stat_wal_receiver')).toMatch(/sslmode=verify-full/);
    }
    const hardened = await checksums(confFiles());
    const again = await runCli(applyArgs(inv));
    expect(again.code).toBe(0);
    expect(jsonEvents(again.stdout).at(-1)).toMatchObject({ exitCode: 0, changed: false });
    expect(await checksums(confFiles())).toEqual(hardened);

    // The backups of both parts of the run hold the originals: rolling the whole run back restores them.
    const rb = await runCli(['rollback', runId, '--state-dir', state, '--json']);
    expect(jsonEvents(rb.stdout).at(-1)).toMatchObject({ command: 'rollback', exitCode: 0, failed: [] });
    expect(await checksums(confFiles())).toEqual(before);
    expect(startTimes()).toEqual(started);
    expect(await streamingStandbys(lab)).toBe('2');
  });

  it('after SIGKILL mid-apply, pgharden rollback RUN_ID puts every file back byte for byte; PostgreSQL up, replication streaming', async () => {
    const inv = await inventory();
    const before = await checksums(confFiles());
    const started = startTimes();
    const runId = await applyKilledMidPhase2(inv);
    expect(await checksums(confFiles())).not.toEqual(before);

    const rb = await runCli(['rollback', runId, '--state-dir', state, '--json']);
    expect(rb.stderr, rb.stderr).toBe('');
    expect(jsonEvents(rb.stdout).at(-1)).toMatchObject({ command: 'rollback', exitCode: 0, failed: [] });
    expect(await checksums(confFiles())).toEqual(before);
    for (const n of lab.nodes) {
      expect(sql(n, 'SELECT 1')).toBe('1');
      expect(sql(n, 'SHOW ssl')).toBe('off');
    }
    expect(startTimes()).toEqual(started);
    expect(await streamingStandbys(lab)).toBe('2');
    // Rolled back: nothing to resume.
    const r = await runCli(['resume', runId, '--yes', '--state-dir', state, '--json']);
    expect(r.code).toBe(2);
    expect(jsonEvents(r.stdout).at(-1)).toMatchObject({ exitCode: 2, error: { code: 'resume.rolled-back' } });
  });

  it('refuses (exit 2, nothing changed) a finished run, a rolled-back run, an unknown id, and a run whose lock a live process holds', async () => {
    const inv = await inventory();
    const resume = async (runId: string, code: string): Promise<void> => {
      const before = await checksums(confFiles());
      const r = await runCli(resumeArgs(runId, '--json'));
      expect(r.code, r.stderr).toBe(2);
      expect(jsonEvents(r.stdout).at(-1)).toMatchObject({ command: 'resume', exitCode: 2, error: { code } });
      expect(await checksums(confFiles())).toEqual(before);
    };
    await resume('20260101T000000Z-abcdef', 'run.unknown');

    // An unfinished run while another process (alive, this host) holds the cluster's lock.
    const runId = await applyKilledMidPhase2(inv);
    const lock = lockPath(state, 'lab-streaming');
    await mkdir(join(state, 'locks'), { recursive: true });
    const holder = { pid: process.pid, runId: '20260101T000000Z-000000', host: hostname(), since: '' };
    await writeFile(lock, JSON.stringify(holder));
    await resume(runId, 'run.locked');

    await writeFile(lock, JSON.stringify({ ...holder, pid: 2 ** 22 + 1 })); // a pid that is gone: stale
    const resumed = await runCli(resumeArgs(runId));
    expect(resumed.code, resumed.stderr).toBe(0);
    await resume(runId, 'resume.finished');

    expect((await runCli(['rollback', runId, '--state-dir', state])).code).toBe(0);
    await resume(runId, 'resume.rolled-back');
  });
});
