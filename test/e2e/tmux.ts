// A real terminal for the wizard e2e tests: the bundled bin in a detached tmux pane (80×24 unless
// told), driven by keystrokes and read back with capture-pane, as an operator would use it. Each
// terminal has its own tmux server (private socket), so nothing touches the operator's tmux.
import { execFileSync } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';

export interface TerminalOptions {
  /** Shell command line run in the pane (by /bin/sh). */
  command: string;
  cwd: string;
  /**
   * The whole environment of the pane: the tmux server is started with it, so secrets travel in the
   * environment (never in argv) and nothing of the test runner's environment (CI…) leaks in.
   */
  env: Record<string, string>;
  width?: number;
  height?: number;
  /** Raw bytes the pane wrote, for debugging a failure (tmux pipe-pane). */
  rawLog?: string;
}

export class Terminal {
  readonly socket: string;
  readonly #env: Record<string, string>;
  /** Every screen read, newest last: shown when a wait times out, and searched for leaks. */
  readonly screens: string[] = [];

  constructor(opts: TerminalOptions) {
    this.socket = `pgh-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.#env = opts.env;
    // One invocation: remain-on-exit is on before the command can end, and the pane's TERM is the
    // one asked for (tmux would otherwise put its own default-terminal there).
    this.#tmux([
      'start-server',
      ';',
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'set-option',
      '-g',
      'default-terminal',
      opts.env['TERM'] ?? 'xterm-256color',
      ';',
      'set-option',
      '-g',
      'history-limit',
      '5000',
      ';',
      'new-session',
      '-d',
      '-s',
      'w',
      '-x',
      String(opts.width ?? 80),
      '-y',
      String(opts.height ?? 24),
      '-c',
      opts.cwd,
      opts.command,
    ]);
    if (opts.rawLog !== undefined) {
      appendFileSync(opts.rawLog, '');
      this.#tmux(['pipe-pane', '-t', 'w', '-o', `cat >> '${opts.rawLog}'`]);
    }
  }

  #tmux(args: string[]): string {
    // -u: UTF-8 (✓ ✗ … are part of what the tests read); -f /dev/null: no user config.
    return execFileSync('tmux', ['-u', '-f', '/dev/null', '-L', this.socket, ...args], {
      encoding: 'utf8',
      env: this.#env,
    });
  }

  /** The visible screen, one string with a line per row (trailing blanks trimmed). */
  screen(): string {
    return this.#seen(this.#tmux(['capture-pane', '-p', '-t', 'w']));
  }

  /** Screen and scrollback. */
  history(): string {
    return this.#seen(this.#tmux(['capture-pane', '-p', '-S', '-', '-t', 'w']));
  }

  #seen(s: string): string {
    if (this.screens.at(-1) !== s) this.screens.push(s);
    return s;
  }

  /** Key names as tmux knows them: Enter, Escape, Down, C-c, a, y… */
  keys(...names: string[]): void {
    this.#tmux(['send-keys', '-t', 'w', ...names]);
  }

  /** Literal text (a path typed into a field). */
  type(text: string): void {
    this.#tmux(['send-keys', '-t', 'w', '-l', text]);
  }

  /** Did the pane's command end? */
  dead(): boolean {
    return this.#tmux(['display-message', '-p', '-t', 'w', '#{pane_dead}']).trim() === '1';
  }

  /**
   * Polls the screen (or, with `scrollback`, screen and history) until `want` matches (a string it
   * contains, a pattern, or a test of the whole screen); throws with the last screen when `ms` pass first.
   */
  async waitFor(
    want: string | RegExp | ((screen: string) => boolean),
    { ms = 30_000, scrollback = false }: { ms?: number; scrollback?: boolean } = {},
  ): Promise<string> {
    const deadline = Date.now() + ms;
    let last = '';
    for (;;) {
      last = scrollback ? this.history() : this.screen();
      const ok =
        typeof want === 'string'
          ? last.includes(want)
          : typeof want === 'function'
            ? want(last)
            : want.test(last);
      if (ok) return last;
      if (Date.now() > deadline) {
        throw new Error(`terminal: no ${String(want)} within ${ms} ms; the screen was:\n${last}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the server and its pane, and removes the socket file tmux leaves behind. */
  kill(): void {
    try {
      const socketPath = this.#tmux(['display-message', '-p', '#{socket_path}']).trim();
      this.#tmux(['kill-server']);
      if (socketPath !== '') rmSync(socketPath, { force: true });
    } catch {
      // already gone
    }
  }
}
