// A HardenContext for unit tests, with real PKI material (the plan tests look for the key PEM).
import { createCa, issueLeaf } from '../pki/index.js';
import type { HardenContext } from './context.js';

export async function fixtureContext(
  over: Partial<HardenContext> & { primaryConninfo?: string } = {},
): Promise<HardenContext> {
  const ca = await createCa({ cluster: 'unit' });
  const leaf = await issueLeaf(ca, { name: 'pg2', kind: 'node', sans: ['10.0.0.2'] }, { keyType: 'p256' });
  const repl = await issueLeaf(ca, { name: 'replicator', kind: 'client', sans: [] }, { keyType: 'p256' });
  const { primaryConninfo, ...rest } = over;
  return {
    inventory: { cluster: 'unit', topology: 'streaming', network: ['10.0.0.0/24'], nodes: [] },
    node: { name: 'pg2', host: '10.0.0.2' },
    facts: {
      node: 'pg2',
      host: '10.0.0.2',
      ssh: { user: 'postgres', fingerprint: 'SHA256:x', keyType: 'ssh-ed25519', connectMs: 1 },
      osUser: 'postgres',
      access: 'same-user',
      pgProblem: undefined,
      ms: 1,
      pg: {
        version: '15',
        versionNum: 150000,
        role: 'standby',
        pid: 1,
        dataDir: '/var/lib/postgresql/15/main',
        configFile: '/etc/postgresql/15/main/postgresql.conf',
        hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
        identFile: '/etc/postgresql/15/main/pg_ident.conf',
        port: 5432,
        socketDir: '/var/run/postgresql',
        binDir: '/usr/lib/postgresql/15/bin',
        libpqVersion: '15',
        settings: {},
        md5Roles: [],
        hbaRules: [],
        hbaText: '',
        identText: '',
        settingErrors: [],
        replicationSenders: [],
        walReceiver: undefined,
        primaryConninfo:
          primaryConninfo ?? 'user=replicator password=******** host=pg1 port=5432 sslmode=prefer',
        serverCert: undefined,
        serverCertError: undefined,
        startedAt: '2026-01-01',
      },
    },
    role: 'standby',
    primary: { name: 'pg1', host: '10.0.0.1', port: 5432 },
    auth: 'scram',
    minTlsVersion: 'TLSv1.2',
    tls: {
      caPem: ca.certPem,
      server: { certPem: leaf.certPem, keyPem: leaf.keyPem },
      clients: { replicator: { certPem: repl.certPem, keyPem: repl.keyPem } },
    },
    tlsDir: '/etc/pgharden/tls',
    passwords: new Map(),
    ...rest,
  };
}
