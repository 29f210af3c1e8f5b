import { describe, expect, it, vi } from 'vitest';
import { InterruptedError, RolledBackError, UsageError } from '../core/errors.js';
import type { HostKeyInfo } from '../remote/types.js';
import { WizardController } from './controller.js';
import type { PlanDocument } from '../core/harden.js';
import type { WizardEngine } from './port.js';
import { CERTS, INVENTORY, PLAN } from './test-fixtures.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const KEY: HostKeyInfo = {
  node: 'pg1',
  host: '127.0.1.1',
  port: 22,
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:abc',
};

function fakeEngine(over: Partial<WizardEngine> = {}): WizardEngine & { calls: string[] } {
  const calls: string[] = [];
  const log = <T>(name: string, value: T) => {
    calls.push(name);
    return Promise.resolve(value);
  };
  return {
    calls,
    findInventories: () => log('findInventories', ['inv.yaml']),
    interruptedRuns: () =>
      log('interruptedRuns', [
        { runId: '20260101T000000Z-abcdef', inventory: '/inv.yaml', nodes: ['pg1'], interrupted: 1 },
      ]),
    loadInventory: (p) => log(`loadInventory ${p}`, INVENTORY),
    sshConfigHosts: () => log('sshConfigHosts', [{ alias: 'pg1', hostName: '127.0.1.1' }]),
    writeInventory: (i) => log(`writeInventory ${i.path}`, i.path),
    preflight: async (hooks) => {
      calls.push('preflight');
      hooks.emit({ type: 'node:connecting', node: 'pg1', host: '127.0.1.1', port: 22 });
      const decision = await hooks.askHostKey(KEY);
      calls.push(`hostkey ${decision}`);
      return { details: [], findings: [] };
    },
    certificates: (auth, src) => log(`certificates ${auth} ${src.kind}`, { dir: '/pki', items: CERTS }),
    plan: async (_auth, hooks) => {
      calls.push('plan');
      calls.push(`password ${(await hooks.askPassword('app')) === undefined ? 'none' : 'given'}`);
      return PLAN;
    },
    apply: () => log('apply', { runId: 'r1', journal: '/j' }),
    verify: () => log('verify', 0 as const),
    runOutputs: (code) =>
      log(`runOutputs ${code}`, {
        report: { json: '/state/runs/r1/report.json', md: '/state/runs/r1/report.md' },
        bundle: code === 0 ? '/state/runs/r1/client-bundle' : undefined,
      }),
    audit: () => log('audit', { findings: [], exitCode: 0 as const }),
    close: () => log('close', undefined),
    prepareResume: (runId) =>
      log(`prepareResume ${runId}`, {
        view: INVENTORY,
        auth: 'scram' as const,
        certsDir: '/pki',
        plan: PLAN,
      }),
    rollback: (runId) => log(`rollback ${runId}`, { nodes: { pg1: ['tls.install-ca'] }, failed: [] }),
    rotationView: () =>
      log('rotationView', {
        pkiDir: '/pki',
        caState: 'none' as const,
        certs: [
          {
            node: 'pg1',
            what: 'server' as const,
            subject: 'CN=127.0.1.1',
            notAfter: '2027-01-01T00:00:00.000Z',
            daysLeft: 5,
          },
        ],
      }),
    planRotation: (choice) => log(`planRotation ${choice}`, PLAN),
    discardRotation: () => log('discardRotation', undefined),
    suggestSaveDir: () => log('suggestSaveDir', '/state/saved/x'),
    saveAnswers: (dir) =>
      log(`saveAnswers ${dir}`, {
        dir,
        inventory: `${dir}/inventory.yaml`,
        plan: `${dir}/plan.json`,
        command: `pgharden apply -i ${dir}/inventory.yaml --plan ${dir}/plan.json --yes`,
        env: ['PGHARDEN_PASSWORD_APP'],
      }),
    ...over,
  };
}

