// The wizard in a real terminal (issue #6): the bundled bin in an 80×24 tmux pane, driven by
// keystrokes through the whole first-time hardening of the insecure streaming lab, then checked
// headless with `pgharden verify`; and Ctrl-C during apply: confirm, roll back, exit 130, terminal
// restored, cluster as before. Each test starts from a fresh insecure lab and the file leaves one.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/core/journal.js';
import type { RunReport } from '../../src/core/report.js';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { checksums, jsonEvents, runCli } from './rig.js';
import { confFiles, labInventory, primaryOf, sql, streamingStandbys } from './lab-sql.js';
import { snapshot } from './lab-snapshot.js';
import type { Terminal } from './tmux.js';
import {
  confirmApply,
  ending,
  expectCleanScreens,
  expectOneFrame,
  expectTerminalRestored,
  loadInventory,
  preflightToPlan,
  WizardRig,
} from './wizard-rig.js';

let lab: Lab;
let rig: WizardRig;
let work: string;

beforeEach(async () => {
  lab = await up('streaming');
  rig = await WizardRig.create(lab);
  work = rig.work;
}, 120_000);

afterEach(() => {
  rig.killAll();
});

// The other e2e files expect the deliberately insecure lab.
afterAll(async () => {
  await up('streaming');
}, 120_000);

/** Welcome → inventory (typed path) → preflight → auth scram → generate certificates → plan → a, y. */
async function driveToApply(t: Terminal, inventory: string): Promise<void> {
  await loadInventory(t, inventory);
  const plan = await preflightToPlan(t, 'scram');
  // The inventory names the lab's known_hosts (preflightToPlan refuses a first-use prompt): every
  // node was reached.
  const preflight = t.screens.find((s) => s.includes('Preflight of lab-streaming: done')) ?? '';
  for (const n of lab.nodes)
    expect(preflight).toMatch(new RegExp(`✓ ${n.name} ${n.host.replace(/\./g, '\\.')}`));
  expect(plan).toMatch(/Plan for lab-streaming \(auth scram\): \d+ step\(s\), \d+ reload\(s\), 0 restarts/);
  await confirmApply(t, lab.nodes.length);
}

/** The wizard's state dir: $HOME/.local/state/pgharden (HOME is the test's). */
const stateDir = (): string => rig.stateDir;

/** psql from the operator machine with a connection string of the bundle; the password by env. */
function psqlAs(conninfo: string, password: string, query: string): string {
  return execFileSync('psql', ['-XAtw', '-c', query, conninfo], {
    env: { PATH: process.env['PATH'] ?? '', PGPASSWORD: password },
    encoding: 'utf8',
  }).trim();
}

const started = (): Record<string, string> =>
  Object.fromEntries(lab.nodes.map((n) => [n.name, sql(n, 'SELECT pg_postmaster_start_time()')]));
const primary = (): LabNode => primaryOf(lab);
const sslStreaming = (): string =>
  sql(
    primary(),
    "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl AND r.state = 'streaming'",
  );

