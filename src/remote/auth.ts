// User authentication for one hop: identity files, then ssh-agent, then the default keys (only when
// no identity file was given), then keyboard-interactive when the caller can answer prompts. Key
// material is read here and handed to ssh2 in memory: never a path on a command line, never logged.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { homeDir } from '../core/paths.js';
import { RemoteUsageError } from './errors.js';
import type { Secrets, SshTarget } from './types.js';

type ParseKey = (data: Buffer, passphrase?: string) => ParsedKey | ParsedKey[] | Error;

type Method =
  | { kind: 'file'; path: string; explicit: boolean }
  | { kind: 'agent'; socket: string }
  | { kind: 'keyboard-interactive' };

export interface AuthDeps {
  secrets: Secrets | undefined;
  env: NodeJS.ProcessEnv;
  parseKey: ParseKey;
  /** Stops the connect timer while the operator is being asked something. */
  whileWaitingForOperator: <T>(p: Promise<T>) => Promise<T>;
  /** A key that cannot be used at all: the connect fails with this, not with "auth failed". */
  fail: (err: Error) => void;
}

export interface AuthState {
  handler: AuthHandlerMiddleware;
  /** What was offered, for the auth-failed message: key files, `ssh-agent`, `keyboard-interactive`. */
  tried: string[];
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function planMethods(
  target: SshTarget,
  secrets: Secrets | undefined,
  env: NodeJS.ProcessEnv,
): Method[] {
  const methods: Method[] = target.identityFiles.map((path) => ({ kind: 'file', path, explicit: true }));
  const agent = env['SSH_AUTH_SOCK'];
  if (agent !== undefined && agent !== '') methods.push({ kind: 'agent', socket: agent });
  if (target.identityFiles.length === 0) {
    for (const k of DEFAULT_KEYS)
      methods.push({ kind: 'file', path: join(homeDir(env), '.ssh', k), explicit: false });
  }
  if (secrets?.keyboardInteractive !== undefined) methods.push({ kind: 'keyboard-interactive' });
  return methods;
}

export function makeAuth(target: SshTarget, deps: AuthDeps): AuthState {
  const methods = planMethods(target, deps.secrets, deps.env);
  const tried: string[] = [];
  const username = target.user;
  const node = target.node;

  async function loadKey(path: string, explicit: boolean): Promise<ParsedKey | undefined> {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      if (!explicit) return undefined;
      throw new RemoteUsageError(
        node,
        'ssh.identity-file-unreadable',
        `${node}: cannot read SSH key ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        'fix ssh.identityFile in the inventory or IdentityFile in ~/.ssh/config',
      );
    }
    let parsed = deps.parseKey(data);
    if (parsed instanceof Error && /no passphrase given/i.test(parsed.message)) {
      const ask = deps.secrets?.keyPassphrase;
      const passphrase = ask === undefined ? undefined : await deps.whileWaitingForOperator(ask(path));
      if (passphrase === undefined) {
        if (!explicit) return undefined;
        throw new RemoteUsageError(
          node,
          'ssh.key-passphrase-needed',
          `${node}: SSH key ${path} is encrypted and no passphrase was given`,
          'load it into ssh-agent (ssh-add) or run the wizard to be asked for its passphrase',
        );
      }
      parsed = deps.parseKey(data, passphrase);
      if (parsed instanceof Error) {
        throw new RemoteUsageError(
          node,
          'ssh.key-passphrase-wrong',
          `${node}: wrong passphrase for SSH key ${path}`,
        );
      }
    }
    if (parsed instanceof Error) {
      if (!explicit) return undefined;
      throw new RemoteUsageError(
        node,
        'ssh.identity-file-unreadable',
        `${node}: ${path} is not a private key ssh2 can use (${parsed.message})`,
        'give an OpenSSH private key (ed25519, ecdsa or rsa)',
      );
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    return key !== undefined && key.isPrivateKey() ? key : undefined;
  }

  async function nextMethod(authsLeft: string[] | null): Promise<AnyAuthMethod | false> {
    const allowed = (type: string): boolean => authsLeft === null || authsLeft.includes(type);
    for (let m = methods.shift(); m !== undefined; m = methods.shift()) {
      switch (m.kind) {
        case 'file': {
          if (!allowed('publickey')) continue;
          const key = await loadKey(m.path, m.explicit);
          if (key === undefined) continue;
          tried.push(m.path);
          return { type: 'publickey', username, key };
        }
        case 'agent':
          if (!allowed('publickey')) continue;
          tried.push('ssh-agent');
          return { type: 'agent', username, agent: m.socket };
        case 'keyboard-interactive': {
          const answer = deps.secrets?.keyboardInteractive;
          if (!allowed('keyboard-interactive') || answer === undefined) continue;
          tried.push('keyboard-interactive');
          return {
            type: 'keyboard-interactive',
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) => {
              const asked = prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true }));
              deps.whileWaitingForOperator(answer(node, asked)).then(
                (answers) => finish(answers ?? []),
                () => finish([]),
              );
            },
          };
        }
      }
    }
    return false;
  }

  // ssh2 calls this with methodsLeft === null first, then after each failure; `false` means give up.
  // (@types/ssh2 omits `false`, which ssh2 documents and handles.)
  const handler: AuthHandlerMiddleware = (authsLeft, _partial, next) => {
    const give = next as unknown as (m: AnyAuthMethod | false) => void;
    nextMethod(authsLeft as string[] | null).then(give, (err: unknown) => {
      deps.fail(err as Error);
      give(false);
    });
  };
  return { handler, tried };
}
