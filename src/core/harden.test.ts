import { describe, expect, it } from 'vitest';
import { certRoles, changedSinceLastReload, type PlannedStep } from './harden.js';
import type { Inventory } from './inventory-schema.js';
import { emptyPlan } from './step.js';

const file = { path: '/tls/server.crt', owner: 'postgres', mode: 0o644, before: '', after: 'x' };
const writes: PlannedStep = {
  id: 'tls.install-ca',
  title: '',
  needed: true,
  change: { ...emptyPlan(), files: [file] },
};
const reloads: PlannedStep = {
  id: 'tls.enable-ssl',
  title: '',
  needed: true,
  change: { ...emptyPlan(), files: [{ ...file, path: '/data/postgresql.auto.conf' }], reload: true },
};
const done: PlannedStep = { id: 'tls.enable-ssl', title: '', needed: false };

describe('changedSinceLastReload (is tls.reload due in the plan?)', () => {
  it.each([
    ['nothing planned', [], false],
    [
      'certificates written, then a step that reloads (first-time hardening)',
      [writes, writes, reloads],
      false,
    ],
    ['certificates written, the reloading step already done (new certificates only)', [writes, done], true],
    ['a reload, then a file written after it', [reloads, writes], true],
    ['steps needed but no file changes', [{ ...writes, change: emptyPlan() }], false],
  ] as [string, PlannedStep[], boolean][])('%s → %s', (_name, steps, due) => {
    expect(changedSinceLastReload(steps)).toBe(due);
  });
});

describe('certRoles (who gets a client certificate)', () => {
  const inventory = (roles: Inventory['roles']): Inventory => ({
    cluster: 'c',
    topology: 'streaming',
    network: ['10.0.0.0/24'],
    nodes: [{ name: 'pg1', host: '10.0.0.1' }],
    roles,
  });
  it("the run's mode, overridden per role by roles[].auth", () => {
    const roles: Inventory['roles'] = [
      { name: 'replicator', kind: 'replication' },
      { name: 'app', kind: 'client', auth: 'cert' },
      { name: 'legacy', kind: 'client', auth: 'scram' },
    ];
    expect(certRoles({ auth: 'scram', inventory: inventory(roles) })).toEqual(['app']);
    expect(certRoles({ auth: 'cert', inventory: inventory(roles) })).toEqual(['replicator', 'app']);
    expect(certRoles({ auth: 'scram+cert', inventory: inventory(undefined) })).toEqual([]);
  });
});
