import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { KEY, renderWizard, stateAfter, TO_CERTS } from './test-harness.js';

afterEach(cleanup);

const atAuth = () => stateAfter(TO_CERTS.slice(0, -1));

describe('AuthScreen', () => {
  it('three choices, one line each on what they mean', async () => {
    const w = await renderWizard(atAuth());
    const f = w.frame();
    expect(f).toContain('❯ SCRAM (scram-sha-256 over TLS)');
    expect(f).toContain('Client certificates (cert)');
    expect(f).toContain('Both (scram-sha-256 clientcert=verify-full)');
    expect(f).toContain('standbys: password in .pgpass');
    expect(f).toContain('each client and standby needs its own cert + key');
  });

  it('choosing cert goes to certificates with that mode', async () => {
    const w = await renderWizard(atAuth());
    await w.press(KEY.down, KEY.enter);
    expect(w.intents).toEqual([{ type: 'auth:choose', auth: 'cert' }]);
    expect(w.frame()).toContain('Certificates for auth cert');
  });
});

describe('AuthScreen: per-role overrides', () => {
  const withRoles = () => {
    const s = atAuth();
    return {
      ...s,
      inventory: {
        ...s.inventory,
        view: {
          ...s.inventory.view!,
          roles: [
            { name: 'replicator', kind: 'replication' },
            { name: 'app', kind: 'client', auth: 'cert' as const },
          ],
        },
      },
    };
  };

  it('no roles in the inventory: no override entry', async () => {
    const w = await renderWizard(atAuth());
    expect(w.frame()).not.toContain('Per-role');
  });

  it("lists the inventory's roles with their own auth; ←/→ changes one; Esc returns with a summary", async () => {
    const w = await renderWizard(withRoles());
    expect(w.frame()).toContain('Per-role overrides… (2 roles)');
    expect(w.frame()).toContain('app: cert');
    await w.press(KEY.down, KEY.down, KEY.down, KEY.enter);
    expect(w.frame()).toContain('replicator (replication) → as chosen for the cluster');
    expect(w.frame()).toContain('app (client) → cert');
    await w.press('q'); // back to the modes, not off the screen
    expect(w.frame()).toContain('How should clients and standbys authenticate?');
    await w.press(KEY.enter);
    await w.press(KEY.right); // replicator: cluster → scram
    await w.press(KEY.down, KEY.left); // app: cert → scram
    expect(w.frame()).toContain('replicator (replication) → scram');
    expect(w.frame()).toContain('app (client) → scram');
    await w.press(KEY.escape);
    expect(w.frame()).toContain('replicator: scram · app: scram');
    await w.press(KEY.up, KEY.up, KEY.enter); // cert for the cluster
    expect(w.intents).toEqual([
      { type: 'auth:role', role: 'replicator', auth: 'scram' },
      { type: 'auth:role', role: 'app', auth: 'scram' },
      { type: 'auth:choose', auth: 'cert' },
    ]);
  });
});
