// A pasted host list → inventory nodes (SPEC §4 screen 2, "paste list"). One node per line:
//   [name] host[:sshPort] [primary|standby]
// e.g. `pg1 127.0.1.11 primary`, `db2.example.com:2222`, `[fd00::5]:22 standby`. Blank lines and
// `#` comments are skipped; commas count as spaces. Every bad line gets its own error.
import { isIP } from 'node:net';
import type { NodeRole } from './state.js';

export interface PastedNode {
  name: string;
  host: string;
  /** SSH port, when given as host:port. */
  port?: number | undefined;
  role?: NodeRole | undefined;
}

export interface HostListError {
  line: number;
  text: string;
  message: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ROLES: readonly string[] = ['primary', 'standby'];

function splitHostPort(token: string): { host: string; port?: string } | string {
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(token);
  if (bracket !== null) {
    const host = bracket[1] ?? '';
    if (isIP(host) !== 6) return `${host} in [ ] is not an IPv6 address`;
    return bracket[2] === undefined ? { host } : { host, port: bracket[2] };
  }
  if (isIP(token) === 6) return { host: token }; // a bare IPv6 address has no port
  const colon = token.lastIndexOf(':');
  if (colon < 0) return { host: token };
  if (token.indexOf(':') !== colon) return `${token}: write an IPv6 address with a port as [address]:port`;
  return { host: token.slice(0, colon), port: token.slice(colon + 1) };
}

function parseLine(text: string): PastedNode | string {
  const tokens = text
    .replace(/#.*$/, '')
    .split(/[\s,]+/)
    .filter((t) => t !== '');
  let role: NodeRole | undefined;
  const last = tokens.at(-1);
  if (tokens.length > 1 && last !== undefined && ROLES.includes(last.toLowerCase())) {
    role = last.toLowerCase() as NodeRole;
    tokens.pop();
  }
  if (tokens.length > 2) return `expected [name] host[:port] [primary|standby], got ${tokens.length} words`;
  const [first = '', second] = tokens;
  const hostToken = second ?? first;
  const hp = splitHostPort(hostToken);
  if (typeof hp === 'string') return hp;
  if (hp.host === '') return `no host in ${hostToken}`;
  if (!/^[A-Za-z0-9._:-]+$/.test(hp.host)) return `${hp.host} is not a host name or address`;
  let port: number | undefined;
  if (hp.port === '') return `no port after ":" in ${hostToken}`;
  if (hp.port !== undefined) {
    port = /^\d{1,5}$/.test(hp.port) ? Number(hp.port) : NaN;
    if (!(port >= 1 && port <= 65535)) return `port ${hp.port} is not a number from 1 to 65535`;
  }
  const name =
    second === undefined ? hp.host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') : first;
  if (!NAME.test(name)) return `node name ${name} must be letters, digits, ".", "_" and "-"`;
  return {
    name,
    host: hp.host,
    ...(port === undefined ? {} : { port }),
    ...(role === undefined ? {} : { role }),
  };
}

export function parseHostList(text: string): { nodes: PastedNode[]; errors: HostListError[] } {
  const nodes: PastedNode[] = [];
  const errors: HostListError[] = [];
  const names = new Map<string, number>();
  let primaryLine: number | undefined;
  text.split(/\r?\n|\r/).forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const r = parseLine(text);
    if (typeof r === 'string') {
      errors.push({ line, text, message: r });
      return;
    }
    const seen = names.get(r.name);
    if (seen !== undefined) {
      errors.push({ line, text, message: `node name ${r.name} is already on line ${seen}` });
      return;
    }
    if (r.role === 'primary') {
      if (primaryLine !== undefined) {
        errors.push({ line, text, message: `a second primary (line ${primaryLine} has one)` });
        return;
      }
      primaryLine = line;
    }
    names.set(r.name, line);
    nodes.push(r);
  });
  if (nodes.length === 0 && errors.length === 0) {
    errors.push({ line: 1, text: '', message: 'no hosts: paste one node per line' });
  }
  return { nodes, errors };
}
