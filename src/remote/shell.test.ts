import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from './shell.js';

// What a remote sh makes of a quoted word: run a real sh and print the argument back.
function throughSh(word: string): string {
  return execFileSync('sh', ['-c', `printf '%s' ${word}`], { encoding: 'utf8' });
}

const NASTY = [
  '',
  "'",
  "''",
  "it's",
  '"',
  'a b  c',
  '$(id -u)',
  '`id -u`',
  '${HOME}',
  '$HOME',
  '\\',
  '\\n',
  'line1\nline2',
  '\t',
  '*',
  '~',
  '~root',
  '-n',
  '--',
  '%s%d',
  '!x',
  'a;b&&c||d|e>f<g',
  '#comment',
  'ünïcödé ✓',
  "'; rm -rf / #",
];

describe('shellQuote', () => {
  it.each(NASTY)('round-trips %j through sh -c', (s) => {
    expect(throughSh(shellQuote(s))).toBe(s);
  });

  it('leaves plain words readable', () => {
    expect(shellQuote('/var/lib/postgresql/15/main')).toBe('/var/lib/postgresql/15/main');
    expect(shellQuote('PGPORT=5432')).toBe('PGPORT=5432');
    expect(shellQuote('a b')).toBe("'a b'");
  });

  it('refuses NUL, which no argv can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it('shellJoin keeps word boundaries', () => {
    const args = ['printf', '%s|', 'a b', "c'd", '', '$x'];
    const out = execFileSync('sh', ['-c', shellJoin(args)], { encoding: 'utf8' });
    expect(out).toBe("a b|c'd||$x|");
  });
});
