import { describe, expect, it } from 'vitest';
import { PghardenError } from '../core/errors.js';
import { decodePem, derTotalLength, PkiInputError, toPem, type Expected } from './pem.js';

// A minimal complete DER structure: SEQUENCE { INTEGER 5 } — the decoder checks shape, not meaning.
const DER = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]);
const pem = (label = 'CERTIFICATE', der: Uint8Array = DER) => toPem(label, der);

function failure(text: string | Uint8Array, expected: Expected = 'certificate'): PkiInputError {
  try {
    decodePem('f.pem', typeof text === 'string' ? Buffer.from(text) : text, expected);
  } catch (err) {
    if (PkiInputError.isInput(err)) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('decodePem', () => {
  it('reads every block in order, skipping text around them (openssl -text output, CRLF)', () => {
    const text = `Certificate:\n  Data: ...\n${pem()}junk between\r\n${pem('PRIVATE KEY').replace(/\n/g, '\r\n')}`;
    const blocks = decodePem('f.pem', Buffer.from(text), 'certificate');
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'PRIVATE KEY']);
    expect(blocks[0]?.der.equals(DER)).toBe(true);
    expect(blocks[1]?.line).toBe(7);
  });

  it('splits blocks glued on one line (`cat a b` when a lacks its final newline)', () => {
    const glued = pem().trimEnd() + pem('CERTIFICATE');
    expect(decodePem('f.pem', Buffer.from(glued), 'certificate').map((b) => b.line)).toEqual([1, 3]);
  });

  it('keeps RFC 1421 headers of legacy encrypted keys and does not ASN.1-check their ciphertext', () => {
    const cipher = Buffer.from('0123456789abcdef');
    const text = toPem('RSA PRIVATE KEY', cipher, {
      'Proc-Type': '4,ENCRYPTED',
      'DEK-Info': 'AES-256-CBC,00',
    });
    const [block] = decodePem('k.pem', Buffer.from(text), 'private key');
    expect(block?.headers).toEqual({ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,00' });
    expect(block?.der.equals(cipher)).toBe(true);
  });

  it.each<[string, string, string | Uint8Array, RegExp]>([
    ['empty', 'pem.empty', '', /f\.pem is empty; expected a PEM certificate/],
    ['blank', 'pem.empty', ' \n\t\n', /is empty/],
    ['a broken marker', 'pem.no-block', '-----BEGIN CERT\nMAMCAQU=\n', /no complete PEM block/],
    ['DER', 'pem.no-block', Buffer.concat([DER]), /this looks like DER/],
    [
      'plain text',
      'pem.no-block',
      'hello\n',
      /no PEM block \(-----BEGIN …-----\); expected a PEM certificate/,
    ],
    [
      'BEGIN without END',
      'pem.truncated',
      pem().split('\n').slice(0, 2).join('\n'),
      /BEGIN CERTIFICATE at line 1 has no END line/,
    ],
    [
      'END of another label',
      'pem.truncated',
      pem().replace('END CERTIFICATE', 'END PRIVATE KEY'),
      /ends with END PRIVATE KEY/,
    ],
    ['two BEGINs', 'pem.truncated', pem().split('\n')[0] + '\n' + pem(), /no END line before the next BEGIN/],
    ['not base64', 'pem.truncated', pem().replace('MAMCAQU=', 'MA*CAQU='), /not base64/],
    [
      'cut short',
      'pem.truncated',
      pem('CERTIFICATE', Buffer.from([0x30, 0x10, 0x02, 0x01, 0x05])),
      /cut short: 5 bytes of 18/,
    ],
    [
      'trailing bytes',
      'pem.truncated',
      pem('CERTIFICATE', Buffer.concat([DER, DER])),
      /5 bytes after its ASN\.1/,
    ],
    [
      'not ASN.1',
      'pem.truncated',
      pem('CERTIFICATE', Buffer.from('hello')),
      /does not decode to an ASN\.1 SEQUENCE/,
    ],
  ])('%s → %s', (_name, code, text, message) => {
    const err = failure(text);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.file).toBe('f.pem');
    expect(err.exitCode).toBe(2);
    expect(PghardenError.is(err)).toBe(true);
  });

  it('names the conversion command for DER, by what was expected', () => {
    expect(failure(DER, 'certificate').hint).toMatch(/openssl x509 -inform der -in f\.pem/);
    expect(failure(DER, 'private key').hint).toMatch(/openssl pkey -inform der -in f\.pem/);
  });
});

describe('derTotalLength', () => {
  it.each<[number[], number | undefined]>([
    [[0x30, 0x03], 5],
    [[0x30, 0x81, 0x80], 131],
    [[0x30, 0x82, 0x01, 0x00], 260],
    [[0x30, 0x80], undefined], // indefinite length is BER, not DER
    [[0x30], undefined],
    [[0x30, 0x82, 0x01], undefined],
  ])('%j → %s', (bytes, total) => {
    expect(derTotalLength(Uint8Array.from(bytes))).toBe(total);
  });
});
