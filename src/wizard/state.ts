// The wizard's state and every action that changes it (SPEC §4). Plain data, no React, no engine
// objects: sessions, plans in flight and secrets live in the engine adapter (engine.ts), never here.
// Intents come from screens; results come from the effects layer (controller.ts).
import type { ExitCode } from '../core/errors.js';
import type { EngineEvent, Finding } from '../core/events.js';
import type { PlanDocument } from '../core/harden.js';
import type { HostKeyInfo, UnknownHostKeyDecision } from '../remote/types.js';
import type { AuthMode } from '../steps/context.js';

export const JOBS = ['harden', 'pgautofailover', 'rotate', 'audit'] as const;
export type Job = (typeof JOBS)[number];
/** Jobs this version's engine can run; the others are shown as coming later. */
export const SUPPORTED_JOBS: readonly Job[] = ['harden', 'pgautofailover', 'rotate', 'audit'];

export type Screen =
  | 'welcome'
  | 'inventory'
  | 'preflight'
  | 'auth'
  | 'certificates'
  | 'plan'
  | 'apply'
  | 'verify'
  | 'audit'
  | 'done'
  /** An interrupted run chosen on the welcome screen: resume, roll back or back. */
  | 'run'
  /** Job rotate, after preflight: the certificates in use and what to rotate (SPEC §9). */
  | 'rotate';

export interface ErrorView {
  code: string;
  message: string;
  hint?: string | undefined;
}

export interface InventoryView {
  path: string;
  cluster: string;
  topology: string;
  network: string[];
  nodes: { name: string; host: string; role?: string | undefined }[];
  /** Database roles (SPEC §5 `roles:`) with their own auth mode when the inventory gives one. */
  roles?: { name: string; kind: string; auth?: AuthMode | undefined }[] | undefined;
}

export interface SshHostView {
  alias: string;
  hostName: string;
  user?: string | undefined;
  port?: number | undefined;
}

export type NodeRole = 'primary' | 'standby';

export interface BuildInventoryInput {
  cluster: string;
  network: string[];
  /**
   * `alias`: a ~/.ssh/config Host (name and host derive from it). A pasted host list gives `name`,
   * `host` and `sshPort` instead (alias is then the host).
   */
  nodes: {
    alias: string;
    role: NodeRole;
    name?: string | undefined;
    host?: string | undefined;
    sshPort?: number | undefined;
  }[];
  /** Where the inventory is written (refused when it exists). */
  path: string;
}

/** One live row of the preflight table. */
export interface PreflightRow {
  node: string;
  host?: string | undefined;
  status: 'waiting' | 'connecting' | 'connected' | 'inspected' | 'failed';
  fingerprint?: string | undefined;
  keyType?: string | undefined;
  summary?: string | undefined;
  error?: ErrorView | undefined;
}

/** What preflight learned about a node, as the table shows it. */
export interface PreflightDetail {
  node: string;
  sshUser: string;
  access: 'same-user' | 'sudo';
  pgVersion?: string | undefined;
  role?: string | undefined;
  dataDir?: string | undefined;
  configFile?: string | undefined;
  hbaFile?: string | undefined;
  ssl?: string | undefined;
  passwordEncryption?: string | undefined;
  md5Roles: string[];
  hbaErrors: number;
  replication: string;
  libpq?: string | undefined;
  problem?: string | undefined;
}

export interface CertFindingView {
  id: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix: string;
}

/** One certificate of the PKI directory, inspected and linted. */
export interface CertView {
  file: string;
  kind: 'ca' | 'server' | 'client';
  name: string;
  subject?: string | undefined;
  issuer?: string | undefined;
  sans: string[];
  keyType?: string | undefined;
  notBefore?: string | undefined;
  notAfter?: string | undefined;
  daysLeft?: number | undefined;
  fingerprint?: string | undefined;
  status?: 'issued' | 'kept' | 'reused' | 'imported' | undefined;
  findings: CertFindingView[];
}

export interface DoneLine {
  key: string;
  node: string;
  step: string;
  status: 'ok' | 'skipped' | 'failed' | 'undone' | 'undo-failed';
  ms?: number | undefined;
  detail?: string | undefined;
}

export interface VerifyRowView {
  key: string;
  node: string;
  check: string;
  ok: boolean;
  value: string;
}

/** What a run left in its directory (core/run-outputs.ts). */
export interface RunFiles {
  report: { json: string; md: string };
  bundle?: string | undefined;
}

/** A run `pgharden resume` would continue: neither done nor rolled back (core listInterruptedRuns). */
export interface InterruptedRunView {
  runId: string;
  inventory?: string | undefined;
  /** Nodes the run touched. */
  nodes: string[];
  /** Steps that began and did not finish: undone first on resume. */
  interrupted: number;
}

