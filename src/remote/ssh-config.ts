// Resolve an inventory host into an SshTarget through ~/.ssh/config. Precedence: explicit inventory
// values, then ssh config, then OpenSSH's defaults.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import SSHConfig from 'ssh-config';
import { defaultKnownHosts, defaultSshConfig, expandHome, homeDir } from '../core/paths.js';
import { UsageError } from '../core/errors.js';
import type { SshTarget } from './types.js';

export interface TargetInput {
  node: string;
  host: string;
  user?: string | undefined;
  port?: number | undefined;
  identityFile?: string | undefined;
  knownHosts?: string | undefined;
  /** `[user@]host[:port]`, comma-separated for a chain; `none` disables a ProxyJump from ssh config. */
  proxyJump?: string | undefined;
  timeoutMs?: number | undefined;
}

export interface ResolveOptions {
  /** Config text; wins over configPath. */
  configText?: string;
  /** Default `$HOME/.ssh/config`; a missing file is an empty config. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Current OS user (default from the OS). */
  localUser?: string;
  cwd?: string;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const MAX_JUMP_DEPTH = 8;

type Computed = Record<string, string | string[]>;

function first(c: Computed, key: string): string | undefined {
  const v = c[key];
  return Array.isArray(v) ? v[0] : v;
}

function all(c: Computed, key: string): string[] {
  const v = c[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function loadConfig(options: ResolveOptions): SSHConfig {
  if (options.configText !== undefined) return SSHConfig.parse(options.configText);
  const path = options.configPath ?? defaultSshConfig(options.env);
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(
        'ssh-config.unreadable',
        `cannot read ssh config ${path}: ${(err as Error).message}`,
      );
    }
  }
  return SSHConfig.parse(text);
}

function compute(config: SSHConfig, alias: string, user: string | undefined): Computed {
  // `Match exec` would run shell commands from the config while merely resolving names: off.
  const opts = { ignoreCase: true, matchExec: false };
  return user === undefined ? config.compute(alias, opts) : config.compute({ Host: alias, User: user }, opts);
}

/** HostName accepts %h (the name given) and %%, per ssh_config(5). */
function hostNameOf(c: Computed, alias: string): string {
  const v = first(c, 'hostname');
  return v === undefined ? alias : v.replace(/%([h%])/g, (_m, t: string) => (t === 'h' ? alias : '%'));
}

function defaultLocalUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env['USER'] ?? env['LOGNAME'] ?? 'root';
  }
}

