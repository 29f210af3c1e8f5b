// pgpool.conf and pool_hba.conf, edited in place with every comment and byte kept. pgpool.conf has the
// grammar of postgresql.conf (pgpool's own lexer is a copy of guc-file.l: `name [=] value [# comment]`),
// so it is parsed by postgresql-conf.ts; pool_hba.conf has pg_hba.conf's syntax (a subset of its
// methods), so it is parsed by hba.ts and gets the same managed block.
import { parseHba, serializeHba } from './hba.js';
import { setManagedBlock } from './hba-edit.js';
import {
  effective,
  parseConf,
  serializeConf,
  setParam,
  type ConfFile,
  type ConfValue,
} from './postgresql-conf.js';

export interface PgpoolConfProblem {
  line: number;
  message: string;
}

/** pgpool.conf parsed; `problems` holds lines pgpool would refuse (it has no include directives). */
export function parsePgpoolConf(text: string): { file: ConfFile; problems: PgpoolConfProblem[] } {
  const file = parseConf(text);
  const problems: PgpoolConfProblem[] = [
    ...file.errors.map((e) => ({ line: e.line, message: e.message })),
    ...file.includes.map((i) => ({ line: i.line, message: `${i.directive} is not a pgpool.conf directive` })),
  ];
  return { file, problems: problems.sort((a, b) => a.line - b.line) };
}

/** The value pgpool reads for `name` (the last occurrence), or undefined when the file does not set it. */
export function pgpoolSetting(file: ConfFile, name: string): string | undefined {
  return effective(file, name)?.value;
}

/** Sets each setting in place (its comment stays) or appends it; values already right are not touched. */
export function setPgpoolSettings(text: string, settings: Readonly<Record<string, ConfValue>>): string {
  let file = parseConf(text);
  for (const [name, value] of Object.entries(settings)) file = setParam(file, name, value);
  return serializeConf(file);
}

export interface PgpoolBackend {
  index: number;
  host: string;
  port: number;
}

/** backend_hostnameN / backend_portN pairs (port default 5432), by N. */
export function pgpoolBackends(file: ConfFile): PgpoolBackend[] {
  const out: PgpoolBackend[] = [];
  for (const p of file.params) {
    const m = /^backend_hostname(\d+)$/.exec(p.key);
    if (m === null || p.value === '') continue;
    const index = Number(m[1]);
    if (out.some((b) => b.index === index)) continue;
    const host = pgpoolSetting(file, p.key) ?? p.value;
    const port = Number(pgpoolSetting(file, `backend_port${index}`) ?? '5432');
    out.push({ index, host, port: Number.isInteger(port) ? port : 5432 });
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * pool_hba.conf with pgharden's managed block at the top: `hostssl all all <cidr> scram-sha-256` per
 * network, then `hostnossl … reject` for every address. pgpool reads rules first match wins, so the
 * operator's rules below still decide for `local` (socket) connections, which these never match.
 */
export function poolHbaRules(networks: readonly string[]): string[] {
  return [
    ...networks.map((cidr) => `hostssl   all  all  ${cidr}  scram-sha-256`),
    'hostnossl all  all  0.0.0.0/0  reject',
    'hostnossl all  all  ::/0  reject',
  ];
}

export function setPoolHbaBlock(text: string, networks: readonly string[]): string {
  return serializeHba(setManagedBlock(parseHba(text), poolHbaRules(networks), { position: 'top' }));
}

/** pool_hba.conf's own parse errors (the same grammar as pg_hba.conf). */
export function poolHbaProblems(text: string): PgpoolConfProblem[] {
  return parseHba(text).errors.map((e) => ({ line: e.line, message: e.message }));
}

/** Users of a pool_passwd file (`user:secret` lines); the secrets never leave this function. */
export function poolPasswdUsers(text: string): { user: string; kind: 'md5' | 'aes' | 'text' | 'scram' }[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#') && l.includes(':'))
    .map((l) => {
      const i = l.indexOf(':');
      const secret = l.slice(i + 1);
      const kind = secret.startsWith('md5')
        ? 'md5'
        : secret.startsWith('AES')
          ? 'aes'
          : secret.startsWith('SCR')
            ? 'scram'
            : 'text';
      return { user: l.slice(0, i), kind };
    });
}
