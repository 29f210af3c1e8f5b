import { describe, expect, it } from 'vitest';
import { pgAutoFailoverSchedule } from './pg-auto-failover.js';

describe('pg_auto_failover schedule', () => {
  const { steps, phases } = pgAutoFailoverSchedule([
    { name: 'node1', role: 'primary' },
    { name: 'mon', role: 'monitor' },
    { name: 'node2', role: 'secondary' },
  ]);
  const ids = phases.map((ph) => ph.map((e) => `${e.node}:${e.steps.map((s) => s.id).join('+')}`));
  it('enables TLS on the monitor, then the secondary, then the primary, then replication', () => {
    const sslPhase = (node: string): number => ids.findIndex((ph) => ph.includes(`${node}:pgaf.enable-ssl`));
    expect(sslPhase('mon')).toBeLessThan(sslPhase('node2'));
    expect(sslPhase('node2')).toBeLessThan(sslPhase('node1'));
    const repl = ids.findIndex((ph) => ph.includes('node2:pgaf.replication-tls'));
    expect(repl).toBeGreaterThan(sslPhase('node1'));
  });
  it('switches pg_hba.conf only after every node has its passwords, the monitor first', () => {
    const hba = (node: string): number => ids.findIndex((ph) => ph.includes(`${node}:hba.hostssl`));
    const auth = (node: string): number =>
      ids.findIndex((ph) => ph.some((e) => e.startsWith(`${node}:`) && e.includes('pgaf.pgpass')));
    const lastAuth = Math.max(auth('mon'), auth('node1'), auth('node2'));
    expect(hba('mon')).toBeGreaterThan(lastAuth);
    expect(hba('node1')).toBeGreaterThan(hba('mon'));
    expect(hba('node2')).toBe(hba('node1'));
  });
  it('runs every step of a node exactly once, SCRAM reset only where the roles live', () => {
    for (const [node, list] of steps) expect(new Set(list).size, node).toBe(list.length);
    expect(steps.get('node2')?.map((s) => s.id)).not.toContain('auth.scram-migration');
    expect(steps.get('mon')?.map((s) => s.id)).toContain('auth.scram-migration');
  });
});
