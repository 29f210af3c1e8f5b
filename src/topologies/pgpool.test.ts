import { describe, expect, it } from 'vitest';
import { pgpoolSchedule } from './pgpool.js';

describe('pgpoolSchedule', () => {
  it('puts pgpool between the backends TLS phases and their auth phase, and watches after from the primary', () => {
    const s = pgpoolSchedule(
      [
        { name: 'pg1', role: 'primary' },
        { name: 'pg2', role: 'standby' },
      ],
      ['pool1'],
    );
    const ids = s.phases.map((ph) => ph.map((e) => `${e.node}:${e.steps.map((st) => st.id).join('+')}`));
    expect(ids).toEqual([
      [
        'pg1:tls.install-ca+tls.install-server-cert+tls.enable-ssl+tls.reload',
        expect.stringMatching(/^pg2:tls\./),
      ],
      ['pg2:tls.replication-tls'],
      ['pool1:pgpool.install-tls+pgpool.configure'],
      [expect.stringMatching(/^pg1:auth\.scram-migration/), expect.stringMatching(/^pg2:/)],
      ['pg1:pgpool.health-watch'],
    ]);
    expect(s.steps.get('pool1')?.map((st) => st.id)).toEqual(['pgpool.install-tls', 'pgpool.configure']);
    expect(s.steps.get('pg1')?.at(-1)?.id).toBe('pgpool.health-watch');
  });
});
