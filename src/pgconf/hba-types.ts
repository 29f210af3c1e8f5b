// Types of the pg_hba.conf model (kept apart so the record parser and the model do not import each other).
import type { AuthInclude } from './auth-tokenize.js';
import type { Eol } from './lines.js';

export const HBA_CONNECTION_TYPES = [
  'local',
  'host',
  'hostssl',
  'hostnossl',
  'hostgssenc',
  'hostnogssenc',
] as const;
export type HbaConnectionType = (typeof HBA_CONNECTION_TYPES)[number];

/** PostgreSQL 13–17 methods, plus `oauth` (PostgreSQL 18) so newer files do not read as broken. */
export const HBA_METHODS = [
  'trust',
  'reject',
  'scram-sha-256',
  'md5',
  'password',
  'gss',
  'sspi',
  'ident',
  'peer',
  'pam',
  'ldap',
  'radius',
  'cert',
  'bsd',
  'oauth',
] as const;
export type HbaMethod = (typeof HBA_METHODS)[number];

/**
 * One entry of a database or user list. `keyword`: all, sameuser, samerole, samegroup, replication
 * (database column), all (user column) — only when written without quotes. `group`: `+role` (user
 * column). `file`: `@file`, not resolved. `regex`: `/pattern` (PostgreSQL 16+; older servers compare
 * it as a plain name).
 */
export interface HbaToken {
  readonly kind: 'keyword' | 'name' | 'group' | 'file' | 'regex';
  /** Without the `+`, `@` or `/` marker. */
  readonly value: string;
  /** Written in double quotes (PostgreSQL's `quoted`: quoted keywords are plain names). */
  readonly quoted: boolean;
}

export type HbaAddress =
  | { readonly kind: 'cidr'; readonly address: string; readonly prefix: number; readonly family: 4 | 6 }
  | { readonly kind: 'keyword'; readonly value: 'all' | 'samehost' | 'samenet' }
  | { readonly kind: 'hostname'; readonly value: string };

export interface HbaRule {
  /** 1-based line of the record's first physical line. */
  readonly line: number;
  readonly type: HbaConnectionType;
  readonly databases: readonly HbaToken[];
  readonly users: readonly HbaToken[];
  /** Absent for `local`. */
  readonly address?: HbaAddress;
  readonly method: HbaMethod;
  /** `name=value` options in file order. */
  readonly options: Readonly<Record<string, string>>;
  /** Text after `#`, trimmed. */
  readonly comment?: string;
}

/** `include`, `include_if_exists`, `include_dir` records (PostgreSQL 16+); not followed. */
export type HbaInclude = AuthInclude;

export interface HbaParseError {
  readonly id: 'hba.unparseable';
  readonly line: number;
  readonly message: string;
}

interface HbaLineBase {
  readonly line: number;
  readonly text: string;
  readonly eol: Eol;
}
export type HbaLine = HbaLineBase &
  (
    | { readonly kind: 'blank' | 'comment' }
    | { readonly kind: 'rule'; readonly rule: HbaRule }
    | { readonly kind: 'include'; readonly include: HbaInclude }
    | { readonly kind: 'error'; readonly error: HbaParseError }
    /** A physical line pulled into the record starting on line `of` by a trailing backslash. */
    | { readonly kind: 'continuation'; readonly of: number }
  );

export interface HbaFile {
  readonly lines: readonly HbaLine[];
  readonly rules: readonly HbaRule[];
  readonly includes: readonly HbaInclude[];
  readonly errors: readonly HbaParseError[];
}