/** A rotation (SPEC §9): leaf re-issue, or the next phase of a CA rotation. */
export type RotateChoice = 'leaves' | 'new-ca' | 'finish';

/** What the rotation screen shows: the certificates the nodes use now, and where a CA rotation stands. */
export interface RotationView {
  pkiDir: string;
  /** From the PKI directory: none, or phase 1 / 2 of a CA rotation done (SPEC §9). */
  caState: 'none' | 'phase1' | 'phase2';
  certs: {
    node: string;
    what: 'server' | 'CA' | 'replication client';
    subject: string;
    notAfter: string;
    daysLeft: number;
  }[];
}

export interface RunAction {
  runId: string;
  /** Chosen on the run screen; resume goes through the plan screen (the rest of the run). */
  kind?: 'resume' | 'rollback' | undefined;
}

/** What "save for a headless replay" wrote: inventory + plan, never a secret. */
export interface SavedAnswers {
  dir: string;
  inventory: string;
  plan: string;
  /** The exact headless command that replays the plan. */
  command: string;
  /** Environment variables the replay needs (passwords the operator typed or gave by env). */
  env: string[];
  /** Nodes whose host key was accepted for this wizard run only: the replay refuses them until saved. */
  hostKeysOnce?: string[] | undefined;
}

export interface SaveView {
  /** The directory field is open, with this suggestion. */
  asking?: { dir: string } | undefined;
  saved?: SavedAnswers | undefined;
}

export interface HostKeyPrompt {
  id: string;
  info: HostKeyInfo;
}

type Status = 'idle' | 'running' | 'done' | 'failed';

// --- Per-role auth (SPEC §5 `roles[].auth`) ---
/** A role's auth as chosen on the auth screen: a mode of its own, or the cluster's choice. */
export type RoleAuthChoice = AuthMode | 'cluster';

// --- Secret prompts (passphrases, sudo password, SSH keyboard-interactive) ---
// The question is state; the answer never is: it resolves the engine's promise and is dropped.
export type SecretKind =
  /** The PKI directory's root.key is encrypted (generating or keeping certificates signs with it). */
  | 'ca-passphrase'
  /** An imported server or client key is encrypted (lint checks it against its certificate). */
  | 'key-passphrase'
  /** An encrypted SSH identity file. */
  | 'ssh-key-passphrase'
  /** sudo wants the SSH user's password on a node. */
  | 'sudo-password'
  /** A keyboard-interactive question of a node's sshd. */
  | 'ssh-prompt';

export interface SecretRequest {
  kind: SecretKind;
  /** What it unlocks: a file, or `user@node`. */
  subject: string;
  /** ssh-prompt: the server's question. */
  question?: string | undefined;
  /** ssh-prompt: the server allows echoing the answer (not a password). */
  echo?: boolean | undefined;
  /** Asked again: why (e.g. the passphrase did not decrypt the key). */
  retry?: string | undefined;
}

export interface SecretPrompt extends SecretRequest {
  id: string;
}

export interface WizardState {
  screen: Screen;
  /** Screens to go back to (Esc/q), newest last. */
  history: Screen[];
  job?: Job | undefined;
  /** A label while the effects layer works (loading, planning, issuing). */
  busy?: string | undefined;
  error?: ErrorView | undefined;
  help: boolean;
  /** Ctrl-C asked: confirm before stopping. */
  quitConfirm: boolean;
  /** Set once: the app unmounts and exits with it. */
  exitCode?: ExitCode | undefined;
  // ── Interrupted runs acted on from the welcome screen; answers saved for a headless replay ──
  /** The interrupted run chosen on the welcome screen, and what the operator does with it. */
  runAction?: RunAction | undefined;
  /** The plan screen's "save for a headless replay" (s). */
  save?: SaveView | undefined;
  welcome: { inventories: string[]; runs: InterruptedRunView[] };
  inventory: { view?: InventoryView | undefined; sshHosts?: SshHostView[] | undefined };
  preflight: {
    rows: PreflightRow[];
    details: PreflightDetail[];
    findings: Finding[];
    status: Status;
  };
  auth?: AuthMode | undefined;
  certs: { source?: 'generate' | 'import' | undefined; dir?: string | undefined; items: CertView[] };
  plan?: PlanDocument | undefined;
  apply: {
    status: Status | 'interrupted';
    /** Finished lines: append-only (they go to <Static>). */
    done: DoneLine[];
    /** node → step in progress. */
    live: Record<string, string>;
    runId?: string | undefined;
    journal?: string | undefined;
    exitCode?: ExitCode | undefined;
    files?: RunFiles | undefined;
  };
  verify: { status: Status; rows: VerifyRowView[]; exitCode?: ExitCode | undefined };
  audit: { status: Status; findings: Finding[]; exitCode?: ExitCode | undefined };
  prompts: { hostKeys: HostKeyPrompt[]; password?: { role: string } | undefined };
  warnings: string[];
  /** Per-role auth changed on the auth screen (role → choice); absent roles keep the inventory's. */
  roleAuth?: Record<string, RoleAuthChoice> | undefined;
  /** Secrets the engine waits for, oldest first (absent: none). */
  secretPrompts?: SecretPrompt[] | undefined;
  /** Job rotate: the rotation screen's view, and the choice made there. */
  rotation?: { view?: RotationView | undefined; choice?: RotateChoice | undefined } | undefined;
}

