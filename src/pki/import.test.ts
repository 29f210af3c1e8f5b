import { generateKeyPair, KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeLeaf, type Issuer } from '../../test/corpus/certs/forge.js';
import {
  assertKeyMatchesCert,
  keyMatchesCert,
  readCertificates,
  readPrivateKey,
  type ReadKeyOptions,
} from './import.js';
import { PkiInputError, toPem, type PemSource } from './pem.js';

const gen = promisify(generateKeyPair);
const pass = 'import-test-pass';

let ca: Issuer;
let leafPem = '';
let leafKey: KeyObject;
let rsa: KeyObject;
let dsa: KeyObject;
let dir = '';

beforeAll(async () => {
  ca = await makeCa();
  const leaf = await makeLeaf(ca);
  leafPem = leaf.cert.toString('pem');
  if (leaf.keys === undefined) throw new Error('no keys');
  leafKey = KeyObject.from(leaf.keys.privateKey);
  rsa = (await gen('rsa', { modulusLength: 1024 })).privateKey;
  dsa = (await gen('dsa', { modulusLength: 1024, divisorLength: 160 })).privateKey;
  dir = await mkdtemp(join(tmpdir(), 'pgh-import-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const src = (data: string | Uint8Array, name = 'k.pem'): PemSource => ({ name, data });
const withPass = (p: string | undefined): ReadKeyOptions => ({ passphrase: () => Promise.resolve(p) });

async function rejection(promise: Promise<unknown>): Promise<PkiInputError> {
  try {
    await promise;
  } catch (err) {
    if (PkiInputError.isInput(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('readPrivateKey', () => {
  it.each<[string, () => string, string, string]>([
    ['PKCS#8 EC', () => leafKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'pkcs8', 'ECDSA P-256'],
    ['SEC1', () => leafKey.export({ type: 'sec1', format: 'pem' }) as string, 'sec1', 'ECDSA P-256'],
    ['PKCS#1', () => rsa.export({ type: 'pkcs1', format: 'pem' }) as string, 'pkcs1', 'RSA 1024'],
    ['PKCS#8 DSA', () => dsa.export({ type: 'pkcs8', format: 'pem' }) as string, 'pkcs8', 'DSA 1024'],
  ])('%s', async (_name, pem, container, text) => {
    const info = await readPrivateKey(src(pem()));
    expect(info).toMatchObject({ container, encryption: 'none', description: { text } });
  });

  it.each<[string, () => string, 'pkcs8' | 'legacy-pem']>([
    [
      'encrypted PKCS#8',
      () =>
        leafKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: pass }) as string,
      'pkcs8',
    ],
    [
      'legacy OpenSSL-encrypted PEM',
      () => rsa.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: pass }) as string,
      'legacy-pem',
    ],
  ])('%s: right, wrong and missing passphrase', async (_name, pem, encryption) => {
    const text = pem();
    let asked = 0;
    const info = await readPrivateKey(src(text), {
      passphrase: () => {
        asked++;
        return Promise.resolve(pass);
      },
    });
    expect(asked).toBe(1);
    expect(info.encryption).toBe(encryption);
    expect((await rejection(readPrivateKey(src(text), withPass('nope')))).code).toBe('key.wrong-passphrase');
    const missing = await rejection(readPrivateKey(src(text), withPass(undefined)));
    expect(missing.code).toBe('key.encrypted-no-passphrase');
    expect(missing.message).toBe('k.pem is encrypted and no passphrase was given');
    expect((await rejection(readPrivateKey(src(text)))).code).toBe('key.encrypted-no-passphrase');
  });

  it('does not ask for a passphrase when the key is not encrypted', async () => {
    const pem = leafKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await readPrivateKey(src(pem), { passphrase: () => Promise.reject(new Error('asked')) });
  });

  it.each<[string, () => Promise<string> | string, string, RegExp]>([
    [
      'X25519',
      async () => (await gen('x25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      'key.unsupported',
      /X25519 keys only agree on secrets and cannot sign/,
    ],
    [
      'OpenSSH',
      () => toPem('OPENSSH PRIVATE KEY', Buffer.from([0x30, 0])),
      'key.unsupported',
      /OpenSSH-format/,
    ],
    ['a certificate', () => leafPem, 'pem.unexpected-block', /expected a private key .*found CERTIFICATE/],
    [
      'garbage key',
      () => toPem('PRIVATE KEY', Buffer.from([0x30, 0x03, 2, 1, 5])),
      'key.unparseable',
      /not a valid private key/,
    ],
  ])('%s → %s', async (_name, pem, code, message) => {
    const err = await rejection(readPrivateKey(src(await pem())));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.exitCode).toBe(2);
  });

  it('reads from a path, and names a missing one', async () => {
    const path = join(dir, 'server.key');
    await writeFile(path, leafKey.export({ type: 'sec1', format: 'pem' }));
    expect((await readPrivateKey(path)).file).toBe(path);
    const err = await rejection(readPrivateKey(join(dir, 'missing.key')));
    expect(err.code).toBe('file.unreadable');
    expect(err.message).toMatch(/missing\.key: no such file/);
  });
});

describe('readCertificates', () => {
  it('reads a chain file leaf first, with index and file', async () => {
    const certs = await readCertificates(src(leafPem + ca.cert.toString('pem'), 'chain.crt'));
    expect(certs.map((c) => [c.file, c.index, c.cert.subject, c.version])).toEqual([
      ['chain.crt', 0, 'CN=db1', 3],
      ['chain.crt', 1, 'CN=forge CA', 3],
    ]);
  });

  it('a valid ASN.1 structure that is no certificate → cert.unparseable', async () => {
    const err = await rejection(
      readCertificates(src(toPem('CERTIFICATE', Buffer.from([0x30, 3, 2, 1, 5])), 'x.crt')),
    );
    expect(err.code).toBe('cert.unparseable');
    expect(err.message).toMatch(/^x\.crt: the block at line 1 is not a valid X\.509 certificate/);
  });

  it('a key where a certificate belongs → pem.unexpected-block, pointing at --key', async () => {
    const err = await rejection(
      readCertificates(src(leafKey.export({ type: 'pkcs8', format: 'pem' }), 's.crt')),
    );
    expect(err.code).toBe('pem.unexpected-block');
    expect(err.hint).toMatch(/--key/);
  });
});

describe('keyMatchesCert', () => {
  it('compares public keys, whatever form the key comes in', async () => {
    const [cert] = await readCertificates(src(leafPem));
    if (cert === undefined) throw new Error('no cert');
    const info = await readPrivateKey(src(leafKey.export({ type: 'sec1', format: 'pem' })));
    expect(keyMatchesCert(leafKey, cert)).toBe(true);
    expect(keyMatchesCert(info, leafPem)).toBe(true);
    expect(keyMatchesCert(ca.keys.privateKey, cert)).toBe(false);
    expect(keyMatchesCert(rsa, cert)).toBe(false);
    expect(() => assertKeyMatchesCert(rsa, cert, 'rsa.key')).toThrow(
      /rsa\.key does not belong to k\.pem \(CN=db1\)/,
    );
    let err: unknown;
    try {
      assertKeyMatchesCert(rsa, cert);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'key.mismatch', exitCode: 2 });
  });
});
