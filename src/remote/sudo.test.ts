import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { RawResult, RunOptions } from './exec.js';
import { runAs, sudoCommand, type SudoContext } from './sudo.js';

const PW = 'S3cr3t-pw!';

function result(code: number, stdout = '', stderr = ''): RawResult {
  return { code, stdout: Buffer.from(stdout), stderr: Buffer.from(stderr) };
}

/** A fake remote: sudo -n needs a password; -S accepts PW on the first stdin line. */
function fakeNode(opts: { nopasswd?: boolean; password?: string | undefined }) {
  const calls: { command: string; stdin: string }[] = [];
  const ctx: SudoContext = {
    node: 'pg1',
    sshUser: 'admin',
    secrets: { sudoPassword: () => Promise.resolve(opts.password) },
    state: { passwordNeeded: false, passwords: new Map() },
    run: (command: string, o: RunOptions) => {
      const stdin = o.stdin === undefined ? '' : Buffer.from(o.stdin).toString();
      calls.push({ command, stdin });
      if (command.startsWith('sudo -n')) {
        return Promise.resolve(
          opts.nopasswd === true ? result(0, 'ok') : result(1, '', 'sudo: a password is required\n'),
        );
      }
      if (command.startsWith('sudo -k -S')) {
        const [first, ...rest] = stdin.split('\n');
        if (first !== PW)
          return Promise.resolve(result(1, '', 'Sorry, try again.\nsudo: 3 incorrect password attempts\n'));
        return Promise.resolve(result(0, `ran with stdin=${rest.join('\n')}`));
      }
      return Promise.resolve(result(0, 'direct'));
    },
  };
  return { ctx, calls };
}

describe('sudoCommand', () => {
  it('quotes so that sh hands sudo exactly these arguments', () => {
    const cmd = sudoCommand('post gres', `echo "it's" $HOME`, 'S');
    // Replace sudo by a function printing its argv, NUL-separated.
    const out = execFileSync('sh', ['-c', `sudo() { printf '%s\\0' "$@"; }; ${cmd}`], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual([
      '-k',
      '-S',
      '-p',
      '',
      '-u',
      'post gres',
      '-H',
      '--',
      'sh',
      '-c',
      `{ cd "$HOME" || cd /; } 2>/dev/null; echo "it's" $HOME`,
    ]);
  });
});

describe('runAs', () => {
  it('runs directly as the SSH user', async () => {
    const { ctx, calls } = fakeNode({});
    await runAs(ctx, 'id', { asUser: 'admin' });
    await runAs(ctx, 'id', {});
    expect(calls.map((c) => c.command)).toEqual(['id', 'id']);
  });

  it('NOPASSWD: one sudo -n call, the password is never asked for', async () => {
    let asked = 0;
    const { ctx, calls } = fakeNode({ nopasswd: true });
    ctx.secrets = { sudoPassword: () => Promise.resolve(String(++asked)) };
    const r = await runAs(ctx, 'id', { asUser: 'postgres' });
    expect(r.stdout.toString()).toBe('ok');
    expect(calls).toHaveLength(1);
    expect(asked).toBe(0);
  });

  it('password needed: checks it once with `true`, then feeds it before the caller stdin, never in argv', async () => {
    const { ctx, calls } = fakeNode({ password: PW });
    const r1 = await runAs(ctx, 'psql', { asUser: 'postgres', stdin: 'SELECT 1;\n' });
    const r2 = await runAs(ctx, 'psql', { asUser: 'postgres', stdin: 'SELECT 2;\n' });
    expect(r1.stdout.toString()).toBe('ran with stdin=SELECT 1;\n');
    expect(r2.stdout.toString()).toBe('ran with stdin=SELECT 2;\n');
    // -n once (learns a password is needed), check once, then -S per command.
    expect(calls.map((c) => c.command.split(' -- ')[0])).toEqual([
      'sudo -n -u postgres -H',
      "sudo -k -S -p '' -u postgres -H",
      "sudo -k -S -p '' -u postgres -H",
      "sudo -k -S -p '' -u postgres -H",
    ]);
    expect(calls[1]?.command).toContain('true');
    expect(calls.every((c) => !c.command.includes(PW))).toBe(true);
  });

  it('no password available: sudo.password-required naming the node and PGHARDEN_SUDO_PASSWORD', async () => {
    const { ctx } = fakeNode({ password: undefined });
    const err = await runAs(ctx, 'id', { asUser: 'postgres' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sudo.password-required', exitCode: 2, node: 'pg1' });
    expect((err as Error).message).toContain('pg1');
    expect((err as { hint: string }).hint).toContain('PGHARDEN_SUDO_PASSWORD');
  });

  it('wrong password: sudo.password-wrong, the password appears nowhere in the error, not cached', async () => {
    const { ctx, calls } = fakeNode({ password: 'wrong-Pw-123' });
    const err = await runAs(ctx, 'cat', { asUser: 'postgres', stdin: 'data' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sudo.password-wrong' });
    expect(JSON.stringify({ ...(err as object), m: (err as Error).message })).not.toContain('wrong-Pw-123');
    // The caller's command never ran with the wrong password in front of its stdin.
    expect(calls.filter((c) => c.command.startsWith('sudo -k -S') && c.stdin.includes('data'))).toHaveLength(
      0,
    );
    expect(calls.filter((c) => c.command.startsWith('sudo -k -S'))).toHaveLength(1);
    expect(ctx.state.passwords.size).toBe(0);
  });

  it('sudo refusing the user is sudo.failed, not a command result', async () => {
    const { ctx } = fakeNode({});
    ctx.run = () =>
      Promise.resolve(
        result(1, '', "Sorry, user admin is not allowed to execute '/bin/sh -c id' as postgres on pg1.\n"),
      );
    await expect(runAs(ctx, 'id', { asUser: 'postgres' })).rejects.toMatchObject({ code: 'sudo.failed' });
    // …while a command that merely exits 1 is returned as is.
    ctx.run = () => Promise.resolve(result(1, '', 'grep: nothing\n'));
    expect((await runAs(ctx, 'grep x', { asUser: 'postgres' })).code).toBe(1);
  });
});