export function initialState(): WizardState {
  return {
    screen: 'welcome',
    history: [],
    help: false,
    quitConfirm: false,
    welcome: { inventories: [], runs: [] },
    inventory: {},
    preflight: { rows: [], details: [], findings: [], status: 'idle' },
    certs: { items: [] },
    apply: { status: 'idle', done: [], live: {} },
    verify: { status: 'idle', rows: [] },
    audit: { status: 'idle', findings: [] },
    prompts: { hostKeys: [] },
    warnings: [],
  };
}

/** What screens dispatch. */
export type Intent =
  | { type: 'job:choose'; job: Job }
  | { type: 'back' }
  | { type: 'help:toggle' }
  | { type: 'error:dismiss' }
  | { type: 'inventory:load'; path: string }
  | { type: 'inventory:pick-hosts' }
  | { type: 'inventory:build'; input: BuildInventoryInput }
  | { type: 'preflight:continue' }
  | { type: 'auth:choose'; auth: AuthMode }
  | { type: 'auth:role'; role: string; auth: RoleAuthChoice }
  | { type: 'certs:generate' }
  | { type: 'certs:import'; dir: string }
  | { type: 'certs:continue' }
  | { type: 'rotate:choose'; choice: RotateChoice }
  | { type: 'plan:confirm' }
  | { type: 'hostkey:answer'; id: string; decision: UnknownHostKeyDecision }
  /** The password goes to the engine and is dropped: the reducer never stores it. */
  | { type: 'password:answer'; role: string; password: string | undefined }
  /** The answer goes to the engine and is dropped: the reducer never stores it. undefined: Esc. */
  | { type: 'secret:answer'; id: string; value: string | undefined }
  | { type: 'interrupt:request' }
  | { type: 'interrupt:cancel' }
  | { type: 'interrupt:confirm' }
  | { type: 'finish' }
  // interrupted runs (welcome → run screen) and saving answers (plan screen)
  | { type: 'run:select'; runId: string }
  | { type: 'run:resume' }
  | { type: 'run:rollback' }
  | { type: 'save:ask' }
  | { type: 'save:write'; dir: string }
  | { type: 'save:close' };

/** What the effects layer reports back. */
export type Result =
  | { type: 'welcome:found'; inventories: string[]; runs: InterruptedRunView[] }
  | { type: 'busy'; label: string | undefined }
  | { type: 'failed'; error: ErrorView }
  | { type: 'inventory:loaded'; view: InventoryView }
  | { type: 'inventory:hosts'; hosts: SshHostView[] }
  | { type: 'engine'; event: EngineEvent }
  | { type: 'preflight:finished'; details: PreflightDetail[]; findings: Finding[] }
  | { type: 'hostkey:ask'; prompt: HostKeyPrompt }
  | { type: 'password:ask'; role: string }
  | { type: 'secret:ask'; prompt: SecretPrompt }
  | { type: 'certs:ready'; dir: string; items: CertView[] }
  | { type: 'rotate:ready'; view: RotationView }
  | { type: 'plan:ready'; plan: PlanDocument }
  | { type: 'apply:finished'; runId: string; journal: string }
  | { type: 'apply:failed'; error: ErrorView; exitCode: ExitCode }
  | { type: 'verify:finished'; exitCode: ExitCode }
  | { type: 'run:files'; files: RunFiles }
  | { type: 'audit:finished'; findings: Finding[]; exitCode: ExitCode }
  | { type: 'exit'; code: ExitCode }
  // interrupted runs and saved answers
  | { type: 'run:planned'; view: InventoryView; auth: AuthMode; certsDir: string; plan: PlanDocument }
  | { type: 'run:rolled-back'; exitCode: ExitCode; nodes: Record<string, string[]>; failed: string[] }
  | { type: 'save:suggested'; dir: string }
  | { type: 'save:done'; saved: SavedAnswers };

export type Action = Intent | Result;
export type Dispatch = (intent: Intent) => void;
