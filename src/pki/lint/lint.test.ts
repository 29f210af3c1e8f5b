import { createPublicKey, generateKeyPair, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeLeaf, type Issuer } from '../../../test/corpus/certs/forge.js';
import { toParsedCert } from '../import.js';
import { lintExitCode, makeFinding } from './finding.js';
import { inferUsage, lintCertificate, lintKey } from './lint.js';
import { canonicalIp, dnsNameMatches } from './names.js';
import { LINT_PROFILES } from './profiles.js';
import { RULES } from './rules.js';

let ca: Issuer;
beforeAll(async () => {
  ca = await makeCa();
});

const ids = (findings: { id: string }[]) => findings.map((f) => f.id).sort();

describe('host matching', () => {
  it.each<[string, string, boolean]>([
    ['db1.example.com', 'DB1.example.com.', true],
    ['*.example.com', 'db1.example.com', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.com', 'example.com', false],
    ['db*.example.com', 'db1.example.com', false],
  ])('%s vs %s → %s', (pattern, host, match) => {
    expect(dnsNameMatches(pattern, host)).toBe(match);
  });

  it.each([
    ['fd00::1', 'fd00:0:0:0:0:0:0:1'],
    ['FD00:0000::0001', 'fd00:0:0:0:0:0:0:1'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('canonicalIp(%s) = %s', (ip, canonical) => {
    expect(canonicalIp(ip)).toBe(canonical);
  });

  it('libpq and rustls disagree on the CN and IPs; the findings say so', async () => {
    const { cert } = await makeLeaf(ca, { dns: ['db1.example.com', '10.0.0.12'], ip: ['fd00::11'] });
    const lint = (profile: 'postgres' | 'rustls', hosts: string[]) =>
      lintCertificate({ certs: [cert], hosts, profile }).then(ids);
    expect(await lint('postgres', ['fd00:0::11'])).toEqual(['cert.ip-san-libpq15']);
    expect(await lint('rustls', ['fd00:0::11'])).toEqual([]);
    expect(await lint('postgres', ['10.0.0.12'])).toEqual(['cert.ip-needs-ip-san']);
    expect(await lint('rustls', ['db1', 'db1.example.com'])).toEqual(['cert.host-not-in-san']);
    // The CN "db1" does not count once a DNS SAN exists, not even for libpq.
    const r = await lintCertificate({ certs: [cert], hosts: ['db1'] });
    expect(r[0]?.message).toMatch(/its CN matches, but libpq ignores the CN once a DNS SAN exists/);
  });
});

describe('lintCertificate (engine API: library objects, no I/O)', () => {
  it('a leaf and its CryptoKey are clean in every profile; another key is key.mismatch', async () => {
    const { cert, keys } = await makeLeaf(ca);
    for (const profile of LINT_PROFILES) {
      const input = {
        certs: [cert],
        key: keys?.privateKey,
        caCerts: [ca.cert],
        hosts: ['db1.example.com'],
        profile,
      };
      expect(await lintCertificate(input)).toEqual([]);
      expect(ids(await lintCertificate({ ...input, key: ca.keys.privateKey }))).toEqual(['key.mismatch']);
    }
  });

  it('infers the usage: server with hosts or serverAuth, client for clientAuth only, CA for a lone root', async () => {
    const client = toParsedCert((await makeLeaf(ca, { eku: ['clientAuth'], dns: [] })).cert);
    expect(inferUsage(client)).toBe('client');
    expect(inferUsage(client, ['db1'])).toBe('server');
    expect(inferUsage(toParsedCert((await makeLeaf(ca, { eku: null })).cert))).toBe('server');
    expect(inferUsage(toParsedCert(ca.cert))).toBe('ca');
    expect(await lintCertificate({ certs: [ca.cert] })).toEqual([]);
  });

  it('an explicit client usage needs clientAuth in the EKU', async () => {
    const { cert } = await makeLeaf(ca, { eku: ['serverAuth'] });
    expect(ids(await lintCertificate({ certs: [cert], usage: 'client' }))).toEqual([
      'cert.eku-no-client-auth',
    ]);
  });

  it('checks a client certificate CN against the role when asked', async () => {
    const { cert } = await makeLeaf(ca, { cn: 'app', eku: ['clientAuth'], dns: [] });
    expect(await lintCertificate({ certs: [cert], clientRole: 'app' })).toEqual([]);
    expect(ids(await lintCertificate({ certs: [cert], clientRole: 'replicator' }))).toEqual([
      'cert.cn-not-role',
    ]);
  });

  it('RSA over 8192 bits is a rustls error (a public key nobody holds is enough)', async () => {
    const n = randomBytes(1100); // 8800 bits
    n[0] = (n[0] ?? 0) | 0x80;
    n[n.length - 1] = (n[n.length - 1] ?? 0) | 1;
    const spki = createPublicKey({
      key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' },
      format: 'jwk',
    });
    const der = spki.export({ type: 'spki', format: 'der' });
    const { cert } = await makeLeaf(ca, { publicKey: new Uint8Array(der).buffer });
    expect(ids(await lintCertificate({ certs: [cert], profile: 'rustls' }))).toEqual(['cert.rsa-too-large']);
    expect(await lintCertificate({ certs: [cert], profile: 'postgres' })).toEqual([]);
  });

  it('curves rustls cannot use: secp256k1', async () => {
    const k = await promisify(generateKeyPair)('ec', { namedCurve: 'secp256k1' });
    const der = k.publicKey.export({ type: 'spki', format: 'der' });
    const { cert } = await makeLeaf(ca, { publicKey: new Uint8Array(der).buffer });
    expect(ids(await lintCertificate({ certs: [cert], profile: 'fips' }))).toEqual([
      'cert.unsupported-key',
      'fips.curve',
    ]);
  });

  it('chain.untrusted says why: an issuer that is no CA, an expired CA', async () => {
    const notCa = await makeCa('CN=not a CA', { signer: ca, ca: false });
    const { cert } = await makeLeaf(notCa);
    const r = await lintCertificate({ certs: [cert, notCa.cert], caCerts: [ca.cert], profile: 'rustls' });
    expect(r.find((f) => f.id === 'chain.untrusted')?.message).toMatch(/signed it but is not a CA/);
    const old = await makeCa('CN=old CA', { days: -1 });
    const leaf = await makeLeaf(old);
    const r2 = await lintCertificate({ certs: [leaf.cert], caCerts: [old.cert] });
    expect(r2.find((f) => f.id === 'chain.untrusted')?.message).toMatch(/its CA CN=old CA expired on/);
  });
});

describe('key file mode (PostgreSQL be-secure-common.c)', () => {
  it.each<[number, number, boolean]>([
    [0o600, 1000, true],
    [0o400, 1000, true],
    [0o640, 1000, false],
    [0o640, 0, true],
    [0o440, 0, true],
    [0o660, 0, false],
    [0o644, 0, false],
    [0o604, 1000, false],
  ])('mode %o owned by uid %i → ok %s', (mode, uid, ok) => {
    const findings = lintKey({ keyFile: { mode: 0o100000 | mode, uid, gid: 0 }, keyName: 'server.key' });
    expect(findings.length === 0).toBe(ok);
    if (!ok)
      expect(findings[0]).toMatchObject({ id: 'key.permissions', severity: 'error', file: 'server.key' });
  });

  it('is a warning for rustls, where no server refuses to start over it', () => {
    expect(lintKey({ keyFile: { mode: 0o644, uid: 1000, gid: 0 }, profile: 'pgdog' })[0]).toMatchObject({
      severity: 'warning',
      profile: 'rustls',
    });
  });
});

describe('rules as data', () => {
  it('profiles inherit: a rustls rule under pgdog comes from rustls; postgres-only rules stay out of rustls', () => {
    expect(makeFinding('pgdog', 'cert.v1', 'm')).toMatchObject({ profile: 'rustls', severity: 'error' });
    expect(makeFinding('pgdog', 'chain.pgdog-first-block-only', 'm')).toMatchObject({ profile: 'pgdog' });
    expect(makeFinding('rustls', 'cert.cn-only', 'm')).toBeUndefined();
    expect(makeFinding('postgres', 'fips.ed25519', 'm')).toBeUndefined();
  });

  it('exit codes: input findings 2, errors 3, else 0', () => {
    const f = (id: 'pem.empty' | 'cert.expired' | 'cert.cn-only') => makeFinding('postgres', id, 'm');
    const all = (xs: ReturnType<typeof f>[]) => xs.filter((x) => x !== undefined);
    expect(lintExitCode(all([f('cert.cn-only')]))).toBe(0);
    expect(lintExitCode(all([f('cert.cn-only'), f('cert.expired')]))).toBe(3);
    expect(lintExitCode(all([f('cert.expired'), f('pem.empty')]))).toBe(2);
  });

  it('ids are unique and dotted, and docs/lint-rules.md lists each with its severities', async () => {
    const doc = await readFile(new URL('../../../docs/lint-rules.md', import.meta.url), 'utf8');
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z]+\.[a-z0-9-]+$/);
      const row = doc.split('\n').find((l) => l.replace(/ +/g, ' ').startsWith(`| \`${rule.id}\` |`));
      expect(row, rule.id).toBeDefined();
      for (const [profile, severity] of Object.entries(rule.severity))
        expect(row).toContain(`${profile}: ${severity}`);
    }
  });
});
