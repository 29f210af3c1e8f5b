// Wizard or headless? Pure: bin passes process.env and the TTY flags; nothing else reads them.
const truthy = (v: string | undefined): boolean =>
  v !== undefined && !['', '0', 'false'].includes(v.toLowerCase());

export interface TerminalMode {
  ui: 'wizard' | 'headless';
  color: boolean;
  /** Why headless (for `--verbose` and the help text). */
  why: '--json' | 'not a TTY' | 'CI' | 'TERM=dumb' | undefined;
}

export function detectMode(
  env: NodeJS.ProcessEnv,
  io: { stdinTTY: boolean; stdoutTTY: boolean },
  flags: { json?: boolean | undefined; color?: boolean | undefined },
): TerminalMode {
  // Ink's raw mode throws without a TTY, and in CI Ink prints only its last frame.
  const why = flags.json
    ? '--json'
    : !io.stdinTTY || !io.stdoutTTY
      ? 'not a TTY'
      : truthy(env['CI'])
        ? 'CI'
        : env['TERM'] === 'dumb'
          ? 'TERM=dumb'
          : undefined;
  const noColorEnv = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  const color =
    flags.color !== false &&
    !flags.json &&
    !noColorEnv &&
    (env['FORCE_COLOR'] === undefined ? io.stdoutTTY && env['TERM'] !== 'dumb' : truthy(env['FORCE_COLOR']));
  return { ui: why === undefined ? 'wizard' : 'headless', color, why };
}
