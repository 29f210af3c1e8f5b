// The wizard's other flows in a real terminal (issue #6), each on a fresh insecure streaming lab:
// an apply killed mid-run then resumed from the welcome screen; the plan saved for a headless replay
// (applied by `apply --plan`, and refused once a node changed); cert auth with an empty known_hosts
// (first-use prompt → accept and save); and the host-key prompt's abort. The file leaves the lab
// fresh and insecure for the next one.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changedSince, type PlanDocument } from '../../src/core/harden.js';
import { inventorySchema } from '../../src/core/inventory-schema.js';
import { readJournal, type JournalRecord } from '../../src/core/journal.js';
import { lockPath, type LockHolder } from '../../src/core/run-lock.js';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { checksums, jsonEvents, runCli } from './rig.js';
import { confFiles, labInventory, primaryOf, sql, streamingStandbys } from './lab-sql.js';
import { snapshot } from './lab-snapshot.js';
import {
  confirmApply,
  ending,
  expectCleanScreens,
  expectOneFrame,
  expectTerminalRestored,
  loadInventory,
  passwordEnvName,
  preflightToPlan,
  squeezed,
  unwrapped,
  WizardRig,
} from './wizard-rig.js';
import type { Terminal } from './tmux.js';

let lab: Lab;
let rig: WizardRig;

beforeEach(async () => {
  lab = await up('streaming');
  rig = await WizardRig.create(lab);
}, 120_000);

afterEach(() => rig.killAll());

// The other e2e files expect the deliberately insecure lab.
afterAll(async () => {
  await up('streaming');
}, 120_000);

const primary = (): LabNode => primaryOf(lab);
const inventory = (name = 'wizard'): Promise<string> =>
  labInventory(lab, rig.work, name, join(rig.work, 'pki'));

async function verifyExit(inv: string): Promise<number> {
  const r = await runCli(['verify', '-i', inv, '--json'], {
    PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '',
  });
  expect(jsonEvents(r.stdout).filter((e) => e.type === 'verify:row' && e['ok'] !== true)).toEqual([]);
  return r.code;
}

async function journal(runId: string): Promise<JournalRecord[]> {
  return (await readJournal(rig.stateDir, runId)).records;
}

/** Polls until `ok` holds (the journal is written by the process under test). */
async function until(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An inventory whose known_hosts is an empty file of the test's: every node's key is unknown. */
async function inventoryWithEmptyKnownHosts(): Promise<{ inv: string; knownHosts: string }> {
  const inv = await inventory('fresh-hosts');
  const knownHosts = join(rig.work, 'known_hosts');
  await writeFile(knownHosts, '', { mode: 0o600 });
  const doc = parse(await readFile(inv, 'utf8')) as { ssh: Record<string, unknown> };
  doc.ssh['knownHosts'] = knownHosts;
  await writeFile(inv, stringify(doc));
  return { inv, knownHosts };
}

/** `host keytype base64` of the lab's known_hosts, and the SHA256 fingerprint ssh-keygen gives each. */
function labHostKeys(): { host: string; blob: string; fingerprint: string }[] {
  const listed = execFileSync('ssh-keygen', ['-lf', lab.knownHostsPath], { encoding: 'utf8' });
  return execFileSync('cat', [lab.knownHostsPath], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [host = '', , blob = ''] = l.split(/\s+/);
      const fingerprint = /SHA256:\S+/.exec(
        listed.split('\n').find((x) => x.includes(` ${host} `)) ?? '',
      )?.[0];
      return { host, blob, fingerprint: fingerprint ?? '' };
    });
}

/**
 * A wizard apply SIGKILLed while it waits at a test-only pause point before pg1's second step: a run
 * that is neither done nor rolled back, pg1's first step done, nothing in flight. Its run id.
 */
async function wizardApplyKilled(inv: string): Promise<string> {
  const pauseAt = `${primary().name}:tls.install-server-cert`;
  const first = rig.start({ PGHARDEN_TEST_PAUSE_AT: pauseAt });
  await loadInventory(first, inv);
  await preflightToPlan(first);
  await confirmApply(first, lab.nodes.length);
  await first.waitFor(new RegExp(`✓ ${primary().name} tls\\.install-ca`), { ms: 60_000 });
  const [runId = ''] = await readdir(join(rig.stateDir, 'runs'));
  await until('the pause point', async () =>
    (await journal(runId)).some(
      (r) => r.type === 'step:begin' && r.node === primary().name && r.step === 'tls.install-server-cert',
    ),
  );
  // The other nodes finish their part of the phase; then nothing is in flight.
  let size = -1;
  await until('a quiet journal', async () => {
    await new Promise((r) => setTimeout(r, 500));
    const now = (await journal(runId)).length;
    const quiet = now === size;
    size = now;
    return quiet;
  });
  const holder = JSON.parse(await readFile(lockPath(rig.stateDir, 'lab-streaming'), 'utf8')) as LockHolder;
  expect(holder.runId).toBe(runId);
  process.kill(holder.pid, 'SIGKILL');
  expect((await ending(first)).code).toBe(137);
  expect((await readJournal(rig.stateDir, runId)).finished).toBe(false);
  return runId;
}

