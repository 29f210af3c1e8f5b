// The TLS steps on the real streaming lab, driven through runPlan: primary first, then both
// standbys; a mismatched key rolls everything back; a successful run is rolled back at the end
// (rollbackRun) so the other e2e files find the insecure lab exactly as it was.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabNode } from '../lab/types.js';
import { rollbackRun } from '../../src/core/runner.js';
import { defineStep, emptyPlan } from '../../src/core/step.js';
import type { IssuedLeaf } from '../../src/pki/index.js';
import { editConninfo, formatConninfo, parseConninfo } from '../../src/pgconf/conninfo.js';
import { escapePgpassField } from '../../src/pgconf/pgpass.js';
import { psqlExec } from '../../src/remote/psql.js';
import type { HardenContext } from '../../src/steps/context.js';
import { enableSsl } from '../../src/steps/enable-ssl.js';
import { installCa } from '../../src/steps/install-ca.js';
import { installServerCert } from '../../src/steps/install-server-cert.js';
import { reload, validateAndReload } from '../../src/steps/reload.js';
import { replicationTls } from '../../src/steps/replication-tls.js';
import { sqlLiteral } from '../../src/steps/tls-files.js';
import {
  STEPS,
  byId,
  caPem,
  contexts,
  expectAsBefore,
  expectStreaming,
  lab,
  leaves,
  nodes,
  pg,
  primary,
  q,
  reloadAndPing,
  run,
  sess,
  sessions,
  setupRig,
  startedAt,
  state,
  teardownRig,
  tlsDir,
} from './tls-rig.js';

