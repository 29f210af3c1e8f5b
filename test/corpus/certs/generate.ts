// The bad-certificate corpus, generated at test time into a temporary directory (no key or
// certificate is ever committed). The `openssl` CLI makes most files, as operators' own tooling
// would; @peculiar/x509 makes the two it cannot date (already expired, not yet valid).
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { x509 } from '../../../src/pki/x509.js';

const run = promisify(execFile);

export const PASSPHRASE = 'corpus-passphrase-7f3a';

/** Runs jobs with at most `n` at a time: the machine has 2 cores, shared. */
async function pool(n: number, jobs: (() => Promise<unknown>)[]): Promise<void> {
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
    }),
  );
}

const CA_EXT = [
  'basicConstraints = critical,CA:TRUE',
  'keyUsage = critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier = hash',
];
const SERVER_EXT = [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature',
  'extendedKeyUsage = serverAuth',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
  'subjectAltName = DNS:db1.example.com,DNS:db1,IP:10.0.0.11',
];
const withExt = (base: string[], replace: Record<string, string | undefined>): string[] => {
  const keys = new Set(Object.keys(replace));
  const kept = base.filter((l) => !keys.has(l.split(' = ')[0] ?? ''));
  return [...kept, ...Object.entries(replace).flatMap(([k, v]) => (v === undefined ? [] : [`${k} = ${v}`]))];
};

export async function generateCorpus(dir: string): Promise<(name: string) => string> {
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const genEc = (name: string, curve: string) => () =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', p(name));
  const genRsa = (name: string, bits: number) => () =>
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', p(name));

  await pool(4, [
    // DSA parameter generation is the slowest job: start it first.
    async () => {
      await openssl(
        'genpkey',
        '-genparam',
        '-algorithm',
        'DSA',
        '-pkeyopt',
        'dsa_paramgen_bits:2048',
        '-out',
        p('dsa.param'),
      );
      await openssl('genpkey', '-paramfile', p('dsa.param'), '-out', p('dsa.key'));
    },
    genRsa('rsa2048.key', 2048),
    genRsa('rsa1024.key', 1024),
    genEc('ca.key', 'P-256'),
    genEc('leaf.key', 'P-256'),
    genEc('other.key', 'P-256'),
    genEc('int.key', 'P-256'),
    genEc('p521.key', 'P-521'),
    () => openssl('genpkey', '-algorithm', 'ED25519', '-out', p('ed25519.key')),
  ]);

  /** A certificate for `key`, signed by `ca` (self-signed when undefined), via `req -x509`. */
  const cert = (
    name: string,
    o: { key: string; cn: string; ext?: string[]; ca?: string; md?: string; days?: number },
  ) => {
    return async () => {
      const cnf = [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        ...(o.ext ? ['x509_extensions = ext'] : []),
        '[dn]',
        `CN = ${o.cn}`,
        ...(o.ext ? ['[ext]', ...o.ext] : []),
      ].join('\n');
      await writeFile(p(`${name}.cnf`), `${cnf}\n`);
      const signer = o.ca === undefined ? [] : ['-CA', p(`${o.ca}.crt`), '-CAkey', p(`${o.ca}.key`)];
      const md = o.md === undefined ? [] : [`-${o.md}`];
      const days = String(o.days ?? 365);
      await openssl(
        'req',
        '-x509',
        '-new',
        '-config',
        p(`${name}.cnf`),
        '-key',
        p(o.key),
        ...signer,
        ...md,
        '-days',
        days,
        '-out',
        p(name),
      );
    };
  };

  await pool(4, [
    cert('ca.crt', { key: 'ca.key', cn: 'pgharden corpus CA', ext: CA_EXT, days: 3650 }),
    cert('rsaca.crt', { key: 'rsa2048.key', cn: 'pgharden corpus RSA CA', ext: CA_EXT, days: 3650 }),
    cert('otherca.crt', { key: 'other.key', cn: 'some other CA', ext: CA_EXT, days: 3650 }),
    cert('dsaca.crt', { key: 'dsa.key', cn: 'pgharden corpus DSA CA', ext: CA_EXT, days: 3650 }),
  ]);
  await copyFile(p('rsa2048.key'), p('rsaca.key'));
  await copyFile(p('other.key'), p('otherca.key'));
  await copyFile(p('dsa.key'), p('dsaca.key'));

  const leaf = (
    name: string,
    o: { key?: string; cn?: string; ext?: string[]; ca?: string; md?: string; days?: number },
  ) => cert(name, { key: 'leaf.key', cn: 'db1', ext: SERVER_EXT, ca: 'ca', ...o });
  await pool(4, [
    cert('int.crt', {
      key: 'int.key',
      cn: 'pgharden corpus intermediate',
      ca: 'ca',
      ext: [...CA_EXT, 'authorityKeyIdentifier = keyid'],
    }),
    leaf('good.crt', {}),
    leaf('client.crt', {
      cn: 'app',
      ext: withExt(SERVER_EXT, { extendedKeyUsage: 'clientAuth', subjectAltName: undefined }),
    }),
    leaf('ca-leaf.crt', { ext: withExt(SERVER_EXT, { basicConstraints: 'critical,CA:TRUE' }) }),
    leaf('no-san.crt', {
      cn: 'pgharden test server',
      ext: withExt(SERVER_EXT, { subjectAltName: undefined }),
    }),
    leaf('cn-only.crt', { cn: 'db1.example.com', ext: withExt(SERVER_EXT, { subjectAltName: undefined }) }),
    leaf('ip-as-dns.crt', {
      ext: withExt(SERVER_EXT, { subjectAltName: 'DNS:db1.example.com,DNS:10.0.0.11' }),
    }),
    leaf('sha1.crt', { md: 'sha1' }),
    leaf('md5.crt', { ca: 'rsaca', md: 'md5' }),
    leaf('rsa1024.crt', { key: 'rsa1024.key' }),
    leaf('dsa.crt', { key: 'dsa.key' }),
    leaf('dsa-signed.crt', { ca: 'dsaca' }),
    leaf('ed25519.crt', { key: 'ed25519.key' }),
    leaf('p521.crt', { key: 'p521.key' }),
    leaf('eku-client-only.crt', { ext: withExt(SERVER_EXT, { extendedKeyUsage: 'clientAuth' }) }),
    leaf('critical-ext.crt', {
      ext: [...SERVER_EXT, '1.3.6.1.4.1.55555.1 = critical,ASN1:UTF8String:pgharden'],
    }),
    leaf('expires-soon.crt', { days: 10 }),
    leaf('expiring.crt', { days: 3 }),
    // v1: `x509 -req` without an extensions file writes a version 1 certificate.
    async () => {
      await openssl(
        'req',
        '-new',
        '-key',
        p('leaf.key'),
        '-subj',
        '/CN=db1.example.com',
        '-out',
        p('v1.csr'),
      );
      await openssl(
        'x509',
        '-req',
        '-in',
        p('v1.csr'),
        '-CA',
        p('ca.crt'),
        '-CAkey',
        p('ca.key'),
        '-set_serial',
        '7',
        '-days',
        '365',
        '-out',
        p('v1.crt'),
      );
    },
    () =>
      openssl(
        'pkcs8',
        '-topk8',
        '-v2',
        'aes-256-cbc',
        '-in',
        p('leaf.key'),
        '-passout',
        `pass:${PASSPHRASE}`,
        '-out',
        p('enc.key'),
      ),
    () =>
      openssl(
        'ec',
        '-in',
        p('leaf.key'),
        '-aes256',
        '-passout',
        `pass:${PASSPHRASE}`,
        '-out',
        p('legacy-enc.key'),
      ),
  ]);
  await cert('chain-leaf.crt', { key: 'leaf.key', cn: 'db1', ext: SERVER_EXT, ca: 'int' })();
  await writeFile(
    p('chain.crt'),
    (await readFile(p('chain-leaf.crt'), 'utf8')) + (await readFile(p('int.crt'), 'utf8')),
  );

  await datedWithLibrary(p);
  await derivedInputs(p);
  for (const key of ['ca.key', 'leaf.key', 'other.key', 'enc.key', 'legacy-enc.key'])
    await chmod(p(key), 0o600);
  await copyFile(p('leaf.key'), p('open.key'));
  await chmod(p('open.key'), 0o644);
  return p;
}

