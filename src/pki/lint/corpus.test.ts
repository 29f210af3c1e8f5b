// The bad-certificate corpus (issue 4 acceptance): each generated file, run through the real
// `certs lint` handler, gives the expected finding id and exit code.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, PASSPHRASE } from '../../../test/corpus/certs/generate.js';
import { certsInspectCommand } from '../../cli/certs-inspect.js';
import { certsLintCommand } from '../../cli/certs-lint.js';
import type { GlobalOptions } from '../../cli/io.js';

let dir = '';
let p: (name: string) => string = (n) => n;
let generationMs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgh-corpus-'));
  const t = performance.now();
  p = await generateCorpus(dir);
  generationMs = performance.now() - t;
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function capture(run: (io: Parameters<typeof certsLintCommand>[3]) => Promise<number>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run({ stdout, stderr, env: {}, stdinTTY: false, stdoutTTY: false });
  return { code, out, err };
}

interface Flags {
  profile?: string;
  ca?: string;
  key?: string;
  host?: string[];
  passphraseFile?: string;
}

async function lint(files: string[], flags: Flags = {}, global: GlobalOptions = { json: true }) {
  const opts = {
    profile: flags.profile ?? 'postgres',
    ...(flags.ca ? { ca: p(flags.ca) } : {}),
    ...(flags.key ? { key: p(flags.key) } : {}),
    ...(flags.host ? { host: flags.host } : {}),
    ...(flags.passphraseFile ? { passphraseFile: p(flags.passphraseFile) } : {}),
  };
  const r = await capture((io) => certsLintCommand(files.map(p), opts, global, io));
  const lines = (global.json === true ? r.out.trim().split('\n') : [])
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; id?: string; severity?: string; exitCode?: number });
  const findings = lines.filter((l) => l.type === 'finding');
  return { ...r, ids: findings.map((f) => f.id), findings, summary: lines.at(-1) };
}

const SERVER = { host: ['db1.example.com'] };

