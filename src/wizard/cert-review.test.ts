import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../core/inventory-schema.js';
import { issueToDir, planLeaves } from '../pki/index.js';
import { reviewPkiDir } from './cert-review.js';

const inventory: Inventory = {
  cluster: 'lab',
  topology: 'streaming',
  network: ['127.0.0.0/8'],
  nodes: [{ name: 'pg1', host: '127.0.1.1', role: 'primary' }],
  roles: [{ name: 'app', kind: 'client' }],
};

describe('reviewPkiDir', () => {
  it('shows every certificate the run uses, linted; a missing one is an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgh-review-'));
    try {
      const issued = await issueToDir({ dir, cluster: 'lab', leaves: planLeaves(inventory, ['app']) });
      const statuses = new Map(issued.files.map((f) => [f.file, f.status]));
      const items = await reviewPkiDir(dir, inventory, 'cert', statuses);
      expect(items.map((c) => `${c.kind}:${c.name}:${c.status}`)).toEqual([
        'ca:CA:issued',
        'server:pg1:issued',
        'client:app:issued',
      ]);
      const pg1 = items[1]!;
      expect(pg1.sans).toContain('IP:127.0.1.1');
      expect(pg1.fingerprint).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
      expect(pg1.keyType).toBe('ECDSA P-256');
      expect(pg1.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(JSON.stringify(items)).not.toMatch(/PRIVATE KEY/);

      await rm(join(dir, 'app.crt'));
      const after = await reviewPkiDir(dir, inventory, 'cert');
      expect(after[2]?.findings).toMatchObject([{ id: 'file.missing', severity: 'error' }]);
      expect((await reviewPkiDir(dir, inventory, 'scram')).map((c) => c.name)).toEqual(['CA', 'pg1']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