/** Expired and not-yet-valid leaves: openssl 3.0 cannot set notBefore/notAfter freely. */
async function datedWithLibrary(p: (name: string) => string): Promise<void> {
  const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' };
  const caKey = createPrivateKey(await readFile(p('ca.key')));
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    caKey.export({ type: 'pkcs8', format: 'der' }),
    ecdsa,
    false,
    ['sign'],
  );
  const spki = createPublicKey(createPrivateKey(await readFile(p('leaf.key')))).export({
    type: 'spki',
    format: 'der',
  });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, ecdsa, true, ['verify']);
  const ca = new x509.X509Certificate(await readFile(p('ca.crt'), 'utf8'));
  const day = 86_400_000;
  const make = async (name: string, from: number, to: number) => {
    const c = await x509.X509CertificateGenerator.create({
      subject: 'CN=db1',
      issuer: ca.subject,
      notBefore: new Date(Date.now() + from * day),
      notAfter: new Date(Date.now() + to * day),
      publicKey,
      signingKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'db1.example.com' }]),
      ],
    });
    await writeFile(p(name), c.toString('pem'));
  };
  await make('expired.crt', -400, -35);
  await make('not-yet-valid.crt', 2, 400);
}

/** Broken inputs cut from good ones: empty, DER, truncated, a key where a cert belongs. */
async function derivedInputs(p: (name: string) => string): Promise<void> {
  const good = await readFile(p('good.crt'), 'utf8');
  const lines = good.trimEnd().split('\n');
  await writeFile(p('empty.crt'), '');
  await writeFile(p('der.crt'), Buffer.from(lines.slice(1, -1).join(''), 'base64'));
  await writeFile(p('truncated.crt'), `${lines.slice(0, Math.ceil(lines.length / 2)).join('\n')}\n`);
  const body = lines.slice(1, -1);
  await writeFile(
    p('truncated-body.crt'),
    [lines[0], ...body.slice(0, Math.ceil(body.length / 2)), lines.at(-1), ''].join('\n'),
  );
  await writeFile(p('with-key.crt'), good + (await readFile(p('leaf.key'), 'utf8')));
  await writeFile(p('pass.txt'), `${PASSPHRASE}\n`);
  await writeFile(p('wrong-pass.txt'), 'not-the-passphrase\n');
}
