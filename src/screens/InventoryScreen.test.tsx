import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { initialState } from '../wizard/state.js';
import { KEY, renderWizard, stateAfter } from './test-harness.js';

afterEach(cleanup);

const atInventory = () => ({
  ...stateAfter([{ type: 'job:choose', job: 'harden' }]),
  welcome: { inventories: ['prod.yaml'], runs: [] },
});

describe('InventoryScreen', () => {
  it('offers the inventories found here, a path, and building one', async () => {
    const w = await renderWizard(atInventory());
    expect(w.frame()).toContain('❯ Load prod.yaml');
    expect(w.frame()).toContain('Load an inventory file…');
    expect(w.frame()).toContain('Build one from hosts in ~/.ssh/config…');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([{ type: 'inventory:load', path: 'prod.yaml' }]);
    expect(w.frame()).toContain('Loading prod.yaml…');
  });

  it('loads a typed path; Esc in the path field returns to the menu, not the welcome screen', async () => {
    const w = await renderWizard(atInventory());
    await w.press(KEY.down, KEY.enter);
    expect(w.frame()).toContain('Inventory file (YAML');
    await w.press(KEY.escape);
    expect(w.frame()).toContain('Load an inventory file…');
    expect(w.intents).toEqual([]);
    await w.press(KEY.down, KEY.enter, 'q', 'a.yaml', KEY.enter);
    expect(w.intents).toEqual([{ type: 'inventory:load', path: 'qa.yaml' }]); // q is text here
  });

  it('a path pasted with its Enter as ONE chunk is loaded (not an empty or stale value)', async () => {
    const w = await renderWizard(atInventory());
    await w.press(KEY.down, KEY.enter);
    await w.press('/tmp/inv.yaml\r');
    expect(w.intents).toEqual([{ type: 'inventory:load', path: '/tmp/inv.yaml' }]);
  });

  it('a bad inventory shows the error and its hint, and stays', async () => {
    const w = await renderWizard(atInventory());
    await w.press(KEY.enter);
    await w.push({
      type: 'failed',
      error: {
        code: 'inventory.invalid',
        message: 'inventory prod.yaml is not valid',
        hint: 'fix the inventory',
      },
    });
    expect(w.frame()).toContain('inventory prod.yaml is not valid');
    expect(w.frame()).toContain('→ fix the inventory');
    expect(w.frame()).toContain('1/8 Inventory');
  });

  it('builds one from ~/.ssh/config: hosts, primary, name, network, file', async () => {
    const w = await renderWizard(atInventory());
    await w.press(KEY.down, KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'inventory:pick-hosts' }]);
    await w.push({
      type: 'inventory:hosts',
      hosts: [
        { alias: 'db1', hostName: '10.0.0.11', user: 'admin' },
        { alias: 'db2', hostName: '10.0.0.12' },
        { alias: 'web', hostName: '10.0.0.20' },
      ],
    });
    expect(w.frame()).toContain('db1  admin@10.0.0.11');
    await w.press(KEY.space, KEY.down, KEY.space, KEY.enter);
    expect(w.frame()).toContain('Which one is the primary?');
    await w.press(KEY.down, KEY.enter); // db2 is the primary
    await w.press(KEY.enter); // cluster: main
    await w.press('10.0.0.0/24', KEY.enter);
    await w.press(KEY.enter); // main.yaml
    expect(w.intents.at(-1)).toEqual({
      type: 'inventory:build',
      input: {
        cluster: 'main',
        network: ['10.0.0.0/24'],
        path: 'main.yaml',
        nodes: [
          { alias: 'db1', role: 'standby' },
          { alias: 'db2', role: 'primary' },
        ],
      },
    });
  });

  it('builds one from a pasted host list: nodes, SSH ports and the primary from the list', async () => {
    const w = await renderWizard(atInventory());
    await w.press(KEY.down, KEY.down, KEY.down, KEY.enter);
    expect(w.frame()).toContain('Paste the nodes, one per line');
    await w.press('pg1 127.0.1.11 primary\rpg2 127.0.1.12:2222\r'); // one paste
    expect(w.frame()).toContain('pg2 127.0.1.12:2222');
    await w.press(KEY.enter); // empty line: done
    expect(w.frame()).toContain('Cluster name:');
    await w.press('\u0015lab\r', '127.0.0.0/8\r', KEY.enter); // Ctrl-U: the default name goes
    expect(w.intents.at(-1)).toEqual({
      type: 'inventory:build',
      input: {
        cluster: 'lab',
        network: ['127.0.0.0/8'],
        path: 'lab.yaml',
        nodes: [
          { alias: '127.0.1.11', name: 'pg1', host: '127.0.1.11', role: 'primary' },
          { alias: '127.0.1.12', name: 'pg2', host: '127.0.1.12', sshPort: 2222, role: 'standby' },
        ],
      },
    });
  });

  it('a pasted list with bad lines: one error per line, the text kept to fix; no primary → asked', async () => {
    const w = await renderWizard(atInventory());
    await w.press(KEY.down, KEY.down, KEY.down, KEY.enter);
    await w.press('db1 10.0.0.1\rdb2 10.0.0.2:99999\rdb3 a b c\r\r');
    const f = w.frame();
    expect(f).toContain('✗ line 2: port 99999 is not a number from 1 to 65535');
    expect(f).toContain('✗ line 3: expected [name] host[:port] [primary|standby], got 4 words');
    expect(f).toContain('db1 10.0.0.1');
    expect(w.intents).toEqual([]);
    await w.press('\u0015', 'db1 10.0.0.1\rdb2 10.0.0.2\r', KEY.enter);
    expect(w.frame()).not.toContain('line 2:');
    expect(w.frame()).toContain('Which one is the primary?');
    await w.press(KEY.down, KEY.enter, KEY.enter, '10.0.0.0/24\r', KEY.enter);
    expect(w.intents.at(-1)).toMatchObject({
      type: 'inventory:build',
      input: {
        nodes: [
          { name: 'db1', role: 'standby' },
          { name: 'db2', role: 'primary' },
        ],
      },
    });
  });

  it('Esc on the menu goes back to the welcome screen', async () => {
    const w = await renderWizard({ ...initialState(), ...atInventory() });
    await w.press(KEY.escape);
    expect(w.intents).toEqual([{ type: 'back' }]);
    expect(w.frame()).toContain('What do you want to do?');
  });
});
