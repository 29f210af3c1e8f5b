// The real engine adapter, without SSH: what it does on this machine (inventory, certificates).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueToDir } from '../pki/index.js';
import { createEngine } from './engine.js';
import type { EngineHooks } from './port.js';
import type { SecretRequest } from './state.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgh-engine-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const INVENTORY = `cluster: lab
topology: streaming
network: [127.0.0.0/8]
pki: { dir: PKI }
nodes:
  - { name: pg1, host: 127.0.1.1, role: primary }
roles:
  - { name: replicator, kind: replication }
  - { name: app, kind: client, auth: cert }
`;

function hooks(answers: (string | undefined)[] = []): EngineHooks & { asked: SecretRequest[] } {
  const asked: SecretRequest[] = [];
  return {
    asked,
    emit: () => undefined,
    askHostKey: () => Promise.resolve('reject'),
    askPassword: () => Promise.resolve(undefined),
    askSecret: (r) => {
      asked.push(r);
      return Promise.resolve(answers.shift());
    },
  };
}

async function engineWithInventory() {
  const path = join(dir, 'inv.yaml');
  await writeFile(path, INVENTORY.replace('PKI', join(dir, 'pki')));
  const engine = createEngine({ HOME: dir, XDG_STATE_HOME: join(dir, 'state') }, dir);
  const view = await engine.loadInventory(path);
  return { engine, view };
}

describe('wizard engine (local work only)', () => {
  it("shows the inventory's roles with their own auth; the auth screen's choices decide the client certs", async () => {
    const { engine, view } = await engineWithInventory();
    expect(view.roles).toEqual([
      { name: 'replicator', kind: 'replication', auth: undefined },
      { name: 'app', kind: 'client', auth: 'cert' },
    ]);
    const names = async () =>
      (await engine.certificates('scram', { kind: 'generate' }, hooks())).items.map((c) => c.name);
    expect(await names()).toEqual(['CA', 'pg1', 'app']); // app's own cert auth, under scram
    engine.setRoleAuth?.({ app: 'cluster', replicator: 'scram+cert' });
    expect(await names()).toEqual(['CA', 'pg1', 'replicator']);
    await engine.close();
  });

  it('writes an inventory from a pasted host list: names, hosts, SSH ports; it loads back', async () => {
    const engine = createEngine({ HOME: dir, XDG_STATE_HOME: join(dir, 'state') }, dir);
    const path = await engine.writeInventory({
      cluster: 'lab',
      network: ['127.0.0.0/8'],
      path: 'lab.yaml',
      nodes: [
        { alias: '127.0.1.11', name: 'pg1', host: '127.0.1.11', role: 'primary' },
        { alias: '127.0.1.12', name: 'pg2', host: '127.0.1.12', sshPort: 2222, role: 'standby' },
      ],
    });
    expect(path).toBe(join(dir, 'lab.yaml'));
    const text = await readFile(path, 'utf8');
    expect(text).toContain('port: 2222');
    const view = await engine.loadInventory(path);
    expect(view.nodes).toEqual([
      { name: 'pg1', host: '127.0.1.11', role: 'primary' },
      { name: 'pg2', host: '127.0.1.12', role: 'standby' },
    ]);
  });

  it('generate with an encrypted CA key: asked (again when wrong); Esc stops with a clear error', async () => {
    await issueToDir({ dir: join(dir, 'pki'), cluster: 'lab', leaves: [], caPassphrase: 'ca-pass' });
    const { engine } = await engineWithInventory();
    const h = hooks(['nope', 'ca-pass']);
    const r = await engine.certificates('scram', { kind: 'generate' }, h);
    expect(r.items.map((c) => `${c.name}:${c.status}`)).toEqual(['CA:reused', 'pg1:issued', 'app:issued']);
    expect(h.asked.map((a) => `${a.kind} ${a.retry ?? ''}`)).toEqual([
      'ca-passphrase ',
      'ca-passphrase that passphrase does not decrypt the CA key',
    ]);
    const err = await engine
      .certificates('scram', { kind: 'generate' }, hooks([undefined]))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'key.encrypted-no-passphrase', exitCode: 2 });
    await engine.close();
  });
});