/** Job → inventory → preflight (its host key accepted once) → continue. */
async function throughPreflight(c: WizardController, job: 'harden' | 'rotate' = 'harden'): Promise<void> {
  c.dispatch({ type: 'job:choose', job });
  c.dispatch({ type: 'inventory:load', path: 'inv.yaml' });
  await tick();
  const [prompt] = c.getState().prompts.hostKeys;
  expect(prompt?.info.fingerprint).toBe('SHA256:abc');
  c.dispatch({ type: 'hostkey:answer', id: prompt!.id, decision: 'accept-once' });
  await tick();
  c.dispatch({ type: 'preflight:continue' });
}

async function toPlan(c: WizardController): Promise<void> {
  await throughPreflight(c);
  c.dispatch({ type: 'auth:choose', auth: 'scram' });
  c.dispatch({ type: 'certs:generate' });
  await tick();
  c.dispatch({ type: 'certs:continue' });
  await tick();
  expect(c.getState().prompts.password).toEqual({ role: 'app' });
  c.dispatch({ type: 'password:answer', role: 'app', password: 's3cret-pw' });
  await tick();
}

describe('wizard controller: interrupted runs and saved answers', () => {
  const RUN = '20260101T000000Z-abcdef';

  async function toRun(c: WizardController): Promise<void> {
    await c.start();
    c.dispatch({ type: 'run:select', runId: RUN });
    expect(c.getState().screen).toBe('run');
  }

  it('resume: the rest of the run is planned, shown, and continued by apply only after the confirmation', async () => {
    const engine = fakeEngine();
    const c = new WizardController(engine);
    await toRun(c);
    c.dispatch({ type: 'run:resume' });
    await tick();
    expect(c.getState()).toMatchObject({ screen: 'plan', runAction: { runId: RUN, kind: 'resume' } });
    expect(engine.calls).toContain(`prepareResume ${RUN}`);
    expect(engine.calls).not.toContain('apply');
    // Esc goes back to the run's choices and closes the sessions.
    c.dispatch({ type: 'back' });
    await tick();
    expect(c.getState()).toMatchObject({ screen: 'run', plan: undefined });
    expect(engine.calls.at(-1)).toBe('close');
    c.dispatch({ type: 'run:resume' });
    await tick();
    c.dispatch({ type: 'plan:confirm' });
    await tick();
    await tick();
    expect(c.getState().screen).toBe('done');
    expect(engine.calls.slice(-4)).toEqual(['apply', 'close', 'verify', 'runOutputs 0']);
  });

  it('resume refused (run locked by another process): the error is on the run screen, nothing ran', async () => {
    const locked = new UsageError(
      'run.locked',
      'cluster lab is locked by run 20260101T000001Z-bbbbbb (pid 4242 on here, since now)',
      'wait for that run to finish',
    );
    const engine = fakeEngine({ prepareResume: () => Promise.reject(locked) });
    const c = new WizardController(engine);
    await toRun(c);
    c.dispatch({ type: 'run:resume' });
    await tick();
    expect(c.getState()).toMatchObject({
      screen: 'run',
      busy: undefined,
      error: { code: 'run.locked', hint: 'wait for that run to finish' },
    });
    expect(engine.calls).not.toContain('apply');
  });

  it('roll back: runs the core rollback, then Done with exit 0; a failed node makes it exit 1', async () => {
    const engine = fakeEngine();
    const c = new WizardController(engine);
    await toRun(c);
    c.dispatch({ type: 'run:rollback' });
    await tick();
    expect(engine.calls).toContain(`rollback ${RUN}`);
    expect(c.getState()).toMatchObject({ screen: 'done', apply: { status: 'done', exitCode: 0 } });
    c.dispatch({ type: 'finish' });
    await tick();
    expect(c.getState().exitCode).toBe(0);

    const bad = new WizardController(
      fakeEngine({ rollback: () => Promise.resolve({ nodes: { pg1: [] }, failed: ['pg1'] }) }),
    );
    await toRun(bad);
    bad.dispatch({ type: 'run:rollback' });
    await tick();
    expect(bad.getState()).toMatchObject({ screen: 'done', apply: { status: 'failed', exitCode: 1 } });
  });

  it('roll back refused (journal unreadable): the apply screen says nothing was changed, exit 2', async () => {
    const unreadable = new UsageError(
      'run.unknown',
      `no journal for run ${RUN} at /state/runs/${RUN}/journal.jsonl`,
    );
    const c = new WizardController(fakeEngine({ rollback: () => Promise.reject(unreadable) }));
    await toRun(c);
    c.dispatch({ type: 'run:rollback' });
    await tick();
    expect(c.getState()).toMatchObject({
      screen: 'apply',
      apply: { status: 'failed', exitCode: 2 },
      error: { code: 'run.unknown' },
    });
    c.dispatch({ type: 'finish' });
    c.dispatch({ type: 'finish' });
    await tick();
    expect(c.getState().exitCode).toBe(2);
  });

  it('Ctrl-C is not taken while a roll back runs', async () => {
    let finish: (v: { nodes: Record<string, string[]>; failed: string[] }) => void = () => undefined;
    const engine = fakeEngine({ rollback: () => new Promise((r) => (finish = r)) });
    const c = new WizardController(engine);
    await toRun(c);
    c.dispatch({ type: 'run:rollback' });
    c.dispatch({ type: 'interrupt:request' });
    expect(c.getState().quitConfirm).toBe(false);
    await tick();
    finish({ nodes: {}, failed: [] });
    await tick();
    expect(c.getState().screen).toBe('done');
  });

  it('save: suggests a directory, writes through the engine and shows the command; a failure keeps the field', async () => {
    let fail = true;
    const engine = fakeEngine({
      saveAnswers: (dir) =>
        fail
          ? Promise.reject(new UsageError('save.exists', `${dir}/inventory.yaml exists already`))
          : Promise.resolve({
              dir,
              inventory: `${dir}/inventory.yaml`,
              plan: `${dir}/plan.json`,
              command: 'pgharden apply …',
              env: [],
            }),
    });
    const c = new WizardController(engine);
    await toPlan(c);
    c.dispatch({ type: 'save:ask' });
    await tick();
    expect(c.getState().save).toEqual({ asking: { dir: '/state/saved/x' } });
    c.dispatch({ type: 'save:write', dir: '/here' });
    await tick();
    expect(c.getState()).toMatchObject({
      busy: undefined,
      error: { code: 'save.exists' },
      save: { asking: {} },
    });
    fail = false;
    c.dispatch({ type: 'save:write', dir: '/there' });
    await tick();
    expect(c.getState().save?.saved?.inventory).toBe('/there/inventory.yaml');
    // toPlan accepted pg1's host key for this run only: the dialog names it.
    expect(c.getState().save?.saved?.hostKeysOnce).toEqual(['pg1']);
    c.dispatch({ type: 'save:close' });
    expect(c.getState()).toMatchObject({ screen: 'plan', save: undefined });
    expect(engine.calls).not.toContain('apply');
  });
});

