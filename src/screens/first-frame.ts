// The wizard's first frame without Ink (SPEC §12: first frame fast). A bare `pgharden` in a terminal
// paints the welcome screen exactly as Ink will render it for the initial state, before any other module
// is compiled; Ink (~1 MB of bundle, 250–350 ms here) then loads, erases it and draws the same frame in
// one synchronized update, and from then on owns the screen. Keys typed meanwhile wait in the terminal
// (raw mode, so they are neither echoed nor turned into SIGINT) and reach Ink in order.
//
// No ink, react or chalk here: chalk must first see FORCE_COLOR=0 when colours are off (cli/main.ts),
// and this module is evaluated before that. first-frame.test.tsx checks that these lines equal Ink's
// render of <WizardView state={initialState()}> in colour and without, at several widths.
import { detectMode } from '../core/terminal.js';
import { JOB_LABELS } from '../wizard/reducer.js';
import { JOBS, SUPPORTED_JOBS } from '../wizard/state.js';

/** The notes under each job, as WelcomeScreen.tsx shows them (the test keeps the two equal). */
const NOTES: Record<(typeof JOBS)[number], string> = {
  harden: 'TLS everywhere, SCRAM or cert auth, hostssl-only pg_hba.conf, verified',
  pgautofailover: 'pg_autoctl enable ssl on monitor and nodes, verify-full',
  rotate: 'new certificates with no restart; CA overlap while clients move',
  audit: 'read-only findings with the fix pgharden would apply; changes nothing',
};

// The SGR pairs chalk writes for the tones of theme.tsx (accent = cyan, title = bold, dim = dim).
const sgr =
  (open: number, close: number) =>
  (s: string): string =>
    `\u001B[${open}m${s}\u001B[${close}m`;
const PLAIN = { accent: (s: string) => s, title: (s: string) => s, dim: (s: string) => s };
const COLOR = { accent: sgr(36, 39), title: sgr(1, 22), dim: sgr(2, 22) };

/** One entry per terminal line of the initial welcome screen (header, question, menu, footer). */
export function firstFrameLines(color: boolean): string[] {
  const t = color ? COLOR : PLAIN;
  const lines = [`${t.accent('pgharden')} · ${t.title('Welcome')}`, 'What do you want to do?'];
  JOBS.forEach((job, i) => {
    const later = !SUPPORTED_JOBS.includes(job);
    const label = later ? `${JOB_LABELS[job]} — coming in a later version` : JOB_LABELS[job];
    lines.push(`${i === 0 ? t.accent('❯ ') : '  '}${later ? t.dim(label) : label}`);
    lines.push(`    ${t.dim(NOTES[job])}`);
  });
  lines.push(t.dim('No inventory in this directory yet.'));
  return lines;
}

// Every character of the frame is one column wide (no CJK, no emoji), so width = code points.
// eslint-disable-next-line no-control-regex
const visibleWidth = (line: string): number => [...line.replace(/\u001B\[[0-9;]*m/g, '')].length;

export interface FirstFrame {
  /** Terminal lines painted (the cursor sits at the start of the line below them). */
  readonly lines: number;
  /**
   * The wizard takes over: returns what to write right before Ink's first render (open a synchronized
   * update, go back to the first painted line, erase to the end of the screen; Ink's frame closes the
   * update) and drops this module's exit guard.
   */
  handOff(): string;
}

export interface FirstFrameTerminal {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/**
 * Paints the first frame when the wizard is going to run (same test as cli/main.ts: a TTY on both
 * ends, no CI, TERM not dumb) and the frame fits without wrapping; otherwise paints nothing and Ink
 * draws the first frame itself, as before. Call only for a bare `pgharden` (no arguments).
 */
export function paintFirstFrame({ env, stdin, stdout }: FirstFrameTerminal): FirstFrame | undefined {
  const mode = detectMode(env, { stdinTTY: stdin.isTTY === true, stdoutTTY: stdout.isTTY === true }, {});
  if (mode.ui !== 'wizard') return undefined;
  const lines = firstFrameLines(mode.color);
  // Narrower than the widest line: Ink would wrap or truncate; shorter than the frame: Ink scrolls.
  const columns = stdout.columns ?? 0;
  const rows = stdout.rows ?? 0;
  if (Math.max(...lines.map(visibleWidth)) > columns || lines.length >= rows) return undefined;
  stdin.setRawMode(true);
  const guard = (): void => {
    // Ink never took over (an import failed, an exception): give the terminal back as it was.
    if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
    stdout.write('\u001B[?25h');
  };
  process.once('exit', guard);
  // As Ink writes a frame: synchronized update, cursor hidden, the lines, a final newline.
  stdout.write(`\u001B[?2026h\u001B[?25l${lines.join('\n')}\n\u001B[?2026l`);
  return {
    lines: lines.length,
    handOff: () => {
      process.off('exit', guard);
      return `\u001B[?2026h\u001B[${lines.length}A\r\u001B[J`;
    },
  };
}
