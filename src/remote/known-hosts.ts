// OpenSSH known_hosts: parse, look a host key up, append. Semantics follow OpenSSH's hostfile.c:
// several keys per host are allowed, a key of the same type that differs is a changed key, a
// matching @revoked line refuses the key whatever else matches.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

export type HostPattern =
  { kind: 'hashed'; salt: Buffer; hash: Buffer } | { kind: 'pattern'; negated: boolean; regex: RegExp };

export interface KnownHostEntry {
  /** 1-based line number in the file, for error messages. */
  line: number;
  marker: 'revoked' | undefined;
  patterns: HostPattern[];
  keyType: string;
  key: Buffer;
}

export type HostKeyCheck =
  | { status: 'match'; line: number }
  | { status: 'unknown'; knownTypes: string[] }
  | { status: 'changed'; knownTypes: string[]; line: number }
  | { status: 'revoked'; line: number };

/** The string OpenSSH matches patterns against and hashes: `host`, or `[host]:port` off port 22. */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function globToRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`, 'i');
}

function parsePatterns(field: string): HostPattern[] | undefined {
  if (field.startsWith('|1|')) {
    const [salt, hash, ...rest] = field.slice(3).split('|');
    if (salt === undefined || hash === undefined || rest.length > 0) return undefined;
    return [{ kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }];
  }
  return field
    .split(',')
    .filter((p) => p !== '')
    .map((p) => {
      const negated = p.startsWith('!');
      return { kind: 'pattern', negated, regex: globToRegex(negated ? p.slice(1) : p) };
    });
}

/** First SSH string of a public key blob: its type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** Unparseable lines are skipped, as ssh does; `@cert-authority` lines too (not supported here). */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      if (fields[0] !== '@revoked') return;
      marker = 'revoked';
      fields.shift();
    }
    const [hostField, keyType, keyB64] = fields;
    if (hostField === undefined || keyType === undefined || keyB64 === undefined) return;
    if (!/^[A-Za-z0-9+/]+=*$/.test(keyB64)) return;
    const patterns = parsePatterns(hostField);
    const key = Buffer.from(keyB64, 'base64');
    if (patterns === undefined || patterns.length === 0 || key.length === 0) return;
    entries.push({ line: i + 1, marker, patterns, keyType: keyTypeOfBlob(key) ?? keyType, key });
  });
  return entries;
}

function hashHost(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** OpenSSH match_hostname: a negated match vetoes the entry, else any positive match selects it. */
export function entryMatchesHost(entry: KnownHostEntry, lookupName: string): boolean {
  let positive = false;
  for (const p of entry.patterns) {
    if (p.kind === 'hashed') {
      const h = hashHost(lookupName, p.salt);
      if (h.length === p.hash.length && timingSafeEqual(h, p.hash)) positive = true;
    } else if (p.regex.test(lookupName)) {
      if (p.negated) return false;
      positive = true;
    }
  }
  return positive;
}

export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyCheck {
  const name = hostLookupName(host, port);
  const forHost = entries.filter((e) => entryMatchesHost(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(keyBlob));
  if (revoked !== undefined) return { status: 'revoked', line: revoked.line };
  const usable = forHost.filter((e) => e.marker === undefined);
  const exact = usable.find((e) => e.key.equals(keyBlob));
  if (exact !== undefined) return { status: 'match', line: exact.line };
  const knownTypes = [...new Set(usable.map((e) => e.keyType))];
  const sameType = usable.find((e) => e.keyType === keyType);
  if (sameType !== undefined) return { status: 'changed', knownTypes, line: sameType.line };
  return { status: 'unknown', knownTypes };
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// Appends from parallel connects (one pool, many nodes) go through one chain per file, so the
// trailing-newline check and the append cannot interleave.
const appendChains = new Map<string, Promise<void>>();

export async function appendKnownHost(
  path: string,
  host: string,
  port: number,
  keyType: string,
  blobBase64: string,
  options: { hashed?: boolean } = {},
): Promise<void> {
  const name = hostLookupName(host, port);
  let hostField = name;
  if (options.hashed === true) {
    const salt = randomBytes(20);
    hostField = `|1|${salt.toString('base64')}|${hashHost(name, salt).toString('base64')}`;
  }
  const line = `${hostField} ${keyType} ${blobBase64}\n`;
  const previous = appendChains.get(path) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => appendLine(path, line));
  appendChains.set(path, next);
  try {
    await next;
  } finally {
    if (appendChains.get(path) === next) appendChains.delete(path);
  }
}

async function appendLine(path: string, line: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // 'a+' creates with 0600 when missing and never truncates; read the last byte to avoid gluing our
  // line onto a last line that has no newline.
  const fh = await open(path, 'a+', 0o600);
  try {
    const { size } = await fh.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await appendFile(fh, prefix + line);
  } finally {
    await fh.close();
  }
}