describe('wizard controller', () => {
  it('runs the job by the engine, with the host-key and password round trips', async () => {
    const engine = fakeEngine();
    const c = new WizardController(engine);
    await c.start();
    expect(c.getState().welcome.inventories).toEqual(['inv.yaml']);
    expect(c.getState().welcome.runs.map((r) => r.runId)).toEqual(['20260101T000000Z-abcdef']);
    await toPlan(c);
    expect(c.getState().screen).toBe('plan');
    expect(engine.calls).toContain('hostkey accept-once');
    expect(engine.calls).toContain('password given');
    expect(engine.calls).not.toContain('apply'); // nothing changes before the plan is confirmed
    c.dispatch({ type: 'plan:confirm' });
    await tick();
    await tick();
    expect(c.getState().screen).toBe('done');
    expect(engine.calls.slice(-4)).toEqual(['apply', 'close', 'verify', 'runOutputs 0']);
    expect(c.getState().apply.files).toEqual({
      report: { json: '/state/runs/r1/report.json', md: '/state/runs/r1/report.md' },
      bundle: '/state/runs/r1/client-bundle',
    });
    c.dispatch({ type: 'finish' });
    await tick();
    expect(c.getState().exitCode).toBe(0);
    expect(JSON.stringify(c.getState())).not.toContain('s3cret-pw');
  });

  it('Ctrl-C during apply aborts the run signal, shows the rollback and exits 130', async () => {
    let seen: AbortSignal | undefined;
    const engine = fakeEngine({
      apply: (_hooks, signal) => {
        seen = signal;
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        );
      },
    });
    const c = new WizardController(engine);
    await toPlan(c);
    c.dispatch({ type: 'plan:confirm' });
    await tick();
    c.dispatch({ type: 'interrupt:request' });
    expect(seen?.aborted).toBe(false); // asked first
    c.dispatch({ type: 'interrupt:confirm' });
    await tick();
    await tick();
    expect(seen?.reason).toBeInstanceOf(InterruptedError);
    expect(c.getState().apply.status).toBe('interrupted');
    expect(c.getState().exitCode).toBe(130);
    expect(engine.calls.slice(-2)).toEqual(['runOutputs 130', 'close']); // the report, then out
  });

  it('a rolled-back apply stays on screen with exit 4 until the operator finishes', async () => {
    const engine = fakeEngine({
      apply: () => Promise.reject(new RolledBackError('run.rolled-back', 'pg1 failed; rolled back')),
    });
    const c = new WizardController(engine);
    await toPlan(c);
    c.dispatch({ type: 'plan:confirm' });
    await tick();
    expect(c.getState().apply.status).toBe('failed');
    expect(c.getState().error?.message).toMatch(/rolled back/);
    expect(engine.calls).not.toContain('verify');
    expect(engine.calls).toContain('runOutputs 4');
    expect(c.getState().apply.files?.bundle).toBeUndefined();
    c.dispatch({ type: 'finish' });
    c.dispatch({ type: 'finish' });
    await tick();
    expect(c.getState().exitCode).toBe(4);
  });

  it('a report that cannot be written is shown on the Done screen; the run and its exit code stand', async () => {
    const engine = fakeEngine({ runOutputs: () => Promise.reject(new Error('disk full')) });
    const c = new WizardController(engine);
    await toPlan(c);
    c.dispatch({ type: 'plan:confirm' });
    await tick();
    await tick();
    expect(c.getState()).toMatchObject({ screen: 'done', error: { message: 'disk full' } });
    c.dispatch({ type: 'finish' });
    await tick();
    expect(c.getState().exitCode).toBe(0);
  });

  it('an engine error becomes an error on screen and changes nothing else', async () => {
    const engine = fakeEngine({
      loadInventory: vi.fn(() => Promise.reject(new Error('boom'))),
    });
    const c = new WizardController(engine);
    c.dispatch({ type: 'job:choose', job: 'harden' });
    c.dispatch({ type: 'inventory:load', path: 'nope.yaml' });
    await tick();
    expect(c.getState()).toMatchObject({ screen: 'inventory', busy: undefined, error: { message: 'boom' } });
    expect(engine.calls).not.toContain('preflight');
  });

  it('declining a host key fails that node only; an accepted-once key is not asked again', async () => {
    const answers: string[] = [];
    const engine = fakeEngine({
      preflight: async (hooks) => {
        answers.push(await hooks.askHostKey(KEY));
        answers.push(await hooks.askHostKey(KEY));
        return { details: [], findings: [] };
      },
    });
    const c = new WizardController(engine);
    c.dispatch({ type: 'job:choose', job: 'harden' });
    c.dispatch({ type: 'inventory:load', path: 'inv.yaml' });
    await tick();
    c.dispatch({ type: 'hostkey:answer', id: c.getState().prompts.hostKeys[0]!.id, decision: 'accept-once' });
    await tick();
    expect(answers).toEqual(['accept-once', 'accept-once']);
    expect(c.getState().prompts.hostKeys).toEqual([]);
  });

  it('q on the welcome screen exits 0 after closing the engine', async () => {
    const engine = fakeEngine();
    const c = new WizardController(engine);
    c.dispatch({ type: 'back' });
    await tick();
    expect(c.getState().exitCode).toBe(0);
    expect(engine.calls).toEqual(['close']);
  });
});

