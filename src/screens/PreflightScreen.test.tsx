import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { PreflightDetail } from '../wizard/state.js';
import { KEY, renderWizard, stateAfter, TO_PREFLIGHT } from './test-harness.js';

afterEach(cleanup);

const DETAIL: PreflightDetail = {
  node: 'pg1',
  sshUser: 'admin',
  access: 'sudo',
  pgVersion: '15.8',
  role: 'primary',
  dataDir: '/var/lib/postgresql/15/main',
  hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
  ssl: 'off',
  passwordEncryption: 'md5',
  md5Roles: ['app'],
  hbaErrors: 0,
  replication: '1 standby(s), 0 over TLS',
  libpq: '15.8',
};

describe('PreflightScreen', () => {
  it('one live row per node as connections come in', async () => {
    const w = await renderWizard(stateAfter(TO_PREFLIGHT));
    expect(w.frame()).toContain('connecting…');
    expect(w.frame()).toMatch(/· pg1 127\.0\.1\.1/);
    await w.push(
      { type: 'engine', event: { type: 'node:connecting', node: 'pg1', host: '127.0.1.1', port: 22 } },
      {
        type: 'engine',
        event: {
          type: 'node:connected',
          node: 'pg1',
          hostKey: 'SHA256:abcdef',
          keyType: 'ssh-ed25519',
          ms: 40,
        },
      },
      {
        type: 'engine',
        event: {
          type: 'node:failed',
          node: 'pg2',
          error: { code: 'ssh.refused', message: 'connection refused', hint: 'is sshd running?' },
        },
      },
    );
    const f = w.frame();
    expect(f).toContain('ssh-ed25519 SHA256:abcdef');
    expect(f).toMatch(/✗ pg2 127\.0\.1\.2 connection refused/);
    expect(f).toContain('is sshd running?');
  });

  it('shows the facts and the problems, and refuses to go on while a node failed', async () => {
    const w = await renderWizard(stateAfter(TO_PREFLIGHT));
    await w.push(
      {
        type: 'engine',
        event: { type: 'node:failed', node: 'pg2', error: { code: 'x', message: 'refused' } },
      },
      {
        type: 'preflight:finished',
        details: [DETAIL],
        findings: [
          { id: 'ssl.off', severity: 'high', node: 'pg1', message: 'ssl is off', fix: 'enable-ssl' },
        ],
      },
    );
    const f = w.frame();
    expect(f).toContain('PG 15.8 primary · ssl off · pw md5 · md5: app · 1 standby(s), 0 over TLS');
    expect(f).toContain('sudo admin');
    expect(f).toMatch(/! high +pg1 ssl is off/);
    expect(f).toContain('→ enable-ssl');
    await w.press(KEY.enter);
    expect(w.intents).toEqual([{ type: 'preflight:continue' }]);
    expect(w.frame()).toContain('cannot plan without every node: pg2');
  });

  it('a facts line wider than the terminal is truncated, never the mark and the gap after it', async () => {
    const w = await renderWizard(stateAfter(TO_PREFLIGHT));
    await w.push(
      { type: 'engine', event: { type: 'preflight:done', node: 'pg1', ms: 40, summary: 'PG 15.8' } },
      {
        type: 'preflight:finished',
        details: [{ ...DETAIL, replication: `2 standby(s), 0 over TLS; ${'x'.repeat(120)}` }],
        findings: [],
      },
    );
    const row = w
      .frame()
      .split('\n')
      .find((l) => l.includes('127.0.1.1 PG'));
    expect(row).toMatch(/^✓ pg1 127\.0\.1\.1 PG 15\.8/);
    expect(row).toMatch(/…$/);
  });

  it('Enter goes on to authentication when every node answered; Esc goes back', async () => {
    const w = await renderWizard(stateAfter(TO_PREFLIGHT));
    await w.press(KEY.enter); // ignored while running
    expect(w.intents).toEqual([]);
    await w.push({
      type: 'preflight:finished',
      details: [DETAIL, { ...DETAIL, node: 'pg2', role: 'standby' }],
      findings: [],
    });
    expect(w.frame()).toContain('Nothing serious found.');
    await w.press(KEY.enter);
    expect(w.frame()).toContain('How should clients and standbys authenticate?');
    await w.press(KEY.escape);
    expect(w.frame()).toContain('Preflight of lab: done');
  });
});
