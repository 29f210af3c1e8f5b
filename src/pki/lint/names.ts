// verify-full readiness of a server certificate: which names it carries and which `--host` match.
// libpq (fe-secure-openssl.c): a DNS host matches dNSName SANs, and the CN only when no dNSName SAN
// exists; an IP host matches iPAddress SANs (libpq ≥ 15) and, textually, dNSName SANs and the CN.
// rustls (webpki): DNS hosts match dNSName SANs only, IP hosts iPAddress SANs only; never the CN.
import { isIP } from 'node:net';
import type { ParsedCert } from '../import.js';
import { subjectAltNames } from '../inspect.js';
import { label, type LintContext } from './context.js';

const normalizeDns = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** RFC 6125 matching as libpq and webpki do it: a `*` only as the whole leftmost label. */
export function dnsNameMatches(pattern: string, host: string): boolean {
  const p = normalizeDns(pattern);
  const h = normalizeDns(host);
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot) === p.slice(1) && p.slice(2).includes('.');
}

/** Canonical text of an IP address (IPv6 expanded, lower case, no leading zeros). */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // An embedded IPv4 tail (::ffff:10.0.0.1) stays as text: rare, and still compared consistently.
  const fill = Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...(tail === undefined ? [] : fill), ...right]
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':');
}

export function checkNames(ctx: LintContext, leaf: ParsedCert, hosts: readonly string[]): void {
  const san = subjectAltNames(leaf);
  const cn = leaf.cert.subjectName.getField('CN')[0];
  const where = label(leaf);
  if (san.dns.length === 0 && san.ip.length === 0) {
    if (cn === undefined) {
      ctx.report('cert.no-san', `${where} has no subjectAltName and no CN: no host name can match it`, leaf);
    } else {
      ctx.report(
        'cert.cn-only',
        `${where} has no DNS or IP subjectAltName; libpq matches the CN "${cn}", rustls-based clients do not`,
        leaf,
      );
      if (!ctx.cnFallback) {
        ctx.report('cert.no-san', `${where} has no subjectAltName; rustls ignores its CN "${cn}"`, leaf);
      }
    }
  }
  for (const host of hosts) checkHost(ctx, leaf, host, san, cn);
}

function checkHost(
  ctx: LintContext,
  leaf: ParsedCert,
  host: string,
  san: { dns: string[]; ip: string[] },
  cn: string | undefined,
): void {
  const where = label(leaf);
  const names = [...san.dns.map((d) => `DNS:${d}`), ...san.ip.map((i) => `IP:${i}`)].join(', ') || 'none';
  if (isIP(host) !== 0) {
    const ip = canonicalIp(host);
    const inIpSan = san.ip.some((a) => canonicalIp(a) === ip);
    // libpq compares an IP host with dNSName SANs and the CN as plain text, in every version.
    const inDnsSan = san.dns.some((d) => normalizeDns(d) === host.toLowerCase());
    const inCn = cn === host;
    if (inIpSan) {
      if (!inDnsSan) {
        ctx.report(
          'cert.ip-san-libpq15',
          `${where}: ${host} matches an iPAddress SAN; libpq before 15 ignores iPAddress SANs and fails verify-full`,
          leaf,
        );
      }
    } else if (inDnsSan || inCn) {
      ctx.report(
        'cert.ip-needs-ip-san',
        `${where}: ${host} is only a ${inDnsSan ? 'DNS SAN' : 'CN'}, not an iPAddress SAN; rustls, OpenSSL, JDBC and Go clients fail verify-full`,
        leaf,
      );
    } else {
      ctx.report('cert.host-not-in-san', `${where}: ${host} is not in its subjectAltName (${names})`, leaf);
    }
    return;
  }
  if (san.dns.some((d) => dnsNameMatches(d, host))) return;
  const cnMatches = cn !== undefined && dnsNameMatches(cn, host);
  if (san.dns.length === 0 && cnMatches) {
    if (ctx.cnFallback) return; // cert.cn-only already says libpq relies on the CN
    ctx.report(
      'cert.host-not-in-san',
      `${where}: ${host} is only its CN; rustls matches subjectAltName only`,
      leaf,
    );
    return;
  }
  const cnNote = cnMatches ? ` (its CN matches, but libpq ignores the CN once a DNS SAN exists)` : '';
  ctx.report(
    'cert.host-not-in-san',
    `${where}: ${host} is not in its subjectAltName (${names})${cnNote}`,
    leaf,
  );
}
