import { describe, expect, it } from 'vitest';
import {
  isLoopback,
  maskToPrefix,
  parseIp,
  parseRange,
  rangeContainsAddress,
  rangeContainsRange,
} from './ip.js';
import { splitPhysicalLines } from './lines.js';

const bytes = (text: string): number[] | undefined => {
  const ip = parseIp(text);
  return ip === undefined ? undefined : [...ip.bytes];
};

describe('parseIp', () => {
  it.each<[string, number[] | undefined]>([
    ['10.1.2.3', [10, 1, 2, 3]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['010.0.0.1', [8, 0, 0, 1]], // glibc inet_aton: octal
    ['0x0a.0.0.1', [10, 0, 0, 1]],
    ['10.1', [10, 0, 0, 1]],
    ['10.1.513', [10, 1, 2, 1]],
    ['4294967295', [255, 255, 255, 255]],
    ['4294967296', undefined],
    ['1.2.3.256', undefined],
    ['1.2.3.4.5', undefined],
    ['1..2', undefined],
    ['08.0.0.1', undefined],
    ['', undefined],
    ['db.example', undefined],
  ])('IPv4 %s', (text, expected) => {
    expect(bytes(text)).toEqual(expected);
  });

  it.each<[string, string | undefined]>([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:db8::ff00:42:8329', '20010db8000000000000ff0000428329'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['::ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1:2:3:4:5:6:7::8', undefined],
    ['1::2::3', undefined],
    [':::', undefined],
    ['12345::', undefined],
    ['fe80::1%eth0', undefined],
  ])('IPv6 %s', (text, hex) => {
    const ip = parseIp(text);
    expect(ip === undefined ? undefined : Buffer.from(ip.bytes).toString('hex')).toBe(hex);
  });
});

describe('ranges', () => {
  const range = (text: string) => {
    const r = parseRange(text);
    if (r === undefined) throw new Error(text);
    return r;
  };
  it.each<[string, number | undefined]>([
    ['255.255.255.0', 24],
    ['255.255.255.255', 32],
    ['0.0.0.0', 0],
    ['255.255.254.0', 23],
    ['255.0.255.0', undefined],
    ['ffff:ffff::', 32],
  ])('mask %s → prefix %s', (mask, prefix) => {
    const ip = parseIp(mask);
    expect(ip === undefined ? 'unparsed' : maskToPrefix(ip)).toBe(prefix);
  });

  it.each<[string, string, boolean]>([
    ['10.0.0.0/8', '10.255.0.1', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.1/8', '10.9.9.9', true], // host bits in the rule are masked off, as PostgreSQL does
    ['0.0.0.0/0', '192.0.2.1', true],
    ['0.0.0.0/0', '::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/33', '2001:db8:8000::1', false],
  ])('%s contains %s: %s', (r, ip, expected) => {
    const address = parseIp(ip);
    expect(address !== undefined && rangeContainsAddress(range(r), address)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', false],
    ['10.0.0.0/8', '10.0.0.0/8', true],
    ['10.0.0.0/8', '11.0.0.0/16', false],
    ['::/0', '0.0.0.0/0', false],
  ])('%s ⊇ %s: %s', (outer, inner, expected) => {
    expect(rangeContainsRange(range(outer), range(inner))).toBe(expected);
  });

  it.each([
    ['127.0.0.1/32', true],
    ['127.0.0.0/8', true],
    ['::1/128', true],
    ['10.0.0.1/32', false],
    ['::/0', false],
  ])('loopback %s: %s', (r, expected) => {
    expect(isLoopback(range(r))).toBe(expected);
  });
});

describe('splitPhysicalLines', () => {
  it.each([
    ['', []],
    ['a', [['a', '']]],
    ['a\n', [['a', '\n']]],
    [
      'a\r\nb',
      [
        ['a', '\r\n'],
        ['b', ''],
      ],
    ],
    ['a\r\r\n', [['a\r', '\r\n']]],
    ['\r', [['\r', '']]],
  ])('%j', (text, expected) => {
    expect(splitPhysicalLines(text).map((l) => [l.text, l.eol])).toEqual(expected);
  });
});
