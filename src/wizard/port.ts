// What the wizard needs from the engine, as one interface: the controller is tested against a fake,
// and the real adapter (engine.ts, loaded after the first frame) calls the same functions as the
// headless commands.
import type { ExitCode } from '../core/errors.js';
import type { EngineEvent, Finding } from '../core/events.js';
import type { PlanDocument } from '../core/harden.js';
import type { HostKeyInfo, UnknownHostKeyDecision } from '../remote/types.js';
import type { AuthMode } from '../steps/context.js';
import type {
  SavedAnswers,
  BuildInventoryInput,
  RunFiles,
  CertView,
  InterruptedRunView,
  InventoryView,
  PreflightDetail,
  RoleAuthChoice,
  RotateChoice,
  RotationView,
  SecretRequest,
  SshHostView,
} from './state.js';

export interface EngineHooks {
  emit: (event: EngineEvent) => void;
  /** First-use host key: the operator answers (accept once / accept and save / abort). */
  askHostKey: (info: HostKeyInfo) => Promise<UnknownHostKeyDecision>;
  /** A role's current password (md5 → SCRAM); undefined when the operator gives none. */
  askPassword: (role: string) => Promise<string | undefined>;
  /** A passphrase or password (masked prompt); undefined when the operator gives none (Esc). */
  askSecret: (request: SecretRequest) => Promise<string | undefined>;
}

export type CertSource = { kind: 'generate' } | { kind: 'import'; dir: string };

export interface WizardEngine {
  /** Inventory files in the working directory, for the welcome screen. */
  findInventories(): Promise<string[]>;
  /** Runs in the state dir that `pgharden resume` would continue, newest first. */
  interruptedRuns(): Promise<InterruptedRunView[]>;
  loadInventory(path: string): Promise<InventoryView>;
  sshConfigHosts(): Promise<SshHostView[]>;
  /** Validates and writes a new inventory; returns its path. Refuses to overwrite. */
  writeInventory(input: BuildInventoryInput): Promise<string>;
  /** Connects to every node (sessions stay open for planning and applying). */
  preflight(
    hooks: EngineHooks,
    signal: AbortSignal,
  ): Promise<{ details: PreflightDetail[]; findings: Finding[] }>;
  /** `hooks`: asked for the passphrases of an encrypted CA key or imported keys. */
  certificates(
    auth: AuthMode,
    source: CertSource,
    hooks?: EngineHooks,
  ): Promise<{ dir: string; items: CertView[] }>;
  plan(auth: AuthMode, hooks: EngineHooks, signal: AbortSignal): Promise<PlanDocument>;
  /** Only after the plan was shown and confirmed. */
  apply(hooks: EngineHooks, signal: AbortSignal): Promise<{ runId: string; journal: string }>;
  verify(hooks: EngineHooks, signal: AbortSignal): Promise<ExitCode>;
  /**
   * After an apply (finished or not): the run's report and, when it was applied, the client bundle,
   * in the run's directory. Undefined when no run began.
   */
  runOutputs(exitCode: ExitCode): Promise<RunFiles | undefined>;
  audit(hooks: EngineHooks, signal: AbortSignal): Promise<{ findings: Finding[]; exitCode: ExitCode }>;
  /**
   * Per-role auth chosen on the auth screen, set on the loaded inventory's `roles[].auth` ('cluster':
   * removed) before certificates and the plan; saved inventories carry it.
   */
  setRoleAuth?(roles: Readonly<Record<string, RoleAuthChoice>>): void;
  /** Close every SSH session; safe to call twice. A planned rotation not applied is discarded. */
  close(): Promise<void>;

  // ── Job rotate (SPEC §9), after preflight ──
  /** The certificates each node serves and trusts now, and where a CA rotation stands in the PKI dir. */
  rotationView(): Promise<RotationView>;
  /**
   * What `pgharden rotate` plans for this choice: the PKI directory is snapshotted, then gets the new
   * pairs (or the next CA phase); asks for an encrypted CA key's passphrase. apply() runs it.
   */
  planRotation(choice: RotateChoice, hooks: EngineHooks, signal: AbortSignal): Promise<PlanDocument>;
  /** A planned rotation that will not run (back from the plan screen): the PKI directory as it was. */
  discardRotation(): Promise<void>;

  // ── Interrupted runs (welcome screen) and answers saved for a headless replay (plan screen) ──
  /**
   * An interrupted run, as `pgharden resume RUN_ID` prepares it: inventory, auth and certificates
   * from its journal, preflight, and the plan of what is left (shown before anything runs). A later
   * apply() continues that run under its own id and journal.
   */
  prepareResume(
    runId: string,
    hooks: EngineHooks,
    signal: AbortSignal,
  ): Promise<{ view: InventoryView; auth: AuthMode; certsDir: string; plan: PlanDocument }>;
  /** `pgharden rollback RUN_ID`: undo the run from its journal with fresh sessions. */
  rollback(runId: string, hooks: EngineHooks): Promise<{ nodes: Record<string, string[]>; failed: string[] }>;
  /** Where "save for a headless replay" suggests writing (under the state dir). */
  suggestSaveDir(): Promise<string>;
  /** The inventory (with the chosen auth) and the plan as `pgharden plan -o` writes it; 0700 dir, 0600 files. */
  saveAnswers(dir: string): Promise<SavedAnswers>;
}