/** ssh_config TOKENS for IdentityFile/UserKnownHostsFile: %d %h %n %p %r %u %%. */
export function expandTokens(
  value: string,
  t: { home: string; host: string; alias: string; port: number; user: string; localUser: string },
): string {
  return value.replace(/%(.)/g, (whole, c: string) => {
    const map: Record<string, string> = {
      d: t.home,
      h: t.host,
      n: t.alias,
      p: String(t.port),
      r: t.user,
      u: t.localUser,
      '%': '%',
    };
    return map[c] ?? whole;
  });
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
  let s = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const plain = /^([^:]+):(\d+)$/.exec(s);
  if (bracket !== null) {
    s = bracket[1] ?? s;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (plain !== null) {
    s = plain[1] ?? s;
    port = Number(plain[2]);
  }
  if (s === '' || (port !== undefined && !(port >= 1 && port <= 65535))) {
    throw new UsageError(
      'ssh-config.bad-proxyjump',
      `bad ProxyJump host "${spec}"`,
      'use [user@]host[:port]',
    );
  }
  return { host: s, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

export function resolveTarget(input: TargetInput, options: ResolveOptions = {}): SshTarget {
  return resolveWith(input, options, loadConfig(options), 0);
}

function resolveWith(
  input: TargetInput,
  options: ResolveOptions,
  config: SSHConfig,
  depth: number,
): SshTarget {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = homeDir(env);
  const localUser = options.localUser ?? defaultLocalUser(env);
  const c = compute(config, input.host, input.user);

  const host = hostNameOf(c, input.host);
  const user = input.user ?? first(c, 'user') ?? localUser;
  const cfgPort = first(c, 'port');
  const port = input.port ?? (cfgPort !== undefined ? Number(cfgPort) : 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError('ssh-config.bad-port', `${input.node}: bad SSH port "${cfgPort}" for ${input.host}`);
  }
  const tokens = { home, host, alias: input.host, port, user, localUser };
  const expand = (p: string): string => expandHome(expandTokens(p, tokens), cwd, env);

  const identityFiles =
    input.identityFile !== undefined
      ? [expand(input.identityFile)]
      : all(c, 'identityfile')
          .filter((f) => f.toLowerCase() !== 'none')
          .map(expand);
  // UserKnownHostsFile may list several files; the first is the one we verify against and append to.
  const cfgKnown = all(c, 'userknownhostsfile')[0];
  const knownHostsPath =
    input.knownHosts !== undefined
      ? expand(input.knownHosts)
      : cfgKnown !== undefined
        ? expand(cfgKnown)
        : defaultKnownHosts(env);
  const connectTimeout = first(c, 'connecttimeout');
  const readyTimeoutMs =
    input.timeoutMs ??
    (connectTimeout !== undefined && Number(connectTimeout) > 0
      ? Number(connectTimeout) * 1000
      : DEFAULT_READY_TIMEOUT_MS);

  const jumpSpec = input.proxyJump ?? first(c, 'proxyjump');
  let proxyJump: SshTarget | undefined;
  if (jumpSpec !== undefined && jumpSpec.toLowerCase() !== 'none') {
    if (depth >= MAX_JUMP_DEPTH) {
      throw new UsageError(
        'ssh-config.proxyjump-loop',
        `${input.node}: ProxyJump chain deeper than ${MAX_JUMP_DEPTH}`,
      );
    }
    const hops = jumpSpec.split(',').map((h) => h.trim());
    const last = hops.pop() ?? '';
    const spec = parseJumpSpec(last);
    proxyJump = resolveWith(
      {
        node: `${input.node} (jump ${spec.host})`,
        host: spec.host,
        user: spec.user,
        port: spec.port,
        // The inventory's known_hosts and key apply to its jump hosts unless their config says otherwise.
        knownHosts: cfgKnown === undefined ? input.knownHosts : undefined,
        // An explicit chain a,b reaches b through a (OpenSSH passes -J a to the hop to b).
        proxyJump: hops.length > 0 ? hops.join(',') : undefined,
        timeoutMs: input.timeoutMs,
      },
      options,
      config,
      depth + 1,
    );
    if (proxyJump.identityFiles.length === 0 && input.identityFile !== undefined) {
      proxyJump.identityFiles = [expand(input.identityFile)];
    }
  }
  return { node: input.node, host, port, user, identityFiles, knownHostsPath, proxyJump, readyTimeoutMs };
}

export interface SshConfigHost {
  alias: string;
  hostName: string;
  user?: string | undefined;
  port?: number | undefined;
}

/** Concrete `Host` aliases (no wildcard or negation), for `pgharden init --from-ssh-config`. */
export function listSshConfigHosts(text: string): SshConfigHost[] {
  const config = SSHConfig.parse(text);
  const aliases: string[] = [];
  for (const line of config) {
    if (line.type !== SSHConfig.DIRECTIVE || !/^host$/i.test(line.param)) continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    for (const v of values) {
      if (v !== '' && !/[*?!]/.test(v) && !aliases.includes(v)) aliases.push(v);
    }
  }
  return aliases.map((alias) => {
    const c = compute(config, alias, undefined);
    const port = first(c, 'port');
    return {
      alias,
      hostName: hostNameOf(c, alias),
      user: first(c, 'user'),
      port: port === undefined ? undefined : Number(port),
    };
  });
}