describe('the wizard in a real terminal (tmux, 80×24)', () => {
  it('first-time hardening by keystrokes: scram, generated certificates, applied, verified; headless verify agrees', async () => {
    const inv = await labInventory(lab, work, 'wizard', join(work, 'pki'));
    const before = started();
    const t = rig.start();
    await driveToApply(t, inv);
    const done = await t.waitFor('Enter: exit (', { ms: 120_000 });
    expectOneFrame(done);
    expect(done).toContain('8/8 Done');
    expect(done).toContain('✓ First-time hardening: done');
    expect(done).toMatch(/verify +\d+ passed, 0 failed/);
    expect(done).toContain('Enter: exit (0)');
    // The run's report and client bundle, in its directory under the state dir.
    const final = await t.waitFor(/client bundle/);
    const [runId = ''] = await readdir(join(stateDir(), 'runs'));
    const dir = join(stateDir(), 'runs', runId);
    expect(final.replace(/\n\s*/g, '')).toContain(join(dir, 'report.md'));
    expect(final.replace(/\n\s*/g, '')).toContain(join(dir, 'client-bundle'));
    t.keys('Enter');
    const end = await ending(t);
    expect(end.code).toBe(0);
    // Raw mode is off again: line editing and echo are back.
    expectTerminalRestored(end.stty);
    expectCleanScreens(t, lab);

    const app = lab.passwords['app'] ?? '';
    const verify = await runCli(['verify', '-i', inv, '--json'], { PGHARDEN_PASSWORD_APP: app });
    const failed = jsonEvents(verify.stdout).filter((e) => e.type === 'verify:row' && e['ok'] !== true);
    expect(failed).toEqual([]);
    expect(verify.code).toBe(0);
    expect(started()).toEqual(before); // reload only, no restart
    expect(sslStreaming()).toBe('2');
    for (const s of lab.nodes.filter((n) => n.role === 'standby')) {
      expect(sql(s, 'SELECT conninfo FROM pg_stat_wal_receiver')).toMatch(/sslmode=verify-full/);
    }

    const bundle = join(dir, 'client-bundle');
    expect((await stat(bundle)).mode & 0o777).toBe(0o700);
    expect((await readdir(bundle)).sort()).toEqual(['connections.txt', 'root.crt']); // scram: no client keys
    // Every string of the bundle connects as is (verify-full), the password given the usual way.
    const lines = (await readFile(join(bundle, 'connections.txt'), 'utf8'))
      .split('\n')
      .filter((l) => /^pg\d/.test(l));
    expect(lines).toHaveLength(lab.nodes.length);
    for (const line of lines) {
      const conninfo = line.slice(line.indexOf(': ') + 2);
      expect(psqlAs(conninfo, app, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toBe('t');
    }
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(report).toMatchObject({ runId, outcome: 'applied', exitCode: 0, command: 'wizard' });
    expect(report.verification).toMatchObject({ exitCode: 0, failed: 0 });
    expect(report.nodes.flatMap((n) => n.steps).filter((st) => st.status === 'failed')).toEqual([]);
    expect(report.files.length).toBeGreaterThan(0);
    for (const f of report.files) expect(f.backup).toContain(`.pgharden-${runId}`);
    for (const name of ['report.json', 'report.md']) {
      const text = await readFile(join(dir, name), 'utf8');
      for (const p of Object.values(lab.passwords)) expect(text).not.toContain(p);
      expect(text).not.toMatch(/PRIVATE KEY/);
    }
  });

  it('Ctrl-C during apply: asks, rolls back, exits 130, terminal restored, cluster byte for byte as before', async () => {
    const inv = await labInventory(lab, work, 'wizard', join(work, 'pki'));
    const files = confFiles(lab);
    const beforeSums = await checksums(files);
    const beforeSnap = await snapshot(lab);
    // The run stops (test-only pause) before pg1's second step: the first one is done by then, so
    // Ctrl-C lands mid-run whatever the machine's speed.
    const t = rig.start({ PGHARDEN_TEST_PAUSE_AT: `${primary().name}:tls.install-server-cert` });
    await driveToApply(t, inv);
    await t.waitFor(new RegExp(`✓ ${primary().name} tls\\.install-ca`), { ms: 60_000 });
    t.keys('C-c');
    await t.waitFor('Stop after the current step and roll back?');
    t.keys('y');
    const end = await ending(t);
    expect(end.code).toBe(130);
    expectTerminalRestored(end.stty);
    expect(end.text).toMatch(/↺ pg1 tls\.install-ca/);
    expectCleanScreens(t, lab);

    expect(await checksums(files)).toEqual(beforeSums);
    expect(await snapshot(lab)).toEqual(beforeSnap);
    for (const n of lab.nodes) expect(sql(n, 'SELECT 1')).toBe('1');
    expect(await streamingStandbys(lab)).toBe('2');
    // The run's journal says it was rolled back: nothing is left to resume.
    const runs = await readdir(join(stateDir(), 'runs'));
    expect(runs).toHaveLength(1);
    const run = await readJournal(stateDir(), runs[0] ?? '');
    expect(run).toMatchObject({ finished: false, rolledBack: true });
  });
});