async function hardened(ctx: Map<string, HardenContext>): Promise<void> {
  // The helper other steps call: on a hardened node it validates the TLS files and reads the log.
  const p0 = primary();
  const f0 = ctx.get(p0.name) as HardenContext;
  expect(await validateAndReload(sess(p0), f0)).toEqual({ logChecked: true });
  // The plan's predicted postgresql.auto.conf is what ALTER SYSTEM really wrote.
  const sc = { node: p0.name, session: sess(p0), runId: 'x', facts: f0, signal: AbortSignal.timeout(9_000) };
  const auto = (await sess(p0).readFile(`${p0.dataDir}/postgresql.auto.conf`)).toString();
  expect(enableSsl.plan(sc).files[0]?.after).toBe(auto);
  for (const n of nodes()) {
    expect(await q(n, "SELECT current_setting('ssl') AS v")).toBe('on');
    expect(await q(n, 'SELECT pg_postmaster_start_time()::text AS v')).toBe(startedAt[n.name]);
  }
  const conninfo = await q(nodes()[1] as LabNode, 'SELECT conninfo AS v FROM pg_stat_wal_receiver');
  expect(String(conninfo)).toContain('sslmode=verify-full');
  expect(
    await q(
      primary(),
      'SELECT count(*)::int AS v FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl',
    ),
  ).toBe(2);
  // From the operator machine, as a client would: verify-full against the lab's CA.
  const dir = mkdtempSync(join(tmpdir(), 'pgh-ca-'));
  try {
    writeFileSync(join(dir, 'root.crt'), caPem);
    const p = primary();
    const r = await execa(
      join(p.binDir, 'psql'),
      [
        `host=${p.host} port=${p.port} dbname=app user=app sslmode=verify-full sslrootcert=${join(dir, 'root.crt')}`,
        '-XAtc',
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      ],
      { env: { PGPASSWORD: lab.passwords['app'] ?? '' }, reject: false },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('t');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Second pass: every step already done.
  const again = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
  for (const n of nodes()) {
    for (const s of n.role === 'primary' ? STEPS : [...STEPS, replicationTls]) {
      const f = again.get(n.name) as HardenContext;
      const c = { node: n.name, session: sess(n), runId: 'x', facts: f, signal: AbortSignal.timeout(30_000) };
      expect(await s.check(c), `${n.name} ${s.id} done`).toBe(false);
    }
  }
}

async function rollBack(runId: string, ctx: Map<string, HardenContext>): Promise<string[]> {
  const rb = await rollbackRun({
    stateDir: state,
    runId,
    sessions: Object.fromEntries(sessions),
    steps: byId,
    facts: Object.fromEntries(ctx),
    bus: { emit: () => undefined },
    afterRollback: (name, s) => reloadAndPing(lab.nodes.find((n) => n.name === name) as LabNode, s),
  });
  return rb.failed;
}

beforeAll(setupRig);
afterAll(teardownRig);

describe('TLS steps on the streaming lab', () => {
  it('primary then standbys: TLS everywhere, verify-full replication, no restart; rollbackRun restores it all', async () => {
    const t0 = performance.now();
    const ctx = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
    const { runId, err } = await run(ctx);
    const applyMs = performance.now() - t0;
    try {
      expect(err).toBeUndefined();
      await hardened(ctx);
    } finally {
      // Whatever failed above: the other e2e files need the insecure lab back.
      const t1 = performance.now();
      // A failed run already rolled itself back (runPlan); a finished one is undone here.
      if (err === undefined) expect(await rollBack(runId, ctx)).toEqual([]);
      console.log(`apply ${Math.round(applyMs)} ms, rollback ${Math.round(performance.now() - t1)} ms`);
    }
    await expectAsBefore();
  });

  it('a server key that does not match its certificate (pg2) → RolledBackError, every node as before', async () => {
    const wrong = leaves.get(nodes()[0]?.name ?? '') as IssuedLeaf;
    const ctx = await contexts((n) => {
      const own = leaves.get(n.name) as IssuedLeaf;
      return n.name === 'pg2' ? { ...own, keyPem: wrong.keyPem } : own;
    });
    const { err } = await run(ctx);
    expect(err).toMatchObject({ exitCode: 4, code: 'run.rolled-back' });
    expect(String((err as Error).message)).toContain('does not match');
    expect(String((err as Error).message)).not.toContain('PRIVATE KEY');
    await expectAsBefore();
  });

  it('a key swapped on the node after install → reload validation refuses before SIGHUP, rolled back', async () => {
    const p = primary();
    const ctx = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
    const key = `${tlsDir(p)}/server.key`;
    const swap = defineStep<HardenContext>({
      id: 'e2e.swap-key',
      title: 'put another key in place',
      check: () => true,
      plan: () => ({
        ...emptyPlan(),
        files: [{ path: key, owner: p.osUser, mode: 0o600, before: '', after: '' }],
      }),
      apply: ({ session }) =>
        session.writeFileAtomic(key, (leaves.get('pg2') as IssuedLeaf).keyPem, {
          owner: p.osUser,
          mode: 0o600,
        }),
      verify: () => true,
      undo: () => Promise.resolve(),
    });
    const { err } = await run(ctx, () => [installCa, installServerCert, swap, enableSsl, reload], [p.name]);
    expect(err).toMatchObject({ code: 'run.rolled-back' });
    expect((err as Error).message).toMatch(
      /tls.enable-ssl failed: .*not reloading: .*server.key is not the file pgharden installed/,
    );
    await expectAsBefore();
  });

  it('a config the server rejects at reload (min > max protocol) → found in the server log, rolled back', async () => {
    const p = primary();
    const ctx = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
    const f = { ...(ctx.get(p.name) as HardenContext), minTlsVersion: 'TLSv1.3' as const };
    ctx.set(p.name, f);
    const maxProto = defineStep<HardenContext>({
      id: 'e2e.max-proto',
      title: 'ssl_max_protocol_version below the minimum',
      check: () => true,
      plan: () => ({
        ...emptyPlan(),
        files: [
          { path: `${p.dataDir}/postgresql.auto.conf`, owner: p.osUser, mode: 0o600, before: '', after: '' },
        ],
      }),
      apply: ({ session }) =>
        psqlExec(session, pg(p), "ALTER SYSTEM SET ssl_max_protocol_version = 'TLSv1.2';"),
      verify: () => true,
      undo: ({ session }) => reloadAndPing(p, session),
    });
    const { err } = await run(ctx, () => [installCa, installServerCert, maxProto, enableSsl], [p.name]);
    expect(err).toMatchObject({ code: 'run.rolled-back' });
    expect((err as Error).message).toMatch(/tls.enable-ssl failed: .*SSL configuration was not reloaded/);
    await expectAsBefore();
  });

  it('a password in primary_conninfo moves to ~/.pgpass (0600, before the wildcard line) behind passfile=', async () => {
    const p = primary();
    const sb = nodes().find((n) => n.role !== 'primary') as LabNode;
    const conf = `${sb.dataDir}/postgresql.auto.conf`;
    const keep = `${conf}.steps-tls-e2e`;
    const password = lab.passwords['replicator'] ?? '';
    expect((await sess(sb).exec(`cp -p -- ${conf} ${keep}`)).code).toBe(0);
    try {
      // Set up the common real-world case: the password inline (pg_basebackup -R without .pgpass).
      const orig = String(await q(sb, "SELECT current_setting('primary_conninfo') AS v"));
      const inline = formatConninfo(editConninfo(parseConninfo(orig), { passfile: undefined, password }));
      await psqlExec(sess(sb), pg(sb), `ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(inline)};`, {
        sensitive: true,
      });
      await reloadAndPing(sb, sess(sb));
      await expectStreaming();
      const ctx = await contexts((n) => leaves.get(n.name) as IssuedLeaf);
      expect(ctx.get(sb.name)?.facts.pg.primaryConninfo).toContain('password=********');
      const { runId, err } = await run(ctx, undefined, [p.name, sb.name]);
      try {
        expect(err).toBeUndefined();
        const pgpass = `${sb.home}/.pgpass`;
        const text = (await sess(sb).readFile(pgpass)).toString();
        expect(text.split('\n')[0]).toBe(
          `${p.host}:${p.port}:replication:replicator:${escapePgpassField(password)}`,
        );
        expect(text.split('\n')[1]).toMatch(/^\*:\*:\*:replicator:/);
        expect((await sess(sb).exec(`stat -c %a ${pgpass}`)).stdout.trim()).toBe('600');
        const now = String(await q(sb, "SELECT current_setting('primary_conninfo') AS v"));
        expect(now).not.toContain('password');
        expect(now).toContain(`passfile=${pgpass}`);
        expect(String(await q(sb, 'SELECT conninfo AS v FROM pg_stat_wal_receiver'))).toContain(
          'verify-full',
        );
      } finally {
        // A failed run already rolled itself back (runPlan); a finished one is undone here.
        if (err === undefined) expect(await rollBack(runId, ctx)).toEqual([]);
        // The journal (apply + rollback) names files, never the password.
        for (const name of readdirSync(state, { recursive: true, encoding: 'utf8' })) {
          const file = join(state, name);
          if (statSync(file).isFile()) expect(readFileSync(file, 'utf8')).not.toContain(password);
        }
      }
    } finally {
      await sess(sb).exec(`cp -p -- ${keep} ${conf} && rm -f -- ${keep}`);
      await reloadAndPing(sb, sess(sb));
    }
    await expectAsBefore();
  });
});
