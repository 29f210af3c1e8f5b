// Key pairs of the cluster PKI. Generation and export go through async WebCrypto only: RSA-4096 keygen
// takes ~1.5 s, and the synchronous node:crypto API would freeze the wizard for that long.
import { KeyObject, type webcrypto as wc } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { readPrivateKey } from './import.js';
import { PkiInputError, type PemSource } from './pem.js';
import { webcrypto } from './x509.js';

export const KEY_TYPES = ['p256', 'p384', 'rsa3072', 'rsa4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export type CryptoKey = wc.CryptoKey;
export type CryptoKeyPair = wc.CryptoKeyPair;

export function isKeyType(s: unknown): s is KeyType {
  return typeof s === 'string' && (KEY_TYPES as readonly string[]).includes(s);
}

const RSA_EXPONENT = new Uint8Array([1, 0, 1]);

function genParams(type: KeyType): wc.EcKeyGenParams | wc.RsaHashedKeyGenParams {
  switch (type) {
    case 'p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'rsa3072':
    case 'rsa4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: type === 'rsa3072' ? 3072 : 4096,
        publicExponent: RSA_EXPONENT,
        hash: 'SHA-256',
      };
  }
}

/** A new extractable key pair (extractable: the private half is written to a file). */
export async function generateKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(genParams(type), true, ['sign', 'verify']);
}

/** What a key is, as the CLI names it: p256, p384, p521, rsa2048, rsa3072, ed25519, … */
export function keyTypeOf(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = { prime256v1: 'p256', secp384r1: 'p384', secp521r1: 'p521' }[d?.namedCurve ?? ''];
      return curve ?? `ec-${d?.namedCurve ?? 'unknown'}`;
    }
    case 'rsa':
      return `rsa${d?.modulusLength ?? ''}`;
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

/** The WebCrypto import algorithm for a signing key of this kind; undefined when we cannot sign with it. */
function importParams(key: KeyObject): wc.EcKeyImportParams | wc.RsaHashedImportParams | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[d?.namedCurve ?? ''];
    return curve === undefined ? undefined : { name: 'ECDSA', namedCurve: curve };
  }
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return undefined;
}

/**
 * The signature algorithm a CA key signs with: SHA-384 for P-384 and SHA-512 for P-521 (matching hash
 * strength to curve, as CAs do), SHA-256 otherwise. RSA keys carry their hash from import/generation.
 */
export function signingAlgorithm(key: CryptoKey): wc.EcdsaParams | wc.Algorithm {
  const alg = key.algorithm as wc.EcKeyAlgorithm;
  if (alg.name !== 'ECDSA') return { name: alg.name };
  const hash = alg.namedCurve === 'P-384' ? 'SHA-384' : alg.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256';
  return { name: 'ECDSA', hash };
}

/**
 * PKCS#8 PEM of a private key; with a passphrase, encrypted PKCS#8 (PBES2, AES-256-CBC), which OpenSSL,
 * libpq and `createPrivateKey` all read. Cheap and synchronous: the key already exists.
 */
export function exportPrivateKeyPem(key: CryptoKey, passphrase?: string): string {
  const obj = KeyObject.from(key);
  return passphrase === undefined
    ? (obj.export({ type: 'pkcs8', format: 'pem' }) as string)
    : (obj.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string);
}

export interface LoadedKey {
  /** node:crypto view, for matching against certificates and describing the key. */
  keyObject: KeyObject;
  /** WebCrypto signing key; undefined for key kinds we cannot sign with (Ed25519, DSA, …). */
  signingKey: CryptoKey | undefined;
  label: string;
  encrypted: boolean;
}

/**
 * A private key file (or text, as `{ name, data }`) through the importer (PKCS#8, PKCS#1, SEC1,
 * encrypted), made ready to sign. `passphraseFlag` names the flag in the error when the key is
 * encrypted and no passphrase was given.
 */
export async function loadPrivateKey(
  src: PemSource,
  opts: { passphrase?: string; passphraseFlag?: string } = {},
): Promise<LoadedKey> {
  let info: Awaited<ReturnType<typeof readPrivateKey>>;
  try {
    info = await readPrivateKey(src, { passphrase: () => Promise.resolve(opts.passphrase) });
  } catch (err) {
    if (PkiInputError.isInput(err) && err.code === 'key.encrypted-no-passphrase' && opts.passphraseFlag) {
      throw new UsageError(err.code, err.message, `pass ${opts.passphraseFlag} FILE with its passphrase`);
    }
    throw err;
  }
  const keyObject = info.key;
  const params = importParams(keyObject);
  const signingKey =
    params === undefined
      ? undefined
      : await webcrypto.subtle.importKey(
          'pkcs8',
          keyObject.export({ type: 'pkcs8', format: 'der' }),
          params,
          false,
          ['sign'],
        );
  return { keyObject, signingKey, label: keyTypeOf(keyObject), encrypted: info.encryption !== 'none' };
}

/** KeyObject view of a WebCrypto key (to describe it or compare it). */
export function keyObjectOf(key: CryptoKey): KeyObject {
  return KeyObject.from(key);
}
