// The inventory (SPEC §5). Its keys are public contract: extend, never rename.
import { isIP } from 'node:net';
import { z } from 'zod';

export const TOPOLOGIES = ['streaming', 'pg_auto_failover', 'pgpool', 'pgdog', 'pgd'] as const;
export const AUTH_MODES = ['scram', 'cert', 'scram+cert'] as const;
export const ROLE_KINDS = ['client', 'replication', 'monitor', 'health-check'] as const;
export const NODE_ROLES = ['primary', 'standby', 'monitor', 'data', 'witness'] as const;

/** `10.0.0.0/24`, `127.0.0.0/8`, `::1/128`; a bare address means /32 or /128. */
export function parseCidr(text: string): { address: string; prefix: number; family: 4 | 6 } | undefined {
  const [address = '', prefixText, ...rest] = text.split('/');
  if (rest.length > 0) return undefined;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { address, prefix, family } : undefined;
}

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  message: 'not a CIDR (expected e.g. 10.0.0.0/24 or fd00::/64)',
});

const hostName = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => !/\s/.test(s), 'must not contain whitespace');

export const sshSettingsSchema = z
  .object({
    user: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    identityFile: z.string().min(1).optional(),
    knownHosts: z.string().min(1).optional(),
    /** true: run PostgreSQL-side commands via sudo -u <osUser> when the SSH user differs. */
    sudo: z.boolean().optional(),
    proxyJump: z.string().min(1).optional(),
    /** Connect timeout in milliseconds (ssh2 readyTimeout). */
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  })
  .strict();
export type SshSettings = z.infer<typeof sshSettingsSchema>;

export const pgSettingsSchema = z
  .object({
    port: z.number().int().min(1).max(65535).optional(),
    osUser: z.string().min(1).optional(),
    superuser: z.string().min(1).optional(),
    dataDir: z.string().min(1).optional(),
    binDir: z.string().min(1).optional(),
    socketDir: z.string().min(1).optional(),
    version: z.number().int().optional(),
  })
  .strict();
export type PgSettings = z.infer<typeof pgSettingsSchema>;

export const nodeSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'node names are letters, digits, ".", "_" and "-"'),
    host: hostName,
    names: z.array(hostName).optional(),
    role: z.enum(NODE_ROLES).optional(),
    pg: pgSettingsSchema.optional(),
    ssh: sshSettingsSchema.optional(),
  })
  .strict();
export type InventoryNode = z.infer<typeof nodeSchema>;

export const roleSchema = z
  .object({
    name: z.string().min(1),
    kind: z.enum(ROLE_KINDS),
    auth: z.enum(AUTH_MODES).optional(),
  })
  .strict();

export const poolerSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
    host: hostName,
    names: z.array(hostName).optional(),
    kind: z.enum(['pgpool', 'pgdog']),
    port: z.number().int().min(1).max(65535).optional(),
    osUser: z.string().min(1).optional(),
    configFile: z.string().min(1).optional(),
    hbaFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    service: z.string().min(1).optional(),
    ssh: sshSettingsSchema.optional(),
  })
  .strict();

export const inventorySchema = z
  .object({
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'cluster names are letters, digits, ".", "_" and "-"'),
    topology: z.enum(TOPOLOGIES),
    network: z.array(cidr).min(1, 'at least one CIDR is needed for hba rules'),
    auth: z.enum(AUTH_MODES).optional(),
    tls: z
      .object({
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
        ciphers: z.string().min(1).optional(),
        // Where certificates and keys go on every node (extension of SPEC §5). Default:
        // <parent of the data directory>/pgharden-tls — outside PGDATA, so base backups and
        // pg_rewind never copy a private key.
        dir: z
          .string()
          .regex(/^\/[^\0\n]*$/, 'an absolute path on the nodes')
          .refine((d) => !/(^|\/)\.\.?(\/|$)/.test(d), 'no "." or ".." components')
          .optional(),
      })
      .strict()
      .optional(),
    ssh: sshSettingsSchema.optional(),
    nodes: z.array(nodeSchema).min(1, 'at least one node is needed'),
    roles: z.array(roleSchema).optional(),
    poolers: z.array(poolerSchema).optional(),
    pgd: z
      .object({
        database: z.string().optional(),
        group: z.string().optional(),
        connectionManager: z
          .object({
            useHttps: z.boolean().optional(),
            readWritePort: z.number().int().optional(),
            readOnlyPort: z.number().int().optional(),
            httpPort: z.number().int().optional(),
            maxClientConnections: z.number().int().optional(),
            maxServerConnections: z.number().int().optional(),
            readWriteConsensusTimeout: z.union([z.number(), z.string()]).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    pki: z
      .object({ dir: z.string().min(1).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type Inventory = z.infer<typeof inventorySchema>;