/** Welcome → ↓ past the four jobs to the interrupted run → Enter: its choices. */
async function chooseInterruptedRun(t: Terminal, runId: string): Promise<void> {
  const welcome = await t.waitFor(`! Interrupted run ${runId}`);
  expect(welcome).toMatch(/· 1 step\(s\) cut off/);
  t.keys('Down', 'Down', 'Down', 'Down');
  await t.waitFor(`❯ ! Interrupted run ${runId}`);
  t.keys('Enter');
  await t.waitFor('❯ Resume it');
}

describe('the wizard in a real terminal: resume, saved answers, host keys, cert', () => {
  it('an apply killed mid-run is resumed from the welcome screen: rest of the run planned, applied, verified; verify exit 0', async () => {
    const inv = await inventory();
    const before = await checksums(confFiles(lab));
    const runId = await wizardApplyKilled(inv);
    expect(await checksums(confFiles(lab))).not.toEqual(before);

    const t = rig.start();
    await chooseInterruptedRun(t, runId);
    t.keys('Enter');
    const plan = await t.waitFor('a: apply…', { ms: 60_000 });
    expectOneFrame(plan);
    expect(plan).toContain(`Rest of run ${runId}: cut-off steps are undone first`);
    expect(plan).toMatch(new RegExp(`${primary().name} +✓ tls\\.install-ca already done`));
    await confirmApply(t, lab.nodes.length);
    const done = await t.waitFor('Enter: exit (', { ms: 120_000 });
    expectOneFrame(done);
    expect(done).toContain(`✓ Resume of run ${runId}: done`);
    expect(done).toMatch(/verify +\d+ passed, 0 failed/);
    t.keys('Enter');
    const end = await ending(t);
    expect(end.code).toBe(0);
    expectTerminalRestored(end.stty);
    expectCleanScreens(t, lab);
    // The interrupted step was undone before it ran again, under the same run id and journal.
    expect(end.text).toMatch(new RegExp(`↺ ${primary().name} tls\\.install-server-cert undone`));

    const records = await journal(runId);
    expect(records.filter((r) => r.type === 'run:begin')).toHaveLength(1);
    expect(records.filter((r) => r.type === 'run:resumed')).toHaveLength(1);
    expect(records.at(-1)?.type).toBe('run:done');
    expect(await readdir(join(rig.stateDir, 'runs'))).toEqual([runId]);
    expect(await verifyExit(inv)).toBe(0);
    expect(await streamingStandbys(lab)).toBe('2');
  });

  it('the killed run rolled back from the welcome screen: asks, undoes live, Done; every file byte for byte as before', async () => {
    const inv = await inventory();
    const beforeSums = await checksums(confFiles(lab));
    const runId = await wizardApplyKilled(inv);
    const t = rig.start();
    await chooseInterruptedRun(t, runId);
    t.keys('Down');
    await t.waitFor('❯ Roll it back');
    t.keys('Enter');
    await t.waitFor(`Roll back run ${runId} on`);
    t.keys('y');
    const done = await t.waitFor('Enter: exit (', { ms: 120_000 });
    expectOneFrame(done);
    expect(done).toContain(`✓ Roll back of run ${runId}: rolled back`);
    t.keys('Enter');
    const end = await ending(t);
    expect(end.code).toBe(0);
    expectTerminalRestored(end.stty);
    expectCleanScreens(t, lab);
    expect(end.text).toMatch(new RegExp(`↺ ${primary().name} tls\\.install-ca undone`));
    expect(await checksums(confFiles(lab))).toEqual(beforeSums);
    for (const n of lab.nodes) expect(sql(n, 'SELECT 1')).toBe('1');
    expect(await streamingStandbys(lab)).toBe('2');
    expect(await readJournal(rig.stateDir, runId)).toMatchObject({ finished: false, rolledBack: true });
  });

  it('s on the plan saves inventory + plan.json (0700/0600, no secret); a changed node is refused; the pair replays headless; verify exit 0', async () => {
    const inv = await inventory();
    const t = rig.start();
    await loadInventory(t, inv);
    await preflightToPlan(t);
    t.keys('s');
    const asking = await t.waitFor('Save inventory.yaml and plan.json for a headless replay into');
    // The field shows the end of the suggested path (a long one is cut at its start).
    expect(asking).toMatch(/pgharden\/saved\/lab-streaming-\d{8}T\d{6}Z/);
    t.keys('Enter');
    const saved = unwrapped(await t.waitFor('Enter: back to the plan'));
    const [name = ''] = await readdir(join(rig.stateDir, 'saved'));
    const dir = join(rig.stateDir, 'saved', name);
    const invPath = join(dir, 'inventory.yaml');
    const planPath = join(dir, 'plan.json');
    expect(squeezed(saved)).toContain(squeezed(`Saved to ${dir} (0700)`));
    const command = `pgharden apply -i ${invPath} --plan ${planPath} --yes`;
    expect(squeezed(saved)).toContain(squeezed(command));
    const needs = /Passwords it needs: (.*?) in the environment/.exec(saved)?.[1]?.split(', ') ?? [];
    expect(needs).toContain(passwordEnvName('app'));
    t.keys('Enter');
    await t.waitFor('a: apply…');
    t.keys('C-c');
    await t.waitFor('Quit pgharden? Nothing has been changed.');
    t.keys('y');
    const end = await ending(t);
    expect(end.code).toBe(130);
    expectTerminalRestored(end.stty);
    expectCleanScreens(t, lab);

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await readdir(dir)).sort()).toEqual(['inventory.yaml', 'plan.json']);
    for (const f of [invPath, planPath]) {
      expect((await stat(f)).mode & 0o777).toBe(0o600);
      const text = await readFile(f, 'utf8');
      for (const p of Object.values(lab.passwords)) expect(text).not.toContain(p);
      expect(text).not.toMatch(/PRIVATE KEY/);
    }
    // Inventory keys only (the schema is strict), with the wizard's answer for auth.
    const savedInv = inventorySchema.parse(parse(await readFile(invPath, 'utf8')));
    expect(savedInv.auth).toBe('scram');
    expect(savedInv.nodes.map((n) => n.name)).toEqual(lab.nodes.map((n) => n.name));
    // Byte for byte the format of `pgharden plan -o`: the headless plan of the same answers matches.
    const planText = await readFile(planPath, 'utf8');
    const plan = JSON.parse(planText) as PlanDocument;
    expect(planText).toBe(`${JSON.stringify(plan, null, 2)}\n`);
    const headless = join(rig.work, 'headless-plan.json');
    const env = Object.fromEntries(needs.map((k) => [k, rig.env()[k] ?? '']));
    const p = await runCli(['plan', '-i', invPath, '-o', headless, '--json'], env);
    expect(p.code, p.stderr).toBe(0);
    const headlessPlan = JSON.parse(await readFile(headless, 'utf8')) as PlanDocument;
    expect(Object.keys(headlessPlan)).toEqual(Object.keys(plan));
    expect(changedSince(plan, headlessPlan)).toEqual([]);

    const state = join(rig.work, 'headless-state');
    const replay = ['apply', '-i', invPath, '--plan', planPath, '--yes', '--state-dir', state, '--json'];
    // A node changed since the plan was saved: refused by the checksum check, nothing applied.
    const hba = join(lab.nodes[1]!.dataDir, 'pg_hba.conf');
    const original = await readFile(hba);
    await writeFile(hba, `${original.toString()}# changed by hand after the plan was saved\n`);
    const stale = await runCli(replay, env);
    expect(stale.code).toBe(2);
    expect(jsonEvents(stale.stdout).at(-1)).toMatchObject({ error: { code: 'apply.plan-stale' } });
    expect(stale.stdout).toContain(`${lab.nodes[1]!.name}:${hba}`);
    // Put the node back as it was (file and loaded config): the saved plan holds again.
    await writeFile(hba, original);
    sql(lab.nodes[1]!, 'SELECT pg_reload_conf()');

    const r = await runCli(replay, env);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonEvents(r.stdout).at(-1)).toMatchObject({ type: 'summary', command: 'apply', exitCode: 0 });
    expect(await verifyExit(inv)).toBe(0);
  });

  it('cert auth from an empty known_hosts: each first-use prompt shows the lab key, accept and save writes it, the run goes on; verify exit 0', async () => {
    const { inv, knownHosts } = await inventoryWithEmptyKnownHosts();
    const keys = labHostKeys();
    expect(keys).toHaveLength(lab.nodes.length);
    const t = rig.start();
    await loadInventory(t, inv);
    const asked = new Set<string>();
    while (asked.size < lab.nodes.length) {
      const screen = await t.waitFor(
        /Unknown host key for (\S+) \(([\d.]+):\d+\)[\s\S]*❯ Accept for this run only/,
        {
          ms: 60_000,
        },
      );
      const [, node = '', host = ''] = /Unknown host key for (\S+) \(([\d.]+):\d+\)/.exec(screen) ?? [];
      expect(asked.has(node)).toBe(false);
      const key = keys.find((k) => k.host === host);
      expect(key?.fingerprint).toMatch(/^SHA256:/);
      expect(unwrapped(screen)).toContain(key!.fingerprint);
      t.keys('Down');
      await t.waitFor('❯ Accept and save to known_hosts');
      t.keys('Enter');
      asked.add(node);
      await t.waitFor((s: string) => !s.includes(`Unknown host key for ${node} `));
    }
    // Every node's key is in the operator's known_hosts now, exactly the lab's (written before its
    // connection goes on: once preflight is done, every answer was acted on).
    await t.waitFor(/Preflight of lab-streaming: done/, { ms: 60_000 });
    const saved = await readFile(knownHosts, 'utf8');
    for (const k of keys) {
      expect(saved).toMatch(
        new RegExp(
          `(^|\\n)\\[?${k.host.replace(/\./g, '\\.')}\\]?\\S* \\S+ ${k.blob.replace(/[+/]/g, '\\$&')}`,
        ),
      );
    }
    await preflightToPlan(t, 'cert');
    await confirmApply(t, lab.nodes.length);
    const done = await t.waitFor('Enter: exit (', { ms: 120_000 });
    expect(done).toContain('✓ First-time hardening: done');
    expect(done).toMatch(/verify +\d+ passed, 0 failed/);
    expect(done).not.toMatch(/Unknown host key/); // verify reconnects: the saved keys are known
    t.keys('Enter');
    const end = await ending(t);
    expect(end.code).toBe(0);
    expectTerminalRestored(end.stty);
    expectCleanScreens(t, lab);
    expect(await verifyExit(inv)).toBe(0);
    for (const s of lab.nodes.filter((n) => n.role === 'standby')) {
      expect(sql(s, 'SELECT conninfo FROM pg_stat_wal_receiver')).toMatch(/sslmode=verify-full/);
    }
  });

  it('abort at the host-key prompt: the node is refused with a clear message, nothing changed, known_hosts untouched; Ctrl-C exits 130', async () => {
    const { inv, knownHosts } = await inventoryWithEmptyKnownHosts();
    const beforeSums = await checksums(confFiles(lab));
    const beforeSnap = await snapshot(lab);
    const t = rig.start();
    await loadInventory(t, inv);
    const refused = new Set<string>();
    while (refused.size < lab.nodes.length) {
      const screen = await t.waitFor(/Unknown host key for (\S+) [\s\S]*❯ Accept for this run only/, {
        ms: 60_000,
      });
      const node = /Unknown host key for (\S+) /.exec(screen)?.[1] ?? '';
      t.keys('Down', 'Down');
      await t.waitFor('❯ Abort: do not connect to this node');
      t.keys('Enter');
      refused.add(node);
      await t.waitFor((s: string) => !s.includes(`Unknown host key for ${node} `));
    }
    // Preflight is over: every node refused, each named with why (the findings list them; the table
    // above may have scrolled off a 24-row screen).
    const found = unwrapped(await t.waitFor('Enter: choose authentication', { ms: 60_000 }));
    for (const n of lab.nodes) {
      expect(found).toContain(`${n.name}: aborted, host key not accepted: nothing was sent to ${n.host}:`);
    }
    t.keys('Enter');
    const blocked = unwrapped(await t.waitFor('cannot plan without every node'));
    expect(blocked).toContain('nothing was changed');
    t.keys('C-c');
    await t.waitFor('Quit pgharden? Nothing has been changed.');
    t.keys('y');
    const end = await ending(t);
    expect(end.code).toBe(130);
    expectTerminalRestored(end.stty);
    expect(await readFile(knownHosts, 'utf8')).toBe('');
    expect(await checksums(confFiles(lab))).toEqual(beforeSums);
    expect(await snapshot(lab)).toEqual(beforeSnap);
  });
});
