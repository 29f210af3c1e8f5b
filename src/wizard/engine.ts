// The wizard's engine adapter: the same engine functions the headless commands call (loadInventory,
// preflightAll, planFromPreflight, applyPlanned, runVerify, runAudit, issueToDir), holding what must
// not go into view state — sessions, the prepared run, passwords. Loaded with import() after the
// first frame: it pulls in ssh2, pg, @peculiar/x509 and zod.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { auditNode, sortFindings } from '../core/audit.js';
import { preflightAll, runAudit } from '../core/audit-run.js';
import { toPghardenError, UsageError, type ExitCode } from '../core/errors.js';
import { EventBus } from '../core/events.js';
import type { NodeOutcome } from '../core/facts.js';
import { certRoles } from '../core/harden.js';
import { applyPlanned, closeSessions, planFromPreflight, type PlannedRun } from '../core/harden-flow.js';
import { loadInventory } from '../core/inventory.js';
import {
  assertSameSchedule,
  listInterruptedRuns,
  remainingPlan,
  type ResumeState,
} from '../core/engine/resume.js';
import { resumeSetup, rollbackById, runResumed } from '../core/resume-flow.js';
import { planRotation, restorePki } from '../core/rotate.js';
import { assertRunUnlocked } from '../core/run-lock.js';
import { runDir } from '../core/journal.js';
import { writeRunOutputs } from '../core/run-outputs.js';
import { scrubSecrets } from '../core/redact.js';
import type { Inventory } from '../core/inventory-schema.js';
import { defaultSshConfig, expandHome, inventoryPkiDir, stateDir } from '../core/paths.js';
import { issueToDir, planLeaves, type FileStatus } from '../pki/index.js';
import { listSshConfigHosts } from '../remote/ssh-config.js';
import type { RemoteSession } from '../remote/types.js';
import type { AuthMode } from '../steps/context.js';
import type { VerifyRow } from '../verify/evaluate.js';
import { runVerify } from '../verify/run.js';
import { buildInventory, writeInventoryFile } from '../cli/init.js';
import { envSecretValues } from '../cli/secrets.js';
import { reviewPkiDir } from './cert-review.js';
import { promptedSecrets, unlockCa } from './engine-secrets.js';
import type { CertSource, EngineHooks, WizardEngine } from './port.js';
import { preflightDetail } from './preflight-view.js';
import type { InventoryView } from './state.js';
import { authMode, rotationViewOf, saveReplay, viewOf } from './engine-flows.js';

const notYet = (what: string): UsageError =>
  new UsageError('wizard.order', `${what} first`, 'go back (Esc) to that screen');

