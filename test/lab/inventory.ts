// The inventory (SPEC §5) and secrets file a lab writes for itself.
import { stringify } from 'yaml';
import { inventorySchema, type Inventory } from '../../src/core/inventory-schema.js';
import { PG_BIN, SSH_PORT } from './paths.js';
import { writeOwned } from './proc.js';
import type { Lab, LabVariant } from './types.js';

type Role = NonNullable<Inventory['roles']>[number];

export function rolesOf(variant: LabVariant): Role[] {
  switch (variant) {
    case 'streaming':
      return [
        { name: 'replicator', kind: 'replication' },
        { name: 'app', kind: 'client' },
      ];
    case 'pgpool':
      return [
        { name: 'replicator', kind: 'replication' },
        { name: 'app', kind: 'client' },
        { name: 'pgpool', kind: 'health-check' },
      ];
    case 'pg_auto_failover':
      return [
        { name: 'pgautofailover_replicator', kind: 'replication' },
        { name: 'pgautofailover_monitor', kind: 'monitor' },
        { name: 'autoctl_node', kind: 'monitor' },
        { name: 'app', kind: 'client' },
      ];
  }
}

export function buildInventory(lab: Lab): Inventory {
  const inv: Inventory = {
    cluster: `lab-${lab.variant}`,
    topology: lab.variant,
    // Every TCP connection between 127.0.1.x arrives from 127.0.0.1 (LAB-NOTES): per-host /32 rules never match.
    network: ['127.0.0.0/8'],
    ssh: { identityFile: lab.identityFile, knownHosts: lab.knownHostsPath, port: SSH_PORT },
    nodes: lab.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      role: n.role,
      ssh: { user: n.osUser },
      pg: {
        port: n.port,
        osUser: n.osUser,
        superuser: 'postgres',
        dataDir: n.dataDir,
        binDir: PG_BIN,
        socketDir: n.socketDir,
      },
    })),
    roles: rolesOf(lab.variant),
  };
  if (lab.poolers.length > 0) {
    inv.poolers = lab.poolers.map((p) => ({
      name: p.name,
      host: p.host,
      kind: 'pgpool',
      port: p.port,
      osUser: p.osUser,
      configFile: p.configFile,
      hbaFile: p.hbaFile,
      keyFile: p.keyFile,
      ssh: { user: p.osUser },
    }));
  }
  return inventorySchema.parse(inv);
}

export async function writeInventory(lab: Lab): Promise<void> {
  const header =
    `# Written by the pgharden lab (test/lab) for its ${lab.variant} variant; rewritten at every \`lab up\`.\n` +
    `# Deliberately insecure cluster (ssl off, md5, open pg_hba.conf). Passwords: ${lab.secretsPath}\n`;
  await writeOwned(lab.inventoryPath, header + stringify(buildInventory(lab)), 0o644);
}

export async function writeSecrets(lab: Lab): Promise<void> {
  const header = '# Written by the pgharden lab (test/lab): database role → password.\n';
  await writeOwned(lab.secretsPath, header + stringify(lab.passwords), 0o600);
}
