// Test-only helpers (never imported by the modules, not exported from index.ts): fixture files and
// generated samples for the round-trip properties. The only file here that reads the file system.
import { readFileSync } from 'node:fs';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** Deterministic PRNG (mulberry32) so a failing sample can be reproduced from its index. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random text glued from config-ish fragments: quotes, backslashes, comments, CR, LF, tabs. */
export function randomConfigText(random: () => number, fragments: readonly string[], maxParts = 40): string {
  const count = Math.floor(random() * maxParts);
  let text = '';
  for (let i = 0; i < count; i += 1) text += fragments[Math.floor(random() * fragments.length)] ?? '';
  return text;
}

/** The same file as CRLF, without its final newline, with trailing blanks, with tabs. */
export function variants(text: string): Record<string, string> {
  return {
    lf: text,
    crlf: text.replace(/\n/g, '\r\n'),
    'no final newline': text.replace(/\n$/, ''),
    'crlf, no final newline': text.replace(/\n$/, '').replace(/\n/g, '\r\n'),
    'trailing blanks': text.replace(/\n/g, ' \t \n'),
    tabs: text.replace(/ {2,}/g, '\t'),
    'mixed endings': text
      .split('\n')
      .map((l, i) => (i % 2 === 0 ? `${l}\r` : l))
      .join('\n'),
  };
}
