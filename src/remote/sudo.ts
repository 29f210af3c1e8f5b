// Running a command as another OS user: `sudo -n` first; when sudo wants a password and the caller
// has one, `sudo -S -p ''` with the password as the first stdin line (sudo reads it byte by byte, so
// the rest of stdin reaches the command intact). Never a pty, never argv; the password is checked
// once per session with a no-op command so a wrong one cannot eat lines of the caller's stdin.
import { RemoteError, RemoteUsageError } from './errors.js';
import type { RawResult, RunOptions } from './exec.js';
import { shellQuote } from './shell.js';
import type { Secrets } from './types.js';

export interface SudoState {
  /** `sudo -n` said a password is required: go straight to -S from now on. */
  passwordNeeded: boolean;
  /** The checked password, per target user (sudoers may differ per target). */
  passwords: Map<string, Promise<string>>;
}

export interface SudoContext {
  node: string;
  sshUser: string;
  secrets: Secrets | undefined;
  state: SudoState;
  run: (command: string, options: RunOptions) => Promise<RawResult>;
}

export interface AsUserOptions extends RunOptions {
  asUser?: string | undefined;
}

export const SUDO_PASSWORD_ENV = 'PGHARDEN_SUDO_PASSWORD';

/** The command sh runs as the target user: from that user's home (or /), like a login would. */
export function sudoCommand(user: string, command: string, mode: 'n' | 'S'): string {
  const inner = `{ cd "$HOME" || cd /; } 2>/dev/null; ${command}`;
  const auth = mode === 'n' ? '-n' : `-k -S -p ''`;
  return `sudo ${auth} -u ${shellQuote(user)} -H -- sh -c ${shellQuote(inner)}`;
}

const PASSWORD_REQUIRED = /sudo: (a password is required|a terminal is required)/;
const WRONG_PASSWORD = /incorrect password attempt|Sorry, try again/;
const SUDO_REFUSED =
  /is not in the sudoers file|is not allowed to execute|sudo: unknown user|sudo: no tty present|sudo: .*not found|sudo: you do not exist/;

function firstLine(b: Buffer): string {
  return (
    b
      .toString('utf8')
      .split('\n')
      .find((l) => l.trim() !== '') ?? ''
  ).trim();
}

function refused(ctx: SudoContext, user: string, r: RawResult): RemoteError | undefined {
  const text = r.stderr.toString('utf8');
  if (r.code === 127 && /sudo/.test(text)) {
    return new RemoteError(
      ctx.node,
      'sudo.failed',
      `${ctx.node}: sudo is not installed (needed to act as ${user})`,
    );
  }
  if (r.code !== 1 || !SUDO_REFUSED.test(text)) return undefined;
  return new RemoteError(
    ctx.node,
    'sudo.failed',
    `${ctx.node}: ${ctx.sshUser} may not run commands as ${user} via sudo: ${firstLine(r.stderr)}`,
    `allow it in sudoers on ${ctx.node} (e.g. ${ctx.sshUser} ALL=(${user}) NOPASSWD: ALL), or log in as ${user}`,
  );
}

async function password(ctx: SudoContext, user: string, options: RunOptions): Promise<string> {
  const cached = ctx.state.passwords.get(user);
  if (cached !== undefined) return cached;
  const checked = (async () => {
    const pw = await ctx.secrets?.sudoPassword?.(ctx.node, ctx.sshUser);
    if (pw === undefined) {
      throw new RemoteUsageError(
        ctx.node,
        'sudo.password-required',
        `${ctx.node}: sudo needs the password of ${ctx.sshUser} to act as ${user}, and none was given`,
        `set ${SUDO_PASSWORD_ENV} (password of ${ctx.sshUser} on ${ctx.node}), or allow NOPASSWD for ${ctx.sshUser} in sudoers`,
      );
    }
    const r = await ctx.run(sudoCommand(user, 'true', 'S'), {
      ...options,
      stdin: `${pw}\n`,
      timeoutMs: 30_000,
    });
    if (r.code !== 0) {
      if (WRONG_PASSWORD.test(r.stderr.toString('utf8'))) {
        throw new RemoteUsageError(
          ctx.node,
          'sudo.password-wrong',
          `${ctx.node}: sudo rejected the password given for ${ctx.sshUser}`,
          `check ${SUDO_PASSWORD_ENV} or the password you typed`,
        );
      }
      throw (
        refused(ctx, user, r) ??
        new RemoteError(
          ctx.node,
          'sudo.failed',
          `${ctx.node}: sudo as ${user} failed: ${firstLine(r.stderr)}`,
        )
      );
    }
    return pw;
  })();
  ctx.state.passwords.set(user, checked);
  // A failed attempt is not cached: the next call may bring a different answer.
  checked.catch(() => ctx.state.passwords.delete(user));
  return checked;
}

export async function runAs(ctx: SudoContext, command: string, options: AsUserOptions): Promise<RawResult> {
  const { asUser, ...run } = options;
  if (asUser === undefined || asUser === ctx.sshUser) return ctx.run(command, run);

  if (!ctx.state.passwordNeeded) {
    const r = await ctx.run(sudoCommand(asUser, command, 'n'), run);
    if (!(r.code === 1 && PASSWORD_REQUIRED.test(r.stderr.toString('utf8')))) {
      const err = refused(ctx, asUser, r);
      if (err !== undefined) throw err;
      return r;
    }
    // sudo stopped before running anything, so running the command again below is safe.
    ctx.state.passwordNeeded = true;
  }
  const pw = await password(ctx, asUser, run);
  const stdin = Buffer.concat([Buffer.from(`${pw}\n`), Buffer.from(run.stdin ?? '')]);
  const r = await ctx.run(sudoCommand(asUser, command, 'S'), { ...run, stdin });
  const err = refused(ctx, asUser, r);
  if (err !== undefined) throw err;
  return r;
}
