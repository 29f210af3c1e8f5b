// Numeric IPv4/IPv6 addresses and CIDR ranges as bytes, for hba address columns and range math.
// Pure: no DNS, no node:net (a numeric parse is all pg_hba.conf's AI_NUMERICHOST lookup does).

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
}

export interface IpRange extends IpAddress {
  readonly prefix: number;
}

export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 6, bytes: v6 };
}

// What getaddrinfo(AI_NUMERICHOST) accepts on glibc, i.e. inet_aton: one to four parts, each decimal,
// octal (leading 0) or hex (0x), the last part filling the remaining bytes. So `010.0.0.1` is
// 8.0.0.1 and `10.1` is 10.0.0.1 to PostgreSQL, and to us.
function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const value = /^0[xX][0-9a-fA-F]+$/.test(part)
      ? parseInt(part.slice(2), 16)
      : /^0[0-7]*$/.test(part)
        ? parseInt(part, 8)
        : /^[1-9][0-9]*$/.test(part)
          ? Number(part)
          : NaN;
    if (Number.isNaN(value)) return undefined;
    values.push(value);
  }
  const last = values.pop() ?? NaN;
  if (values.some((v) => v > 255) || !(last < 2 ** (8 * (4 - values.length)))) return undefined;
  const bytes = new Uint8Array(4);
  values.forEach((v, i) => (bytes[i] = v));
  for (let i = 3; i >= values.length; i -= 1) bytes[i] = Math.floor(last / 2 ** (8 * (3 - i))) % 256;
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined; // zone ids (`%eth0`) are not supported
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

export function maxPrefix(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** `10.0.0.0/8`, or a bare address as a single-host range. */
export function parseRange(text: string): IpRange | undefined {
  const [address = '', prefixText, ...rest] = text.split('/');
  const ip = parseIp(address);
  if (ip === undefined || rest.length > 0) return undefined;
  if (prefixText === undefined) return { ...ip, prefix: maxPrefix(ip.family) };
  const prefix = parsePrefix(prefixText, ip.family);
  return prefix === undefined ? undefined : { ...ip, prefix };
}

/** The prefix after the slash as pg_sockaddr_cidr_mask reads it (strtol, whole string, in range). */
export function parsePrefix(text: string, family: IpFamily): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const bits = Number(text);
  return bits >= 0 && bits <= maxPrefix(family) ? bits : undefined;
}

/** A netmask as a prefix length; undefined when the mask's ones are not contiguous. */
export function maskToPrefix(mask: IpAddress): number | undefined {
  let prefix = 0;
  let seenZero = false;
  for (let i = 0; i < mask.bytes.length * 8; i += 1) {
    const one = bitAt(mask.bytes, i) === 1;
    if (one && seenZero) return undefined;
    if (one) prefix += 1;
    else seenZero = true;
  }
  return prefix;
}

function bitAt(bytes: Uint8Array, i: number): number {
  return ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i += 1) if (bitAt(a, i) !== bitAt(b, i)) return false;
  return true;
}

export function rangeContainsAddress(range: IpRange, ip: IpAddress): boolean {
  return range.family === ip.family && samePrefix(range.bytes, ip.bytes, range.prefix);
}

/** Every address of `inner` is in `outer`. */
export function rangeContainsRange(outer: IpRange, inner: IpRange): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    samePrefix(outer.bytes, inner.bytes, outer.prefix)
  );
}

export function isLoopback(range: IpRange): boolean {
  const loopback = range.family === 4 ? parseRange('127.0.0.0/8') : parseRange('::1/128');
  return loopback !== undefined && rangeContainsRange(loopback, range);
}
