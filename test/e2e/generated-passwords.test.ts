// SPEC §3: an internal role with no password at all — here the replication role, let in by a
// `trust` rule — would be locked out by the hardened rules. apply gives it a generated password,
// sets its SCRAM verifier on the primary, writes it to each standby's ~/.pgpass (0600) and to the
// run's 0600 secrets file, and never prints it. Proven by forcing the standbys to reconnect after
// the rules changed: they must come back over TLS with the new password.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSecretsFile } from '../../src/verify/credentials.js';
import { up } from '../lab/lab.js';
import type { Lab, LabNode } from '../lab/types.js';
import { labInventory, primaryOf, sql, streamingStandbys } from './lab-sql.js';
import { jsonEvents, runCli } from './rig.js';

let lab: Lab;
let work: string;
const standbys = (): LabNode[] => lab.nodes.filter((n) => n.role === 'standby');

/** The lab with its replication role turned into the common insecure setup: no password, trust. */
async function passwordlessReplication(): Promise<void> {
  sql(primaryOf(lab), 'ALTER ROLE replicator PASSWORD NULL');
  for (const n of lab.nodes) {
    const hba = join(n.dataDir, 'pg_hba.conf');
    execFileSync('sed', ['-i', 's/^\\(host\\s\\+replication\\s\\+replicator\\s.*\\)md5$/\\1trust/', hba]);
    sql(n, 'SELECT pg_reload_conf()');
  }
  // The standbys' conninfo names passfile=~/.pgpass: without the file libpq sends no password.
  for (const s of standbys()) await rm(join(s.home, '.pgpass'), { force: true });
  sql(primaryOf(lab), 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
  expect(await streamingStandbys(lab)).toBe(String(standbys().length));
  expect(sql(primaryOf(lab), "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'replicator'")).toBe(
    't',
  );
}

beforeAll(async () => {
  lab = await up('streaming');
  work = await mkdtemp(join(tmpdir(), 'pgharden-genpw-'));
  await passwordlessReplication();
}, 120_000);

afterAll(async () => {
  await up('streaming');
}, 120_000);

describe('an internal role without a password', () => {
  it('gets a generated one: SCRAM on the primary, .pgpass on the standbys, the run secrets file; reconnects over TLS', async () => {
    const inv = await labInventory(lab, work, 'genpw', join(work, 'pki'));
    const state = join(work, 'state');
    // The operator gives the client role's password only: the replication role's is pgharden's to issue.
    const env = { PGHARDEN_PASSWORD_APP: lab.passwords['app'] ?? '' };
    const plan = await runCli(['plan', '-i', inv, '--auth', 'scram', '--json'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(
      /ALTER ROLE \\"replicator\\" PASSWORD '<SCRAM-SHA-256 verifier computed locally; the role had no password>'/,
    );

    const r = await runCli(
      ['apply', '-i', inv, '--auth', 'scram', '--yes', '--state-dir', state, '--json'],
      env,
    );
    expect(r.stderr, r.stderr).toBe('');
    const summary: Record<string, unknown> = jsonEvents(r.stdout).at(-1) ?? {};
    expect(summary).toMatchObject({ type: 'summary', command: 'apply', exitCode: 0 });
    const secretsFile = summary['secretsFile'];
    expect(typeof secretsFile).toBe('string');
    expect((await stat(secretsFile as string)).mode & 0o777).toBe(0o600);
    const generated = (await readSecretsFile(secretsFile as string)).get('replicator') ?? '';
    expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(r.stdout + r.stderr).not.toContain(generated);

    const primary = primaryOf(lab);
    expect(sql(primary, "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'replicator'")).toBe(
      'SCRAM-SHA-256$',
    );
    for (const s of standbys()) {
      const pgpass = join(s.home, '.pgpass');
      expect((await stat(pgpass)).mode & 0o777).toBe(0o600);
      expect(execFileSync('cat', [pgpass], { encoding: 'utf8' })).toContain(
        `:replication:replicator:${generated}`,
      );
    }
    // The rules now demand SCRAM over TLS for replication: a fresh connection must use the new password.
    sql(primary, 'SELECT pg_terminate_backend(pid) FROM pg_stat_replication');
    expect(await streamingStandbys(lab)).toBe(String(standbys().length));
    expect(
      sql(
        primary,
        "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl AND r.state = 'streaming'",
      ),
    ).toBe(String(standbys().length));

    const verify = await runCli(['verify', '-i', inv, '--json'], env);
    expect(jsonEvents(verify.stdout).filter((e) => e.type === 'verify:row' && e['ok'] !== true)).toEqual([]);
    expect(verify.code).toBe(0);
  });
});