describe('wizard controller: secret prompts', () => {
  const toPreflight = async (c: WizardController): Promise<void> => {
    c.dispatch({ type: 'job:choose', job: 'harden' });
    c.dispatch({ type: 'inventory:load', path: 'inv.yaml' });
    await tick();
  };

  it('SSH: the engine asks through the port, the answer resolves it and is kept nowhere in state', async () => {
    const got: (string | undefined)[] = [];
    const engine = fakeEngine({
      preflight: async (hooks) => {
        got.push(await hooks.askSecret({ kind: 'ssh-key-passphrase', subject: '/home/op/.ssh/id_ed25519' }));
        got.push(await hooks.askSecret({ kind: 'sudo-password', subject: 'admin@pg1' }));
        return { details: [], findings: [] };
      },
    });
    const c = new WizardController(engine);
    await toPreflight(c);
    const [first] = c.getState().secretPrompts ?? [];
    expect(first).toMatchObject({ kind: 'ssh-key-passphrase', subject: '/home/op/.ssh/id_ed25519' });
    c.dispatch({ type: 'back' }); // not while a question is open
    expect(c.getState().screen).toBe('preflight');
    c.dispatch({ type: 'secret:answer', id: first!.id, value: 'key-pass-123' });
    await tick();
    const [second] = c.getState().secretPrompts ?? [];
    expect(second).toMatchObject({ kind: 'sudo-password', subject: 'admin@pg1' });
    c.dispatch({ type: 'secret:answer', id: second!.id, value: undefined }); // Esc
    await tick();
    expect(got).toEqual(['key-pass-123', undefined]);
    expect(c.getState().secretPrompts).toEqual([]);
    expect(c.getState().preflight.status).toBe('done');
    expect(JSON.stringify(c.getState())).not.toContain('key-pass-123');
  });

  it('certificates: an encrypted CA key is asked for, again after a wrong passphrase', async () => {
    const engine = fakeEngine({
      certificates: async (_auth, _src, hooks) => {
        let retry: string | undefined;
        for (;;) {
          const p = await hooks?.askSecret({ kind: 'ca-passphrase', subject: '/pki/root.key', retry });
          if (p === 'right') return { dir: '/pki', items: CERTS };
          retry = 'that passphrase does not decrypt /pki/root.key';
        }
      },
    });
    const c = new WizardController(engine);
    await toPreflight(c);
    c.dispatch({ type: 'hostkey:answer', id: c.getState().prompts.hostKeys[0]!.id, decision: 'accept-once' });
    await tick();
    c.dispatch({ type: 'preflight:continue' });
    c.dispatch({ type: 'auth:choose', auth: 'scram' });
    c.dispatch({ type: 'certs:generate' });
    await tick();
    const asked = (): NonNullable<ReturnType<WizardController['getState']>['secretPrompts']> =>
      c.getState().secretPrompts ?? [];
    c.dispatch({ type: 'secret:answer', id: asked()[0]!.id, value: 'wrong' });
    await tick();
    expect(asked()).toMatchObject([{ kind: 'ca-passphrase', retry: /does not decrypt/ }]);
    c.dispatch({ type: 'secret:answer', id: asked()[0]!.id, value: 'right' });
    await tick();
    expect(c.getState().certs.items).toEqual(CERTS);
    expect(JSON.stringify(c.getState())).not.toMatch(/"(wrong|right)"/);
  });

  it('a confirmed Ctrl-C answers an open secret question with nothing and clears it', async () => {
    const got: (string | undefined)[] = [];
    const engine = fakeEngine({
      preflight: async (hooks) => {
        got.push(await hooks.askSecret({ kind: 'sudo-password', subject: 'admin@pg1' }));
        return { details: [], findings: [] };
      },
    });
    const c = new WizardController(engine);
    await toPreflight(c);
    c.dispatch({ type: 'interrupt:request' });
    c.dispatch({ type: 'interrupt:confirm' });
    await tick();
    expect(got).toEqual([undefined]);
    expect(c.getState().secretPrompts).toEqual([]);
    expect(c.getState().exitCode).toBe(130);
  });
});

