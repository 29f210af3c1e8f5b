import { describe, expect, it } from 'vitest';
import { canGoBack, certErrors, finalExitCode, reduce } from './reducer.js';
import { initialState, type Action, type WizardState } from './state.js';
import { CERTS, INVENTORY, PLAN } from './test-fixtures.js';

const run = (actions: Action[], from: WizardState = initialState()): WizardState =>
  actions.reduce(reduce, from);

const toPlan: Action[] = [
  { type: 'job:choose', job: 'harden' },
  { type: 'inventory:load', path: 'inv.yaml' },
  { type: 'inventory:loaded', view: INVENTORY },
  { type: 'preflight:finished', details: [], findings: [] },
  { type: 'preflight:continue' },
  { type: 'auth:choose', auth: 'scram' },
  { type: 'certs:generate' },
  { type: 'certs:ready', dir: '/pki', items: CERTS },
  { type: 'certs:continue' },
  { type: 'plan:ready', plan: PLAN },
];

describe('wizard reducer: the first-time hardening flow', () => {
  it('walks welcome → inventory → preflight → auth → certificates → plan', () => {
    const screens = toPlan.reduce<{ s: WizardState; seen: string[] }>(
      ({ s, seen }, a) => {
        const n = reduce(s, a);
        return { s: n, seen: seen.at(-1) === n.screen ? seen : [...seen, n.screen] };
      },
      { s: initialState(), seen: ['welcome'] },
    ).seen;
    expect(screens).toEqual(['welcome', 'inventory', 'preflight', 'auth', 'certificates', 'plan']);
  });

  it('every job is one the engine runs: the pg_auto_failover job goes to the inventory (#7)', () => {
    const s = reduce(initialState(), { type: 'job:choose', job: 'pgautofailover' });
    expect(s.screen).toBe('inventory');
    expect(s.error).toBeUndefined();
  });

  it('rotation goes from preflight to the rotation screen, not to auth and certificates', () => {
    const s = run([
      { type: 'job:choose', job: 'rotate' },
      { type: 'inventory:loaded', view: INVENTORY },
      { type: 'preflight:finished', details: [], findings: [] },
      { type: 'preflight:continue' },
    ]);
    expect(s).toMatchObject({ screen: 'rotate', rotation: {} });
    expect(s.busy).toMatch(/Reading the certificates/);
    // A choice before the view arrived is ignored; Esc goes back to preflight and forgets the view.
    expect(reduce(s, { type: 'rotate:choose', choice: 'leaves' })).toBe(s);
    expect(reduce(s, { type: 'back' }).screen).toBe('rotate'); // busy: not now
    const ready = reduce(s, { type: 'rotate:ready', view: { pkiDir: '/p', caState: 'none', certs: [] } });
    expect(reduce(ready, { type: 'back' })).toMatchObject({ screen: 'preflight', rotation: undefined });
  });

  it('audit goes from inventory straight to the audit screen', () => {
    const s = run([
      { type: 'job:choose', job: 'audit' },
      { type: 'inventory:loaded', view: INVENTORY },
    ]);
    expect(s.screen).toBe('audit');
    expect(s.audit.status).toBe('running');
    expect(s.preflight.rows.map((r) => r.status)).toEqual(['waiting', 'waiting']);
  });

  it('preflight rows follow the connection events; step output changes nothing', () => {
    const at = run(toPlan.slice(0, 3));
    const s = run(
      [
        { type: 'engine', event: { type: 'node:connecting', node: 'pg1', host: '127.0.1.1', port: 22 } },
        {
          type: 'engine',
          event: { type: 'node:connected', node: 'pg1', hostKey: 'SHA256:x', keyType: 'ssh-ed25519', ms: 5 },
        },
        {
          type: 'engine',
          event: { type: 'node:failed', node: 'pg2', error: { code: 'ssh', message: 'refused' } },
        },
      ],
      at,
    );
    expect(s.preflight.rows).toMatchObject([
      { node: 'pg1', status: 'connected', fingerprint: 'SHA256:x' },
      { node: 'pg2', status: 'failed', error: { message: 'refused' } },
    ]);
    expect(
      reduce(s, { type: 'engine', event: { type: 'step:output', node: 'pg1', step: 'x', line: 'y' } }),
    ).toBe(s);
  });

  it('refuses to continue past preflight while a node failed', () => {
    const at = run(toPlan.slice(0, 3));
    const s = run(
      [
        {
          type: 'engine',
          event: { type: 'node:failed', node: 'pg2', error: { code: 'ssh', message: 'refused' } },
        },
        { type: 'preflight:finished', details: [], findings: [] },
        { type: 'preflight:continue' },
      ],
      at,
    );
    expect(s.screen).toBe('preflight');
    expect(s.error?.message).toMatch(/pg2/);
  });

  it('blocks planning while a certificate has an error finding', () => {
    const bad = [
      { ...CERTS[1]!, findings: [{ id: 'x', severity: 'error' as const, message: 'no SAN', fix: 'f' }] },
    ];
    const s = run([
      ...toPlan.slice(0, 7),
      { type: 'certs:ready', dir: '/pki', items: bad },
      { type: 'certs:continue' },
    ]);
    expect(certErrors(s)).toBe(1);
    expect(s.busy).toBeUndefined();
    expect(s.error?.code).toBe('certs.errors');
  });

  it('back from plan goes to certificates and drops the plan; back is refused while busy', () => {
    const s = run(toPlan);
    const b = reduce(s, { type: 'back' });
    expect(b.screen).toBe('certificates');
    expect(b.plan).toBeUndefined();
    const busy = reduce(b, { type: 'certs:generate' });
    expect(canGoBack(busy)).toBe(false);
    expect(reduce(busy, { type: 'back' })).toBe(busy);
  });

  it('back closes help first, then an error, then leaves the screen', () => {
    const s = run([{ type: 'job:choose', job: 'harden' }, { type: 'help:toggle' }]);
    expect(s.help).toBe(true);
    const h = reduce(s, { type: 'back' });
    expect([h.help, h.screen]).toEqual([false, 'inventory']);
    expect(reduce(h, { type: 'back' }).screen).toBe('welcome');
  });

  it('apply: live line per node, finished steps appended, then verify and done', () => {
    const s = run([
      ...toPlan,
      { type: 'plan:confirm' },
      { type: 'engine', event: { type: 'step:started', node: 'pg1', step: 'tls.enable' } },
    ]);
    expect(s.screen).toBe('apply');
    expect(s.apply.live).toEqual({ pg1: 'tls.enable' });
    const d = run(
      [
        { type: 'engine', event: { type: 'step:done', node: 'pg1', step: 'tls.enable', ms: 40 } },
        { type: 'apply:finished', runId: 'r1', journal: '/j' },
        { type: 'engine', event: { type: 'verify:row', node: 'pg1', check: 'ssl', ok: true, value: 'on' } },
        { type: 'verify:finished', exitCode: 0 },
      ],
      s,
    );
    expect(d.apply.done).toMatchObject([{ node: 'pg1', step: 'tls.enable', status: 'ok', ms: 40 }]);
    expect(d.apply.live).toEqual({});
    expect(d.verify.rows).toMatchObject([{ check: 'ssl', ok: true }]);
    expect(d.screen).toBe('done');
    expect(finalExitCode(d)).toBe(0);
  });

  it('a failed apply shows the rollback and ends with its exit code', () => {
    const s = run([
      ...toPlan,
      { type: 'plan:confirm' },
      {
        type: 'engine',
        event: { type: 'step:failed', node: 'pg1', step: 'tls.enable', error: { message: 'boom' } },
      },
      {
        type: 'engine',
        event: { type: 'rollback:started', node: 'pg1', steps: ['tls.enable'], reason: 'boom' },
      },
      { type: 'engine', event: { type: 'rollback:step', node: 'pg1', step: 'tls.enable', ok: true } },
      { type: 'engine', event: { type: 'rollback:done', node: 'pg1', ms: 10 } },
      { type: 'apply:failed', error: { code: 'run.rolled-back', message: 'rolled back' }, exitCode: 4 },
    ]);
    expect(s.apply.done.map((l) => `${l.step}:${l.status}`)).toEqual([
      'tls.enable:failed',
      'tls.enable:undone',
      'rollback:undone',
    ]);
    expect(s.apply.status).toBe('failed');
    expect(canGoBack(s)).toBe(false);
    const done = reduce(s, { type: 'finish' });
    expect(done.screen).toBe('done');
    expect(finalExitCode(done)).toBe(4);
  });

  it('a plan with nothing to do skips apply and verifies', () => {
    const idle = {
      ...PLAN,
      nodes: PLAN.nodes.map((n) => ({ ...n, steps: n.steps.map((st) => ({ ...st, needed: false })) })),
    };
    const s = run([...toPlan.slice(0, -1), { type: 'plan:ready', plan: idle }, { type: 'plan:confirm' }]);
    expect(s.screen).toBe('verify');
  });

  it('Ctrl-C asks first; cancel keeps going; host-key prompts queue', () => {
    const s = run([{ type: 'interrupt:request' }]);
    expect(s.quitConfirm).toBe(true);
    expect(reduce(s, { type: 'interrupt:cancel' }).quitConfirm).toBe(false);
    const info = { node: 'pg1', host: 'h', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:x' };
    const q = run([
      { type: 'hostkey:ask', prompt: { id: 'a', info } },
      { type: 'hostkey:ask', prompt: { id: 'b', info } },
      { type: 'hostkey:answer', id: 'a', decision: 'accept-once' },
    ]);
    expect(q.prompts.hostKeys.map((p) => p.id)).toEqual(['b']);
  });

  it('never stores a typed password', () => {
    const s = run([
      { type: 'password:ask', role: 'app' },
      { type: 'password:answer', role: 'app', password: 'hunter2-secret' },
    ]);
    expect(JSON.stringify(s)).not.toContain('hunter2-secret');
    expect(s.prompts.password).toBeUndefined();
  });
});

describe('wizard reducer: secret prompts and per-role auth', () => {
  it('a secret question blocks going back; its answer is never stored', () => {
    const asked = run([
      ...toPlan.slice(0, 3),
      { type: 'secret:ask', prompt: { id: 's1', kind: 'sudo-password', subject: 'admin@pg1' } },
    ]);
    expect(canGoBack({ ...asked, preflight: { ...asked.preflight, status: 'done' } })).toBe(false);
    const answered = reduce(asked, { type: 'secret:answer', id: 's1', value: 'sudo-pw-1' });
    expect(answered.secretPrompts).toEqual([]);
    expect(JSON.stringify(answered)).not.toContain('sudo-pw-1');
  });

  it('role choices are kept on the auth screen only, and dropped with a new inventory', () => {
    const atAuth = run(toPlan.slice(0, 5));
    const chosen = run(
      [
        { type: 'auth:role', role: 'app', auth: 'cert' },
        { type: 'auth:role', role: 'replicator', auth: 'cluster' },
      ],
      atAuth,
    );
    expect(chosen.roleAuth).toEqual({ app: 'cert', replicator: 'cluster' });
    const elsewhere = run(
      [
        { type: 'auth:choose', auth: 'scram' },
        { type: 'auth:role', role: 'x', auth: 'cert' },
      ],
      chosen,
    );
    expect(elsewhere.roleAuth).toEqual({ app: 'cert', replicator: 'cluster' });
    const reloaded = run([{ type: 'inventory:loaded', view: INVENTORY }], elsewhere);
    expect(reloaded.roleAuth).toBeUndefined();
  });
});
