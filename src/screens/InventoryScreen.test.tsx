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

  it('Esc on the menu goes back to the welcome screen', async () => {
    const w = await renderWizard({ ...initialState(), ...atInventory() });
    await w.press(KEY.escape);
    expect(w.intents).toEqual([{ type: 'back' }]);
    expect(w.frame()).toContain('What do you want to do?');
  });
});