describe('wizard controller: per-role auth', () => {
  it('the roles changed on the auth screen go to the engine before certificates', async () => {
    const seen: unknown[] = [];
    const engine = fakeEngine({
      setRoleAuth: (roles) => {
        seen.push(roles);
      },
      certificates: (auth, src) => {
        seen.push(`certificates ${auth} ${src.kind}`);
        return Promise.resolve({ dir: '/pki', items: CERTS });
      },
    });
    const c = new WizardController(engine);
    c.dispatch({ type: 'job:choose', job: 'harden' });
    c.dispatch({ type: 'inventory:load', path: 'inv.yaml' });
    await tick();
    c.dispatch({ type: 'hostkey:answer', id: c.getState().prompts.hostKeys[0]!.id, decision: 'accept-once' });
    await tick();
    c.dispatch({ type: 'preflight:continue' });
    c.dispatch({ type: 'auth:role', role: 'app', auth: 'cert' });
    c.dispatch({ type: 'auth:role', role: 'replicator', auth: 'cluster' });
    c.dispatch({ type: 'auth:choose', auth: 'scram' });
    c.dispatch({ type: 'certs:generate' });
    await tick();
    expect(seen).toEqual([{ app: 'cert', replicator: 'cluster' }, 'certificates scram generate']);
  });
});

