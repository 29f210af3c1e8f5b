import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff.js';

describe('unifiedDiff', () => {
  it('prints --- a/ +++ b/ headers and hunks with 3 lines of context', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
    const after = 'a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n';
    expect(unifiedDiff('/etc/pg_hba.conf', before, after)).toBe(
      [
        '--- a/etc/pg_hba.conf',
        '+++ b/etc/pg_hba.conf',
        '@@ -2,7 +2,7 @@',
        ' b',
        ' c',
        ' d',
        '-e',
        '+E',
        ' f',
        ' g',
        ' h',
        '',
      ].join('\n'),
    );
  });

  it('is empty for equal texts and names line 0 for a new file', () => {
    expect(unifiedDiff('x', 'same\n', 'same\n')).toBe('');
    expect(unifiedDiff('/new', '', 'one\n')).toBe('--- a/new\n+++ b/new\n@@ -0,0 +1,1 @@\n+one\n');
  });
});
