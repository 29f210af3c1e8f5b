// Plain data for wizard and screen tests: an inventory view, a plan, certificates. No secrets.
import type { PlanDocument } from '../core/harden.js';
import type { CertView, InventoryView } from './state.js';

export const INVENTORY: InventoryView = {
  path: '/tmp/inv.yaml',
  cluster: 'lab',
  topology: 'streaming',
  network: ['127.0.0.0/8'],
  nodes: [
    { name: 'pg1', host: '127.0.1.1', role: 'primary' },
    { name: 'pg2', host: '127.0.1.2', role: 'standby' },
  ],
};

export const PLAN: PlanDocument = {
  v: 1,
  cluster: 'lab',
  topology: 'streaming',
  auth: 'scram',
  createdAt: '2026-01-01T00:00:00.000Z',
  nodes: [
    {
      node: 'pg1',
      host: '127.0.1.1',
      role: 'primary',
      steps: [
        {
          id: 'tls.enable',
          title: 'Enable TLS',
          needed: true,
          change: {
            files: [],
            sql: ['ALTER SYSTEM SET ssl = on'],
            commands: [],
            reload: true,
            restart: false,
          },
          diffs: [
            '--- a/pg_hba.conf\n+++ b/pg_hba.conf\n@@ -1,1 +1,1 @@\n-host all all 0.0.0.0/0 md5\n+hostssl all all 0.0.0.0/0 scram-sha-256',
          ],
        },
        { id: 'ca.install', title: 'Install the CA', needed: false },
      ],
    },
    {
      node: 'pg2',
      host: '127.0.1.2',
      role: 'standby',
      steps: [{ id: 'tls.enable', title: 'Enable TLS', needed: true }],
    },
  ],
  phases: [[{ node: 'pg1', steps: ['tls.enable'] }], [{ node: 'pg2', steps: ['tls.enable'] }]],
  checksums: {},
  reloads: 1,
  restarts: 0,
};

export const CERTS: CertView[] = [
  {
    file: '/pki/root.crt',
    kind: 'ca',
    name: 'CA',
    subject: 'CN=lab CA',
    issuer: 'CN=lab CA',
    sans: [],
    keyType: 'ECDSA P-256',
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2036-01-01T00:00:00.000Z',
    daysLeft: 3650,
    fingerprint: 'AA:BB',
    status: 'issued',
    findings: [],
  },
  {
    file: '/pki/pg1.crt',
    kind: 'server',
    name: 'pg1',
    subject: 'CN=pg1',
    issuer: 'CN=lab CA',
    sans: ['IP:127.0.1.1'],
    keyType: 'ECDSA P-256',
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2027-01-01T00:00:00.000Z',
    daysLeft: 365,
    fingerprint: 'CC:DD',
    status: 'issued',
    findings: [],
  },
];
