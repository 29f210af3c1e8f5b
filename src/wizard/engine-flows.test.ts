// The engine adapter's file work that needs no node: saving the answers for a headless replay.
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PlannedRun } from '../core/harden-flow.js';
import { inventorySchema, type Inventory } from '../core/inventory-schema.js';
import { planFileText } from '../core/plan-file.js';
import type { HardenContext } from '../steps/context.js';
import { saveReplay, shellWord } from './engine-flows.js';
import { PLAN } from './test-fixtures.js';

const INV: Inventory = inventorySchema.parse({
  cluster: 'lab',
  topology: 'streaming',
  network: ['127.0.0.0/8'],
  nodes: [{ name: 'pg1', host: '127.0.1.1', role: 'primary' }],
  roles: [
    { name: 'app', kind: 'client' },
    { name: 'replicator', kind: 'replication' },
  ],
});

function planned(passwords: Record<string, string>, generated: Record<string, string>): PlannedRun {
  const ctx = { passwords: new Map(Object.entries(passwords)) } as unknown as HardenContext;
  return {
    plan: PLAN,
    run: { contexts: new Map([['pg1', ctx]]), nodePlans: [], phases: [], secrets: Object.values(passwords) },
    runId: '20260101T000000Z-abcdef',
    generated: new Map(Object.entries(generated)),
  };
}

const GENERATE = { source: { kind: 'generate' as const }, dir: '/pki' };

describe('saveReplay (the wizard’s answers for a headless replay)', () => {
  it('writes inventory (with auth) and plan.json as plan -o does, 0700/0600, and names what the replay needs', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'pgh-save-')), 'new dir');
    const run = planned({ app: 'typed-pw-1', replicator: 'gen-pw-22' }, { replicator: 'gen-pw-22' });
    const saved = await saveReplay(dir, INV, run, GENERATE, []);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const f of [saved.inventory, saved.plan]) expect((await stat(f)).mode & 0o777).toBe(0o600);
    const inv = inventorySchema.parse(parse(await readFile(saved.inventory, 'utf8')));
    expect(inv).toEqual({ ...INV, auth: 'scram' });
    expect(await readFile(saved.plan, 'utf8')).toBe(planFileText(PLAN));
    // Quoted for the shell: the directory has a space.
    expect(saved.command).toBe(`pgharden apply -i '${dir}/inventory.yaml' --plan '${dir}/plan.json' --yes`);
    expect(saved.env).toEqual(['PGHARDEN_PASSWORD_APP']); // the generated one is generated again
  });

  it('imported certificates: the command names them; never replaces a file; refuses a directory others can read', async () => {
    const base = await mkdtemp(join(tmpdir(), 'pgh-save-'));
    const run = planned({}, {});
    const saved = await saveReplay(
      join(base, 'a'),
      INV,
      run,
      { source: { kind: 'import', dir: '/p' }, dir: '/p' },
      [],
    );
    expect(saved.command).toContain('--certs import:/p --yes');
    await expect(saveReplay(join(base, 'a'), INV, run, GENERATE, [])).rejects.toMatchObject({
      code: 'save.exists',
      exitCode: 2,
    });
    await mkdir(join(base, 'open'), { mode: 0o755 });
    await expect(saveReplay(join(base, 'open'), INV, run, GENERATE, [])).rejects.toMatchObject({
      code: 'save.dir-mode',
    });
  });

  it('refuses to write a file that would hold a secret, and writes nothing', async () => {
    const base = await mkdtemp(join(tmpdir(), 'pgh-save-'));
    // A password that happens to be a word of the inventory: the check cannot tell, so it refuses.
    const run = planned({ app: 'streaming' }, {});
    await expect(saveReplay(join(base, 'x'), INV, run, GENERATE, [])).rejects.toMatchObject({
      code: 'plan.secret',
    });
    await expect(stat(join(base, 'x'))).rejects.toThrow();
  });

  it('shellWord quotes only what needs it', () => {
    expect(shellWord('/a/b-c_d.yaml')).toBe('/a/b-c_d.yaml');
    expect(shellWord("/it's here")).toBe(`'/it'\\''s here'`);
  });
});
