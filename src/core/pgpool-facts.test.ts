import { describe, expect, it } from 'vitest';
import { pgpoolArgvFiles } from './pgpool-facts.js';

describe('pgpoolArgvFiles', () => {
  it('reads -f/-a/-F/-k in every getopt form', () => {
    expect(
      pgpoolArgvFiles([
        '/usr/sbin/pgpool',
        '-n',
        '-f',
        '/p/pgpool.conf',
        '-a/p/hba',
        '--pcp-file=/p/pcp',
        '--key-file',
        '/p/key',
      ]),
    ).toEqual({ conf: '/p/pgpool.conf', hba: '/p/hba', pcp: '/p/pcp', key: '/p/key' });
  });

  it('leaves out what the argv does not give (pgpool then uses its compiled-in defaults)', () => {
    expect(pgpoolArgvFiles(['pgpool', '-n', '-D'])).toEqual({});
  });
});