export function createEngine(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): WizardEngine {
  let loaded: { path: string; inventory: Inventory } | undefined;
  let outcomes: NodeOutcome[] = [];
  let sessions = new Map<string, RemoteSession>();
  /** Opened to roll back a node whose connection dropped mid-apply; closed with the others. */
  let reconnected: RemoteSession[] = [];
  let certs: { source: CertSource; dir: string } | undefined;
  let planned: PlannedRun | undefined;
  /** The run apply began (its journal may exist even when it failed), for its report. */
  let started: { run: PlannedRun; pkiDir: string } | undefined;
  /** Set by prepareResume: apply() continues this interrupted run instead of starting one. */
  let resuming: ResumeState | undefined;
  /** What the last verify saw, secrets scrubbed: the report lists it. */
  let verified: { exitCode: ExitCode; rows: VerifyRow[] } | undefined;
  /** A planned rotation: the PKI snapshot to restore unless apply ran it (apply restores on failure). */
  let rotation: { pkiDir: string; snapshot: string; applied: boolean } | undefined;
  const discardRotation = async (): Promise<void> => {
    const r = rotation;
    rotation = undefined;
    if (r !== undefined && !r.applied) await restorePki(r.pkiDir, r.snapshot);
  };

  const inventory = (): Inventory => {
    if (loaded === undefined) throw notYet('load an inventory');
    return loaded.inventory;
  };
  /** Values seen by verify come from the nodes: scrub every secret of the run out of them. */
  const secrets = (): string[] => [...envSecretValues(env), ...(planned?.run.secrets ?? [])];
  const busFor = (hooks: EngineHooks): EventBus => {
    const bus = new EventBus();
    bus.subscribe((e) =>
      hooks.emit(e.type === 'verify:row' ? { ...e, value: scrubSecrets(e.value, secrets()) } : e),
    );
    return bus;
  };
  /**
   * SSH secrets typed in this wizard session (memory only; emptied when preflight starts again, so a
   * wrong one can be corrected by going back) and the CA key's passphrase between choosing
   * certificates and planning (dropped once the plan is made).
   */
  const sshSecrets = new Map<string, Promise<string | undefined>>();
  let caPassphrase: string | undefined;
  const connectOptions = (hooks: EngineHooks) => ({
    hostKeys: hooks.askHostKey,
    secrets: promptedSecrets(env, hooks.askSecret, sshSecrets),
  });
  const close = async (): Promise<void> => {
    const open = [...sessions.values(), ...reconnected];
    sessions = new Map();
    reconnected = [];
    await closeSessions(open);
  };

  return {
    async findInventories() {
      const names = await readdir(cwd).catch(() => [] as string[]);
      const found: string[] = [];
      for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
        const head = await readFile(join(cwd, name), 'utf8').then(
          (t) => t.slice(0, 4096),
          () => '',
        );
        if (/^cluster:/m.test(head) && /^nodes:/m.test(head)) found.push(name);
      }
      return found;
    },

    async interruptedRuns() {
      const runs = await listInterruptedRuns(stateDir(env));
      return runs.map((r) => ({
        runId: r.runId,
        inventory: r.meta.inventory,
        nodes: r.order,
        interrupted: Object.values(r.nodes).reduce((n, x) => n + x.interrupted.length, 0),
      }));
    },

    // ── Interrupted runs (resume / roll back from the welcome screen), answers saved for a replay ──
    async prepareResume(runId, hooks, signal) {
      await close();
      planned = undefined;
      resuming = undefined;
      const dir = stateDir(env);
      // Unknown, finished and rolled-back runs are refused here, before any connection.
      const setup = await resumeSetup(dir, runId);
      loaded = await loadInventory(setup.inventory);
      const inv = loaded.inventory;
      // Another live run on this cluster: say so now, not after connecting and planning.
      await assertRunUnlocked(dir, inv.cluster);
      const auth = authMode(setup.auth ?? inv.auth, runId);
      const pki =
        setup.certs === 'import' ? (setup.pkiDir ?? '') : (setup.pkiDir ?? inventoryPkiDir(inv, env));
      certs = {
        source: setup.certs === 'import' ? { kind: 'import', dir: pki } : { kind: 'generate' },
        dir: pki,
      };
      const r = await preflightAll(inv, busFor(hooks), connectOptions(hooks), signal);
      outcomes = r.outcomes;
      sessions = r.sessions;
      const p = await planFromPreflight(
        { inventory: inv, auth, certs: setup.certs, pkiDir: pki },
        outcomes,
        sessions,
        { env, prompt: hooks.askPassword, generatedBefore: setup.generatedBefore },
        signal,
        runId,
      );
      // A failover or a node added since: refused (roll it back instead), as `pgharden resume` does.
      assertSameSchedule(setup.state, p.run.phases);
      planned = p;
      resuming = setup.state;
      return { view: viewOf(loaded), auth, certsDir: pki, plan: remainingPlan(p.plan, setup.state) };
    },

    async rollback(runId, hooks) {
      await close();
      planned = undefined;
      resuming = undefined;
      const r = await rollbackById({
        stateDir: stateDir(env),
        runId,
        bus: busFor(hooks),
        connectOptions: connectOptions(hooks),
      });
      return { nodes: r.nodes, failed: r.failed };
    },

    suggestSaveDir() {
      const stamp = new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
      return Promise.resolve(
        join(stateDir(env), 'saved', `${loaded?.inventory.cluster ?? 'cluster'}-${stamp}`),
      );
    },

    async saveAnswers(dir) {
      if (planned === undefined || loaded === undefined || certs === undefined) {
        throw notYet('review the plan');
      }
      return saveReplay(expandHome(dir, cwd), loaded.inventory, planned, certs, secrets());
    },

    async loadInventory(path) {
      await close();
      resuming = undefined;
      loaded = await loadInventory(path);
      const inv = loaded.inventory;
      const view: InventoryView = {
        path: loaded.path,
        cluster: inv.cluster,
        topology: inv.topology,
        network: inv.network,
        nodes: inv.nodes.map((n) => ({ name: n.name, host: n.host, role: n.role })),
        roles: inv.roles?.map((r) => ({ name: r.name, kind: r.kind, auth: r.auth })),
      };
      return view;
    },

    async sshConfigHosts() {
      const path = defaultSshConfig(env);
      const text = await readFile(path, 'utf8').catch(() => {
        throw new UsageError('wizard.no-ssh-config', `cannot read ${path}`, 'load an inventory file instead');
      });
      return listSshConfigHosts(text);
    },

    async writeInventory(input) {
      const inv = buildInventory(
        { cluster: input.cluster, network: input.network, topology: 'streaming' },
        // host stays the alias so ~/.ssh/config (User, Port, IdentityFile, ProxyJump) applies.
        input.nodes.map((n) => ({
          name: n.name ?? n.alias.replace(/[^A-Za-z0-9._-]/g, '-'),
          host: n.host ?? n.alias,
          role: n.role,
        })),
      );
      // A pasted host:port is the node's SSH port (nodes[].ssh.port).
      inv.nodes = inv.nodes.map((node, i) => {
        const port = input.nodes[i]?.sshPort;
        return port === undefined ? node : { ...node, ssh: { ...node.ssh, port } };
      });
      return writeInventoryFile(inv, expandHome(input.path, cwd), false);
    },

    async preflight(hooks, signal) {
      await close();
      planned = undefined;
      sshSecrets.clear();
      const inv = inventory();
      const r = await preflightAll(inv, busFor(hooks), connectOptions(hooks), signal);
      outcomes = r.outcomes;
      sessions = r.sessions;
      return {
        details: outcomes.flatMap((o) => preflightDetail(o) ?? []),
        findings: sortFindings(outcomes.flatMap((o) => auditNode(o, inv))),
      };
    },

    async certificates(auth: AuthMode, source: CertSource, hooks?: EngineHooks) {
      const inv = inventory();
      planned = undefined;
      caPassphrase = undefined;
      const statuses = new Map<string, FileStatus>();
      let dir: string;
      if (source.kind === 'generate') {
        dir = inventoryPkiDir(inv, env);
        const passphrase = await unlockCa(dir, hooks?.askSecret);
        const issued = await issueToDir({
          dir,
          cluster: inv.cluster,
          leaves: planLeaves(inv, certRoles({ inventory: inv, auth })),
          ...(passphrase === undefined ? {} : { caPassphrase: passphrase }),
        });
        for (const f of issued.files) statuses.set(f.file, f.status);
        caPassphrase = passphrase; // planning issues (keeps) them again
      } else {
        dir = expandHome(source.dir, cwd);
      }
      certs = { source, dir };
      return { dir, items: await reviewPkiDir(dir, inv, auth, statuses, hooks?.askSecret) };
    },

    async plan(auth, hooks, signal) {
      resuming = undefined;
      if (certs === undefined) throw notYet('choose certificates');
      if (sessions.size === 0) throw notYet('run preflight');
      const generate = certs.source.kind === 'generate';
      const passphrase = generate
        ? (caPassphrase ?? (await unlockCa(certs.dir, hooks.askSecret)))
        : undefined;
      caPassphrase = undefined;
      planned = await planFromPreflight(
        {
          inventory: inventory(),
          auth,
          certs: certs.source.kind,
          pkiDir: certs.dir,
          ...(passphrase === undefined ? {} : { caPassphrase: passphrase }),
        },
        outcomes,
        sessions,
        { env, prompt: hooks.askPassword },
        signal,
      );
      return planned.plan;
    },

    async apply(hooks, signal) {
      if (planned === undefined || loaded === undefined) throw notYet('review and confirm the plan');
      if (certs === undefined) throw notYet('choose certificates');
      started = { run: planned, pkiDir: certs.dir };
      verified = undefined;
      // What every run of this wizard session needs, whichever kind it is.
      const frame = {
        ...planned,
        inventory: loaded.inventory,
        stateDir: stateDir(env),
        connectOptions: connectOptions(hooks),
        onReconnected: (x: RemoteSession) => reconnected.push(x),
        bus: busFor(hooks),
        signal,
      };
      if (resuming !== undefined) {
        const r = await runResumed(frame, resuming);
        return { runId: r.result.runId, journal: r.journalPath };
      }
      const r = rotation;
      if (r !== undefined) r.applied = true;
      try {
        const { result, journalPath } = await applyPlanned({
          ...frame,
          inventoryPath: loaded.path,
          ...(r === undefined
            ? { certs: certs.source.kind, pkiDir: certs.dir }
            : { certs: 'import' as const, pkiDir: r.pkiDir, job: 'rotate' as const, archive: r.snapshot }),
        });
        return { runId: result.runId, journal: journalPath };
      } catch (err) {
        // A rotation rolled back (or never started): the nodes serve the old pairs, so the PKI
        // directory must say so too — as `pgharden rotate` does. A failed rollback leaves it for
        // `rollback RUN_ID`.
        if (r !== undefined && toPghardenError(err).code !== 'rollback.failed') {
          await restorePki(r.pkiDir, r.snapshot);
        }
        throw err;
      } finally {
        rotation = undefined;
      }
    },

    async verify(hooks, signal): Promise<ExitCode> {
      const passwords = planned?.run.contexts.values().next().value?.passwords;
      const r = await runVerify(inventory(), busFor(hooks), {
        connect: connectOptions(hooks),
        env,
        secrets: passwords === undefined ? undefined : new Map(passwords),
        signal,
      });
      verified = {
        exitCode: r.exitCode,
        rows: r.rows.map((row) => ({ ...row, value: scrubSecrets(row.value, secrets()) })),
      };
      return r.exitCode;
    },

    async runOutputs(exitCode) {
      if (started === undefined || loaded === undefined) return undefined;
      const { run, pkiDir } = started;
      const dir = stateDir(env);
      // No journal: the run stopped before it began (the run lock was held, say); nothing to report.
      if (!existsSync(join(runDir(dir, run.runId), 'journal.jsonl'))) return undefined;
      return writeRunOutputs({
        stateDir: dir,
        runId: run.runId,
        command: 'wizard',
        exitCode,
        plan: run.plan,
        inventory: loaded.inventory,
        inventoryPath: loaded.path,
        pkiDir,
        secrets: secrets(),
        verify: verified,
      });
    },

    async audit(hooks, signal) {
      await close();
      const r = await runAudit(inventory(), busFor(hooks), connectOptions(hooks), signal);
      return { findings: r.findings, exitCode: r.exitCode };
    },

    setRoleAuth(choices) {
      const inv = inventory();
      inv.roles = inv.roles?.map((r) => {
        const choice = choices[r.name];
        if (choice === undefined) return r;
        const { auth: _old, ...rest } = r;
        return choice === 'cluster' ? rest : { ...rest, auth: choice };
      });
    },

    async close() {
      caPassphrase = undefined;
      await discardRotation();
      await close();
    },

    rotationView() {
      const inv = inventory();
      if (outcomes.length === 0) throw notYet('run preflight');
      return rotationViewOf(inv, outcomes, inventoryPkiDir(inv, env));
    },

    async planRotation(choice, hooks, signal) {
      await discardRotation();
      resuming = undefined;
      if (sessions.size === 0) throw notYet('run preflight');
      const inv = inventory();
      const pkiDir = inventoryPkiDir(inv, env);
      const passphrase = await unlockCa(pkiDir, hooks.askSecret);
      const p = await planRotation(
        {
          inventory: inv,
          pkiDir,
          mode: choice,
          ...(passphrase === undefined ? {} : { caPassphrase: passphrase }),
        },
        outcomes,
        sessions,
        signal,
      );
      planned = p;
      certs = { source: { kind: 'import', dir: pkiDir }, dir: pkiDir };
      rotation = { pkiDir, snapshot: p.snapshot, applied: false };
      return p.plan;
    },

    discardRotation,
  };
}
