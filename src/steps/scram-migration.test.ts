import { describe, expect, it } from 'vitest';
import type { StepContext } from '../core/step.js';
import type { RemoteSession } from '../remote/types.js';
import type { HardenContext } from './context.js';
import { scramMatches, scramMigration, scramVerifier } from './scram-migration.js';

// Produced by PostgreSQL 15 itself: SET password_encryption='scram-sha-256';
// CREATE ROLE … PASSWORD 'correct horse battery staple' (in a rolled-back transaction).
const PG_VERIFIER =
  'SCRAM-SHA-256$4096:lyw6S8GemuuPiaFguF/KCg==$MW7xHXeIAWxddHxARfJSsRlwJz3+LeaZC3jx0J7OuIs=:xa1O3o3UGPZdKpZXYAeHyQhloHuIGdfxcimIzq2b7jY=';

describe('scramVerifier', () => {
  it("reproduces PostgreSQL's StoredKey and ServerKey from its salt", () => {
    const salt = Buffer.from('lyw6S8GemuuPiaFguF/KCg==', 'base64');
    expect(scramVerifier('correct horse battery staple', salt)).toBe(PG_VERIFIER);
    expect(scramMatches(PG_VERIFIER, 'correct horse battery staple')).toBe(true);
    expect(scramMatches(PG_VERIFIER, 'wrong')).toBe(false);
  });

  it('RFC 7677 test vector (password "pencil", SaltedPassword → StoredKey/ServerKey)', () => {
    // RFC 7677 §3: salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations. The RFC gives the proofs; the
    // keys below follow from them (ClientProof XOR ClientSignature, ServerSignature check).
    const v = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    expect(v).toBe(
      'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
    );
  });

  it('uses a fresh 16-byte salt each time; custom iterations are written out', () => {
    const a = scramVerifier('x');
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(scramVerifier('x')).not.toBe(a);
    expect(scramVerifier('x', Buffer.alloc(16), 10000)).toMatch(/^SCRAM-SHA-256\$10000:/);
  });
});

function ctxOf(role: 'primary' | 'standby', passwords: Map<string, string>): StepContext<HardenContext> {
  const h = {
    node: { name: 'pg1', host: '127.0.1.1' },
    facts: {
      osUser: 'u',
      pg: {
        md5Roles: [
          { name: 'app', canLogin: true },
          { name: 'we"ird', canLogin: false },
        ],
      },
    },
    role,
    passwords,
  } as unknown as HardenContext;
  return {
    node: 'pg1',
    session: {} as RemoteSession,
    runId: 'r',
    facts: h,
    signal: new AbortController().signal,
  };
}

describe('auth.scram-migration plan', () => {
  const pw = new Map([
    ['app', 'hunter2-secret'],
    ['we"ird', 'other-secret'],
  ]);
  it('runs on the primary only', () => {
    expect(scramMigration.check(ctxOf('primary', pw))).toBe(true);
    expect(scramMigration.check(ctxOf('standby', pw))).toBe(false);
  });
  it('lists the statements with quoted identifiers, never a password or verifier', () => {
    const p = scramMigration.plan(ctxOf('primary', pw));
    expect(p.sql).toContain('ALTER ROLE "we""ird" PASSWORD \'<SCRAM-SHA-256 verifier computed locally>\'');
    const text = JSON.stringify(p);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('SCRAM-SHA-256$');
  });
  it('a missing password is exit 2 naming the env variable, without the others', () => {
    let err: unknown;
    try {
      scramMigration.plan(ctxOf('primary', new Map([['app', 'hunter2-secret']])));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ exitCode: 2 });
    const text = JSON.stringify({ m: (err as Error).message, h: (err as { hint: string }).hint });
    expect(text).toContain('PGHARDEN_PASSWORD_WE_IRD');
    expect(text).not.toContain('hunter2');
  });
});