describe('wizard controller: the pg_auto_failover job (issue #7)', () => {
  async function planAs(topology: PlanDocument['topology']): Promise<WizardController> {
    const engine = fakeEngine({
      preflight: () => Promise.resolve({ details: [], findings: [] }),
      plan: () => Promise.resolve({ ...PLAN, topology }),
    });
    const c = new WizardController(engine);
    c.dispatch({ type: 'job:choose', job: 'pgautofailover' });
    c.dispatch({ type: 'inventory:load', path: 'inv.yaml' });
    await tick();
    c.dispatch({ type: 'preflight:continue' });
    c.dispatch({ type: 'auth:choose', auth: 'scram' });
    c.dispatch({ type: 'certs:generate' });
    await tick();
    c.dispatch({ type: 'certs:continue' });
    await tick();
    return c;
  }

  it('runs the first-time hardening flow up to the plan when a formation is detected', async () => {
    const c = await planAs('pg_auto_failover');
    expect(c.getState()).toMatchObject({ screen: 'plan', job: 'pgautofailover' });
    expect(c.getState().plan?.topology).toBe('pg_auto_failover');
  });

  it('refuses a cluster pg_autoctl does not manage, with the error on screen', async () => {
    const c = await planAs('streaming');
    expect(c.getState().screen).not.toBe('plan');
    expect(c.getState().error?.code).toBe('wizard.not-pg-auto-failover');
  });
});

describe('wizard controller: rotation (job rotate)', () => {
  it('preflight → the certificates in use → a choice planned by the engine → Esc puts the PKI back → apply, verify', async () => {
    const engine = fakeEngine();
    const c = new WizardController(engine);
    await throughPreflight(c, 'rotate');
    await tick();
    expect(c.getState()).toMatchObject({ screen: 'rotate', busy: undefined });
    expect(c.getState().rotation?.view?.certs[0]?.daysLeft).toBe(5);
    expect(engine.calls).not.toContain('certificates scram generate');

    c.dispatch({ type: 'rotate:choose', choice: 'leaves' });
    await tick();
    expect(c.getState()).toMatchObject({ screen: 'plan', plan: PLAN });
    expect(engine.calls).toContain('planRotation leaves');
    c.dispatch({ type: 'back' });
    await tick();
    expect(c.getState().screen).toBe('rotate');
    expect(engine.calls.at(-1)).toBe('discardRotation');
    expect(engine.calls).not.toContain('apply');

    c.dispatch({ type: 'rotate:choose', choice: 'new-ca' });
    await tick();
    c.dispatch({ type: 'plan:confirm' });
    await tick();
    await tick();
    expect(engine.calls).toContain('planRotation new-ca');
    expect(engine.calls.filter((x) => x === 'apply')).toHaveLength(1);
    expect(c.getState()).toMatchObject({ screen: 'done', verify: { exitCode: 0 } });
  });
});