describe('bad-certificate corpus → finding id and exit code', () => {
  // The first id is the one the case is about; the list is exact, so no case hides a stray finding.
  it.each<[string, string[], Flags, string[], 0 | 2 | 3]>([
    ['expired', ['expired.crt'], SERVER, ['cert.expired'], 3],
    ['not yet valid', ['not-yet-valid.crt'], SERVER, ['cert.not-yet-valid'], 3],
    ['< 30 days left', ['expires-soon.crt'], SERVER, ['cert.expires-soon'], 0],
    ['< 7 days left', ['expiring.crt'], SERVER, ['cert.expiring'], 3],
    ['CA:TRUE leaf (rustls)', ['ca-leaf.crt'], { ...SERVER, profile: 'rustls' }, ['cert.leaf-is-ca'], 3],
    ['CA:TRUE leaf (postgres warns)', ['ca-leaf.crt'], SERVER, ['cert.leaf-is-ca'], 0],
    ['no SAN (rustls)', ['no-san.crt'], { profile: 'rustls' }, ['cert.no-san'], 3],
    ['CN-only (libpq falls back)', ['cn-only.crt'], SERVER, ['cert.cn-only'], 0],
    [
      'CN-only under rustls',
      ['cn-only.crt'],
      { ...SERVER, profile: 'rustls' },
      ['cert.no-san', 'cert.host-not-in-san'],
      3,
    ],
    ['SAN missing the host', ['good.crt'], { host: ['db2.example.com'] }, ['cert.host-not-in-san'], 3],
    ['IP only as a DNS SAN', ['ip-as-dns.crt'], { host: ['10.0.0.11'] }, ['cert.ip-needs-ip-san'], 3],
    ['IP SAN needs libpq ≥ 15', ['good.crt'], { host: ['10.0.0.11'] }, ['cert.ip-san-libpq15'], 0],
    ['SHA-1 signed', ['sha1.crt'], SERVER, ['cert.weak-signature'], 3],
    ['MD5 signed', ['md5.crt'], SERVER, ['cert.md5-signature'], 3],
    ['RSA-1024', ['rsa1024.crt'], SERVER, ['cert.rsa-too-small'], 3],
    ['DSA', ['dsa.crt'], SERVER, ['cert.dsa-key'], 3],
    [
      'DSA-signed (rustls)',
      ['dsa-signed.crt'],
      { ...SERVER, profile: 'rustls' },
      ['cert.unsupported-signature'],
      3,
    ],
    ['a key inside the certificate file', ['with-key.crt'], SERVER, ['pem.private-key-in-cert-file'], 0],
    [
      'v1 certificate (rustls)',
      ['v1.crt'],
      { ...SERVER, profile: 'rustls' },
      ['cert.v1', 'cert.no-san', 'cert.host-not-in-san'],
      3,
    ],
    ['EKU clientAuth-only used as server', ['eku-client-only.crt'], SERVER, ['cert.eku-no-server-auth'], 3],
    ['unknown critical extension', ['critical-ext.crt'], SERVER, ['cert.unknown-critical-extension'], 3],
    ['key not matching', ['good.crt'], { ...SERVER, key: 'other.key' }, ['key.mismatch'], 3],
    [
      'encrypted key, no passphrase',
      ['good.crt'],
      { ...SERVER, key: 'enc.key' },
      ['key.encrypted-no-passphrase', 'key.encrypted'],
      2,
    ],
    [
      'wrong passphrase',
      ['good.crt'],
      { ...SERVER, key: 'enc.key', passphraseFile: 'wrong-pass.txt' },
      ['key.wrong-passphrase', 'key.encrypted'],
      2,
    ],
    [
      'legacy PEM, wrong passphrase',
      ['good.crt'],
      { key: 'legacy-enc.key', passphraseFile: 'wrong-pass.txt' },
      ['key.wrong-passphrase', 'key.encrypted'],
      2,
    ],
    [
      'encrypted key, right passphrase',
      ['good.crt'],
      { ...SERVER, key: 'enc.key', passphraseFile: 'pass.txt' },
      ['key.encrypted'],
      3,
    ],
    ['key file 0644', ['good.crt'], { ...SERVER, key: 'open.key' }, ['key.permissions'], 3],
    ['truncated PEM (no END)', ['truncated.crt'], {}, ['pem.truncated'], 2],
    ['truncated PEM body', ['truncated-body.crt'], {}, ['pem.truncated'], 2],
    ['DER given as PEM', ['der.crt'], {}, ['pem.no-block'], 2],
    ['empty file', ['empty.crt'], {}, ['pem.empty'], 2],
    ['a key where a certificate belongs', ['leaf.key'], {}, ['pem.unexpected-block'], 2],
    ['missing file', ['nope.crt'], {}, ['file.unreadable'], 2],
    [
      'chain file under pgdog',
      ['chain.crt'],
      { ...SERVER, ca: 'ca.crt', profile: 'pgdog' },
      ['chain.pgdog-first-block-only'],
      0,
    ],
    ['signed by another CA', ['good.crt'], { ...SERVER, ca: 'otherca.crt' }, ['chain.untrusted'], 3],
    ['fips: Ed25519 leaf', ['ed25519.crt'], { ...SERVER, profile: 'fips' }, ['fips.ed25519'], 3],
    ['fips: P-521 key', ['p521.crt'], { ...SERVER, profile: 'fips' }, ['fips.curve'], 3],
    [
      'fips: SHA-1 signature',
      ['sha1.crt'],
      { ...SERVER, profile: 'fips' },
      ['fips.signature', 'cert.weak-signature'],
      3,
    ],
  ])('%s → %s', async (_name, files, flags, ids, exitCode) => {
    const r = await lint(files, flags);
    expect(r.ids).toContain(ids[0]);
    expect([...r.ids].sort()).toEqual([...ids].sort());
    expect(r.code).toBe(exitCode);
    expect(r.summary).toMatchObject({ type: 'summary', command: 'certs lint', exitCode });
  });

  it.each(['postgres', 'rustls', 'pgdog', 'fips'])(
    'a good server certificate is clean under %s',
    async (profile) => {
      const r = await lint(['good.crt'], { ...SERVER, ca: 'ca.crt', key: 'leaf.key', profile });
      expect(r.findings).toEqual([]);
      expect(r.code).toBe(0);
    },
  );

  it.each(['postgres', 'rustls', 'pgdog', 'fips'])(
    'a good client certificate is clean under %s',
    async (profile) => {
      const r = await lint(['client.crt'], { ca: 'ca.crt', key: 'leaf.key', profile });
      expect(r.findings).toEqual([]);
    },
  );

  it('the chain verifies through its intermediate, and rustls accepts the IP SAN', async () => {
    expect((await lint(['chain.crt'], { ...SERVER, ca: 'ca.crt' })).findings).toEqual([]);
    expect((await lint(['good.crt'], { host: ['10.0.0.11'], profile: 'rustls' })).findings).toEqual([]);
  });

  it('the legacy encrypted PEM decrypts with the right passphrase', async () => {
    const r = await lint(['good.crt'], { key: 'legacy-enc.key', passphraseFile: 'pass.txt' });
    expect(r.ids).toEqual(['key.encrypted']);
  });

  it('human output: a line per finding with severity, id, message and fix', async () => {
    const r = await lint(['expired.crt'], SERVER, {});
    expect(r.out).toMatch(/✗ error +cert\.expired +\S*expired\.crt expired on \d{4}-\d\d-\d\d/);
    expect(r.out).toMatch(/fix: Issue a new certificate/);
    expect(r.out).toMatch(/certs lint \(postgres\): 1 file\(s\), 1 error/);
  });

  it('never prints key material or the passphrase', async () => {
    const key = await readFile(p('leaf.key'), 'utf8');
    const keyBody = key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    const runs = [
      await lint(['leaf.key', 'good.crt'], { key: 'enc.key', passphraseFile: 'pass.txt' }),
      await lint(['leaf.key'], { key: 'legacy-enc.key', passphraseFile: 'wrong-pass.txt' }, {}),
      await capture((io) => certsInspectCommand([p('leaf.key'), p('good.crt')], { json: true }, io)),
      await capture((io) => certsInspectCommand([p('enc.key'), p('with-key.crt')], {}, io)),
      await lint(['with-key.crt'], { key: 'with-key.crt' }, {}),
    ];
    for (const r of runs) {
      const all = r.out + r.err;
      expect(all).not.toContain('PRIVATE KEY-----');
      for (const line of keyBody) expect(all).not.toContain(line);
      expect(all).not.toContain(PASSPHRASE);
    }
  });

  it(`generates in a few seconds`, () => {
    expect(generationMs).toBeLessThan(20_000);
    console.log(`corpus generated in ${Math.round(generationMs)} ms`);
  });
});
