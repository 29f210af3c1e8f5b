import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { CERTS } from '../wizard/test-fixtures.js';
import { KEY, renderWizard, stateAfter, TO_CERTS } from './test-harness.js';

afterEach(cleanup);

describe('CertificatesScreen', () => {
  it('generate: dispatches, then shows every cert with subject, SAN, key, validity, issuer, fingerprint', async () => {
    const w = await renderWizard(stateAfter(TO_CERTS));
    expect(w.frame()).toContain('❯ Generate: cluster CA');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([{ type: 'certs:generate' }]);
    expect(w.frame()).toContain('Issuing certificates…');
    await w.push({ type: 'certs:ready', dir: '/pki', items: CERTS });
    const f = w.frame();
    expect(f).toContain('Certificates in /pki: 2 · lint clean');
    expect(f).toMatch(/✓ server pg1 CN=pg1 · ECDSA P-256 · until 2027-01-01 \(365 d\) · issued/);
    expect(f).toContain('SAN IP:127.0.1.1 · issuer CN=lab CA · SHA256 CC:DD');
    await w.press(KEY.enter);
    expect(w.intents.at(-1)).toEqual({ type: 'certs:continue' });
    expect(w.frame()).toContain('Planning');
  });

  it('import: a directory pasted with its Enter in one chunk is imported', async () => {
    const w = await renderWizard(stateAfter(TO_CERTS));
    await w.press(KEY.down, KEY.enter, '/tmp/pki\r');
    expect(w.intents).toEqual([{ type: 'certs:import', dir: '/tmp/pki' }]);
  });

  it('import: a directory is read and linted; problems are shown and block the plan', async () => {
    const w = await renderWizard(stateAfter(TO_CERTS));
    await w.press(KEY.down, KEY.enter, '/tmp/pki', KEY.enter);
    expect(w.intents).toEqual([{ type: 'certs:import', dir: '/tmp/pki' }]);
    await w.push({
      type: 'certs:ready',
      dir: '/tmp/pki',
      items: [
        CERTS[0]!,
        {
          ...CERTS[1]!,
          status: 'imported',
          findings: [
            {
              id: 'san.missing-host',
              severity: 'error',
              message: '127.0.1.1 is not in the SAN',
              fix: 're-issue with it',
            },
          ],
        },
      ],
    });
    const f = w.frame();
    expect(f).toContain('1 problem(s)');
    expect(f).toMatch(/✗ server pg1/);
    expect(f).toContain('127.0.1.1 is not in the SAN → re-issue with it');
    await w.press(KEY.enter);
    expect(w.frame()).toContain('1 certificate problem(s) in red must be fixed first');
    expect(w.frame()).not.toContain('Planning');
  });
});
