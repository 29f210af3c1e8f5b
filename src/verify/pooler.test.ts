import { describe, expect, it } from 'vitest';
import { poolerRows } from './pooler.js';

const up = { hostname: 'db1', port: '5432', status: 'up' };

describe('poolerRows', () => {
  it('all up, no failed check, TLS to the backend: every row ok', () => {
    const rows = poolerRows('pool1', {
      nodes: [up, { ...up, hostname: 'db2' }],
      health: [{ hostname: 'db1', port: '5432', fail: 0, total: 12 }],
      backendSsl: true,
      backendTls: 'TLSv1.3',
    });
    expect(rows.map((r) => [r.check, r.ok])).toEqual([
      ['pooler.nodes-up', true],
      ['pooler.health-check', true],
      ['pooler.backend-tls', true],
    ]);
  });

  it('a detached backend, one failed health check, a plain backend session: each fails its row', () => {
    const rows = poolerRows('pool1', {
      nodes: [up, { hostname: 'db2', port: '5432', status: 'down' }],
      health: [{ hostname: 'db2', port: '5432', fail: 1, total: 3 }],
      backendSsl: false,
      backendTls: null,
    });
    expect(rows.every((r) => !r.ok)).toBe(true);
    expect(rows[0]?.value).toBe('not up: db2:5432 down');
    expect(rows[1]?.value).toBe('failed: db2:5432 1/3');
  });

  it('no backend at all is not "all up"', () => {
    expect(poolerRows('p', { nodes: [], health: [], backendSsl: true, backendTls: null })[0]?.ok).toBe(false);
  });
});
