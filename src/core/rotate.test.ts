import { describe, expect, it } from 'vitest';
import type { NodeOutcome } from './facts.js';
import type { Inventory } from './inventory-schema.js';
import { deployedAuth, rotationKind, rotationNodes } from './rotate.js';

const inventory = {
  cluster: 'c',
  topology: 'streaming',
  network: ['10.0.0.0/24'],
  nodes: [
    { name: 'pg1', host: '10.0.0.1' },
    { name: 'pg2', host: '10.0.0.2' },
  ],
} as Inventory;

const standby = (primaryConninfo: string): NodeOutcome =>
  ({ node: 'pg2', ok: true, facts: { pg: { role: 'standby', primaryConninfo } } }) as unknown as NodeOutcome;

describe('rotation planning rules', () => {
  it('takes the auth mode from the inventory, else from what the standbys present', () => {
    expect(deployedAuth({ ...inventory, auth: 'scram+cert' }, [])).toBe('scram+cert');
    expect(deployedAuth(inventory, [standby('host=a sslmode=verify-full sslcert=/t/replication.crt')])).toBe(
      'cert',
    );
    expect(deployedAuth(inventory, [standby('host=a sslmode=verify-full passfile=/h/.pgpass')])).toBe(
      'scram',
    );
  });

  it('maps each request onto the CA rotation state, refusing what does not fit', () => {
    expect(rotationKind('leaves', 'phase1')).toBe('leaves');
    expect(rotationKind('new-ca', 'none')).toBe('ca-phase1');
    expect(rotationKind('new-ca', 'phase1')).toBe('ca-phase2');
    expect(rotationKind('finish', 'phase2')).toBe('ca-finish');
    expect(() => rotationKind('new-ca', 'phase2')).toThrow(
      expect.objectContaining({ code: 'rotate.ca-phase2-done' }),
    );
    expect(() => rotationKind('finish', 'none')).toThrow(
      expect.objectContaining({ code: 'rotate.nothing-to-finish' }),
    );
    expect(() => rotationKind('finish', 'phase1')).toThrow(/phase 1/);
  });

  it('--nodes must name inventory nodes', () => {
    expect(rotationNodes(inventory, undefined)).toEqual(['pg1', 'pg2']);
    expect(rotationNodes(inventory, ['pg2'])).toEqual(['pg2']);
    expect(() => rotationNodes(inventory, ['pg9'])).toThrow(
      expect.objectContaining({ code: 'rotate.unknown-node' }),
    );
  });
});
