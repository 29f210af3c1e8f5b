import { describe, expect, it } from 'vitest';
import type { StepContext } from '../core/step.js';
import { createCa, issueLeaf } from '../pki/index.js';
import type { RemoteSession } from '../remote/types.js';
import { certAuth, identAfter } from './cert-auth.js';
import type { HardenContext } from './context.js';
import { hbaTransformOf } from './hba-hostssl.js';

const IDENT =
  '# MAPNAME       SYSTEM-USERNAME         PG-USERNAME\nlab             lab_s1                  postgres\n';
const HBA =
  'local all all peer map=lab\nhost all all 10.0.0.0/24 md5\nhost replication replicator 10.0.0.0/24 md5\n';

async function contextOf(auth: HardenContext['auth']): Promise<HardenContext> {
  const ca = await createCa({ cluster: 'unit' });
  const app = await issueLeaf(ca, { name: 'app.example', kind: 'client', sans: [] }, { keyType: 'p256' });
  const repl = await issueLeaf(ca, { name: 'replicator', kind: 'client', sans: [] }, { keyType: 'p256' });
  return {
    inventory: {
      network: ['10.0.0.0/24'],
      roles: [
        { name: 'app', kind: 'client' },
        { name: 'replicator', kind: 'replication' },
      ],
    },
    node: { name: 'pg1', host: '10.0.0.1', pg: { superuser: 'postgres' } },
    facts: {
      osUser: 'lab_s1',
      pg: {
        hbaText: HBA,
        hbaFile: '/d/pg_hba.conf',
        identFile: '/d/pg_ident.conf',
        identText: IDENT,
        md5Roles: [],
      },
    },
    auth,
    tls: {
      caPem: ca.certPem,
      server: { certPem: '', keyPem: '' },
      clients: {
        app: { certPem: app.certPem, keyPem: app.keyPem },
        replicator: { certPem: repl.certPem, keyPem: repl.keyPem },
      },
    },
    passwords: new Map(),
  } as unknown as HardenContext;
}

const ctx = (h: HardenContext): StepContext<HardenContext> => ({
  node: 'pg1',
  session: {} as RemoteSession,
  runId: 'r',
  facts: h,
  signal: new AbortController().signal,
});

describe('auth.cert-auth', () => {
  it('maps a CN that is not the role name, only that one; idempotent', async () => {
    const h = await contextOf('cert');
    const after = identAfter(h, IDENT);
    expect(after).toBe(`${IDENT}pgharden        app.example             app\n`);
    expect(identAfter(h, after)).toBe(after);
  });

  it('plans pg_ident.conf without any key material; hba.hostssl carries the cert rules', async () => {
    const h = await contextOf('cert');
    const p = certAuth.plan(ctx(h));
    expect(p.files.map((f) => f.path)).toEqual(['/d/pg_ident.conf']);
    expect(JSON.stringify(p)).not.toContain('PRIVATE KEY');
    const hba = hbaTransformOf(h).after;
    expect(hba).toContain('hostssl all app 10.0.0.0/24 cert map=pgharden\n');
    expect(hba).toContain('hostssl replication replicator 10.0.0.0/24 cert\n');
  });

  it('does nothing in scram mode', async () => {
    expect(await certAuth.check(ctx(await contextOf('scram')))).toBe(false);
  });
});
