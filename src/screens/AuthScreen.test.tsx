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
