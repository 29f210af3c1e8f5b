// `pgharden init`: write an inventory from flags or from ~/.ssh/config. Validated before it is written.
import { readFile, writeFile, access } from 'node:fs/promises';
import { Document } from 'yaml';
import { UsageError, type ExitCode } from '../core/errors.js';
import { parseInventory } from '../core/inventory.js';
import { NODE_ROLES, type Inventory } from '../core/inventory-schema.js';
import { defaultSshConfig, expandHome } from '../core/paths.js';
import { listSshConfigHosts } from '../remote/ssh-config.js';
import type { CliIo, GlobalOptions } from './io.js';
import { report } from './report-error.js';

interface InitOptions {
  out?: string;
  cluster?: string;
  topology?: Inventory['topology'];
  network?: string[];
  node?: string[];
  fromSshConfig?: string | boolean;
  sshConfig?: string;
  fromPgAutoctl?: string;
  sshUser?: string;
  identityFile?: string;
  knownHosts?: string;
  osUser?: string;
  force?: boolean;
}

type InventoryNode = Inventory['nodes'][number];

/** `pg1=10.0.0.11`, `pg2=10.0.0.12:standby`, `[fd00::1]:standby`-style hosts are bracketed. */
export function parseNodeFlag(spec: string): Pick<InventoryNode, 'name' | 'host' | 'role'> {
  const m = /^([^=]+)=(\[[^\]]+\]|[^:]+)(?::([a-z]+))?$/.exec(spec);
  if (!m?.[1] || !m[2])
    throw new UsageError(
      'init.bad-node',
      `--node ${spec}: expected NAME=HOST[:ROLE]`,
      'e.g. --node pg1=10.0.0.11:primary',
    );
  const role = m[3];
  if (role !== undefined && !(NODE_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(
      'init.bad-node',
      `--node ${spec}: unknown role ${role}`,
      `roles: ${NODE_ROLES.join(', ')}`,
    );
  }
  return {
    name: m[1],
    host: m[2].replace(/^\[|\]$/g, ''),
    ...(role ? { role: role as InventoryNode['role'] } : {}),
  };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

async function nodesFromSshConfig(opts: InitOptions): Promise<Pick<InventoryNode, 'name' | 'host'>[]> {
  const path = opts.sshConfig !== undefined ? expandHome(opts.sshConfig) : defaultSshConfig();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(
      'init.no-ssh-config',
      `cannot read ${path}`,
      'pass --ssh-config FILE or use --node NAME=HOST',
    );
  }
  const pattern = typeof opts.fromSshConfig === 'string' ? globToRegExp(opts.fromSshConfig) : undefined;
  // host stays the alias so ~/.ssh/config (User, Port, IdentityFile, ProxyJump) applies when connecting.
  return listSshConfigHosts(text)
    .filter((h) => pattern === undefined || pattern.test(h.alias))
    .map((h) => ({ name: h.alias.replace(/[^A-Za-z0-9._-]/g, '-'), host: h.alias }));
}

export function buildInventory(
  opts: InitOptions,
  nodes: Pick<InventoryNode, 'name' | 'host' | 'role'>[],
): Inventory {
  const hasRoles = nodes.some((n) => n.role !== undefined);
  const ssh = {
    ...(opts.sshUser ? { user: opts.sshUser } : {}),
    ...(opts.identityFile ? { identityFile: opts.identityFile } : {}),
    ...(opts.knownHosts ? { knownHosts: opts.knownHosts } : {}),
  };
  return {
    cluster: opts.cluster ?? 'main',
    topology: opts.topology ?? 'streaming',
    network: opts.network ?? [],
    ...(Object.keys(ssh).length > 0 ? { ssh } : {}),
    nodes: nodes.map((n, i) => ({
      name: n.name,
      host: n.host,
      ...(n.role
        ? { role: n.role }
        : !hasRoles && opts.topology !== 'pgd'
          ? { role: i === 0 ? 'primary' : 'standby' }
          : {}),
      pg: { osUser: opts.osUser ?? 'postgres' },
    })),
    roles: [{ name: 'replicator', kind: 'replication' }],
  };
}

/** Validate (what we write must load), refuse to overwrite unless `force`, write 0644. Returns the path. */
export async function writeInventoryFile(
  inventory: Inventory,
  path: string,
  force: boolean,
): Promise<string> {
  const doc = new Document(inventory);
  doc.commentBefore = ' pgharden inventory (SPEC §5). Written by pgharden; edit freely.';
  const text = doc.toString({ flowCollectionPadding: true, lineWidth: 0 });
  const out = expandHome(path);
  parseInventory(text, out);
  if (!force) {
    const exists = await access(out).then(
      () => true,
      () => false,
    );
    if (exists)
      throw new UsageError(
        'init.exists',
        `${out} exists`,
        'pass --force to overwrite it, or -o another path',
      );
  }
  await writeFile(out, text, { mode: 0o644 });
  return out;
}

export async function initCommand(
  raw: Record<string, unknown>,
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const opts = raw as InitOptions;
  try {
    if (opts.fromPgAutoctl !== undefined) {
      throw new UsageError(
        'init.unsupported',
        '--from-pg-autoctl is not available in this version yet (it arrives with pg_auto_failover support)',
        'describe the monitor and nodes with --node NAME=HOST:ROLE and --topology pg_auto_failover',
      );
    }
    const nodes = [
      ...(opts.node ?? []).map(parseNodeFlag),
      ...(opts.fromSshConfig !== undefined ? await nodesFromSshConfig(opts) : []),
    ];
    if (nodes.length === 0) {
      throw new UsageError(
        'init.no-nodes',
        'no nodes given',
        'pass --node NAME=HOST[:ROLE] (repeatable) or --from-ssh-config [PATTERN]',
      );
    }
    if ((opts.network ?? []).length === 0) {
      throw new UsageError(
        'init.no-network',
        'no --network given',
        'pass the CIDRs your clients and peers connect from, e.g. --network 10.0.0.0/24',
      );
    }
    const inventory = buildInventory(opts, nodes);
    const out = await writeInventoryFile(inventory, opts.out ?? 'inventory.yaml', opts.force === true);
    if (global.json === true) {
      io.stdout.write(
        `${JSON.stringify({ v: 1, type: 'summary', command: 'init', exitCode: 0, path: out, nodes: nodes.length })}\n`,
      );
    } else {
      io.stderr.write(
        `✓ wrote ${out} (${nodes.length} node${nodes.length === 1 ? '' : 's'}); next: pgharden audit -i ${opts.out ?? 'inventory.yaml'}\n`,
      );
    }
    return 0;
  } catch (err) {
    return report(err, io.stderr, global.verbose === true);
  }
}
