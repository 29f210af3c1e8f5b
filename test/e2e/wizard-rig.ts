// What the real-terminal wizard e2e files share: the pane's environment (a person's terminal, no CI,
// the lab's passwords by SPEC §3's variables), starting the bundled bin in an 80×24 tmux pane, and
// driving it by keystrokes to the plan screen. Every wait reads the screen; no sleeps.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Lab } from '../lab/types.js';
import { BIN } from './rig.js';
import { Terminal } from './tmux.js';

export const passwordEnvName = (role: string): string =>
  `PGHARDEN_PASSWORD_${role.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

export class WizardRig {
  readonly lab: Lab;
  readonly work: string;
  readonly home: string;
  #terms: Terminal[] = [];

  private constructor(lab: Lab, work: string) {
    this.lab = lab;
    this.work = work;
    this.home = join(work, 'home');
  }

  static async create(lab: Lab): Promise<WizardRig> {
    const rig = new WizardRig(lab, await mkdtemp(join(tmpdir(), 'pgharden-wizard-')));
    await mkdir(rig.home, { recursive: true });
    return rig;
  }

  /** The wizard's state dir: $HOME/.local/state/pgharden (HOME is the test's). */
  get stateDir(): string {
    return join(this.home, '.local', 'state', 'pgharden');
  }

  /** The pane's whole environment: a person's terminal, no CI, the lab's passwords as SPEC §3 says. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: this.home,
      LANG: 'C.UTF-8',
      TERM: 'xterm-256color',
      NO_COLOR: '1',
      ...extra,
    };
    for (const [role, password] of Object.entries(this.lab.passwords)) env[passwordEnvName(role)] = password;
    return env;
  }

  /** Runs the wizard in a fresh 80×24 pane; after it ends the pane prints its exit code and stty. */
  start(extra: Record<string, string> = {}): Terminal {
    const t = new Terminal({
      command: `node ${BIN}; echo "exit=$?"; stty -a`,
      cwd: this.home,
      env: this.env(extra),
      rawLog: join(this.work, `pane${this.#terms.length}.raw`),
    });
    this.#terms.push(t);
    return t;
  }

  killAll(): void {
    for (const t of this.#terms) t.kill();
    this.#terms = [];
  }
}

/** Welcome → the job (default: first-time hardening) → inventory (typed path): the preflight begins. */
export async function loadInventory(
  t: Terminal,
  inventory: string,
  job: { label: string; downs: number } = { label: 'First-time hardening', downs: 0 },
): Promise<void> {
  await t.waitFor(/❯ First-time hardening/);
  for (let i = 0; i < job.downs; i++) t.keys('Down');
  await t.waitFor(`❯ ${job.label}`);
  t.keys('Enter');
  await t.waitFor('❯ Load an inventory file…');
  t.keys('Enter');
  await t.waitFor('Inventory file (YAML');
  t.type(inventory);
  // As a person does: see the path in the field, then press Enter.
  await t.waitFor(inventory);
  t.keys('Enter');
}

export const AUTH_LABELS = {
  scram: '❯ SCRAM (scram-sha-256 over TLS)',
  cert: '❯ Client certificates (cert)',
  'scram+cert': '❯ Both (scram-sha-256 clientcert=verify-full)',
} as const;

/** Preflight done → auth (↓ to the mode asked for) → generated certificates → the plan screen. */
export async function preflightToPlan(
  t: Terminal,
  auth: keyof typeof AUTH_LABELS = 'scram',
): Promise<string> {
  const preflight = await t.waitFor(/Preflight of lab-streaming: done/, { ms: 60_000 });
  expect(preflight).not.toMatch(/Unknown host key/);
  t.keys('Enter');
  await t.waitFor(AUTH_LABELS.scram);
  const downs = auth === 'scram' ? 0 : auth === 'cert' ? 1 : 2;
  for (let i = 0; i < downs; i++) t.keys('Down');
  await t.waitFor(AUTH_LABELS[auth]);
  t.keys('Enter');
  await t.waitFor('❯ Generate: cluster CA');
  t.keys('Enter');
  await t.waitFor('Enter: plan · g: generate', { ms: 60_000 });
  t.keys('Enter');
  const plan = await t.waitFor('a: apply…', { ms: 60_000 });
  expectOneFrame(plan);
  expect(plan).toContain(`Plan for lab-streaming (auth ${auth})`);
  return plan;
}

/** On the plan screen: a, then y. */
export async function confirmApply(t: Terminal, nodes: number): Promise<void> {
  t.keys('a');
  await t.waitFor(`Apply this plan to ${nodes} node(s) now?`);
  t.keys('y');
}

/** The pane's command ended: its exit code and the terminal modes stty saw afterwards. */
export async function ending(
  t: Terminal,
  ms = 120_000,
): Promise<{ code: number; stty: string; text: string }> {
  // Up to stty's local modes line (icanon or -icanon): a capture taken while stty still prints
  // would see half of it.
  const text = await t.waitFor(/exit=\d+[\s\S]*speed[\s\S]*icanon/, { ms, scrollback: true });
  const code = Number(/exit=(\d+)/.exec(text)?.[1]);
  return { code, stty: text.slice(text.indexOf('exit=')), text };
}

/** Raw mode is off again: line editing and echo are back. */
export function expectTerminalRestored(stty: string): void {
  expect(stty).toMatch(/(^|\s)icanon(\s|$)/m);
  expect(stty).toMatch(/(^|\s)echo(\s|$)/m);
}

/** One frame at a time: a second header means a frame was not erased (something else wrote). */
export function expectOneFrame(screen: string): void {
  expect(screen.match(/^pgharden · /gm)).toHaveLength(1);
}

/** No password, key or Node warning on any screen the test saw. */
export function expectCleanScreens(t: Terminal, lab: Lab): void {
  const all = t.screens.join('\n');
  expect(all).not.toMatch(/\(node:\d+\)|Warning:/);
  for (const p of Object.values(lab.passwords)) expect(all).not.toContain(p);
  expect(all).not.toMatch(/PRIVATE KEY/);
}

/** A screen's rows without box borders, joined by one space: wrapped sentences read as one line. */
export function unwrapped(screen: string): string {
  return screen
    .split('\n')
    .map((l) =>
      l
        .replace(/^\s*[│|]\s?/, '')
        .replace(/\s?[│|]\s*$/, '')
        .trim(),
    )
    .join(' ');
}

/** No whitespace at all: a long path or command the terminal wrapped mid-word compares whole. */
export const squeezed = (text: string): string => text.replace(/\s+/g, '');
