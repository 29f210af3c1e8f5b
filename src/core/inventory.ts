// Load and validate an inventory (SPEC §5). Every error names file, line and field; nothing is contacted.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { UsageError } from './errors.js';
import { inventorySchema, TOPOLOGIES, type Inventory } from './inventory-schema.js';
import { expandHome } from './paths.js';

export interface InventoryIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the offending key, e.g. `nodes[1].host`. */
  field: string;
  message: string;
}

export class InventoryError extends UsageError {
  readonly issues: InventoryIssue[];
  constructor(file: string, issues: InventoryIssue[]) {
    const lines = issues.map(
      (i) => `  ${i.file}:${i.line}:${i.column}: ${i.field ? `${i.field}: ` : ''}${i.message}`,
    );
    super(
      'inventory.invalid',
      `inventory ${file} is not valid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      'fix the inventory (SPEC §5 lists every key) and run again; nothing was contacted',
    );
    this.issues = issues;
  }
}

export interface LoadedInventory {
  path: string;
  inventory: Inventory;
}

type PathKey = string | number;

function fieldName(path: readonly PathKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key),
    '',
  );
}

/**
 * Position of the YAML key or item at `path` (the key's line reads better than the value's for a
 * block value), falling back to the nearest parent that exists.
 */
function locate(doc: Document, lines: LineCounter, path: readonly PathKey[]): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const last = path[depth - 1];
    if (depth > 0 && typeof last === 'string') {
      const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === last);
        if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]);
      }
      continue;
    }
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lines.linePos(range[0]);
  }
  return { line: 1, col: 1 };
}

function zodIssueToInventoryIssue(
  file: string,
  doc: Document,
  lines: LineCounter,
  issue: z.core.$ZodIssue,
): InventoryIssue[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const pos = locate(doc, lines, [...path, key]);
      return {
        file,
        line: pos.line,
        column: pos.col,
        field: fieldName([...path, key]),
        message: 'unknown key',
      };
    });
  }
  const pos = locate(doc, lines, path);
  let message = issue.message;
  const missing = !doc.hasIn(path);
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    message = 'required';
  } else if (issue.code === 'invalid_value' && path.at(-1) === 'topology') {
    message = `unknown topology (expected one of: ${TOPOLOGIES.join(', ')})`;
  }
  return [{ file, line: pos.line, column: pos.col, field: fieldName(path), message }];
}

/** Cross-field rules zod cannot express per field. */
function semanticIssues(inv: Inventory, file: string, doc: Document, lines: LineCounter): InventoryIssue[] {
  const issues: InventoryIssue[] = [];
  const at = (path: PathKey[], message: string): void => {
    const pos = locate(doc, lines, path);
    issues.push({ file, line: pos.line, column: pos.col, field: fieldName(path), message });
  };
  const firstByName = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const earlier = firstByName.get(node.name);
    if (earlier === undefined) firstByName.set(node.name, i);
    else at(['nodes', i, 'name'], `duplicate node name "${node.name}" (first used by nodes[${earlier}])`);
  });
  const endpoints = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const endpoint = `${node.host}:${node.pg?.port ?? 5432}`;
    const earlier = endpoints.get(endpoint);
    if (earlier === undefined) endpoints.set(endpoint, i);
    else at(['nodes', i, 'host'], `nodes[${earlier}] already uses ${endpoint}`);
  });
  (inv.poolers ?? []).forEach((pooler, i) => {
    if (firstByName.has(pooler.name)) at(['poolers', i, 'name'], `"${pooler.name}" is already a node name`);
    if ((inv.poolers ?? []).findIndex((p) => p.name === pooler.name) !== i) {
      at(['poolers', i, 'name'], `duplicate pooler name "${pooler.name}"`);
    }
  });
  const roleNames = new Set<string>();
  (inv.roles ?? []).forEach((role, i) => {
    if (roleNames.has(role.name)) at(['roles', i, 'name'], `duplicate role "${role.name}"`);
    roleNames.add(role.name);
  });
  const primaries = inv.nodes.filter((n) => n.role === 'primary').length;
  if (['streaming', 'pgpool', 'pgdog'].includes(inv.topology) && primaries > 1) {
    at(['nodes'], `${primaries} nodes say role: primary; a ${inv.topology} cluster has one`);
  }
  inv.nodes.forEach((node, i) => {
    const pgdRole = node.role === 'data' || node.role === 'witness';
    if (inv.topology === 'pgd' && node.role !== undefined && !pgdRole) {
      at(['nodes', i, 'role'], `topology pgd takes role data or witness, not ${node.role}`);
    }
    if (inv.topology !== 'pgd' && pgdRole)
      at(['nodes', i, 'role'], `role ${node.role} belongs to topology pgd`);
    if (node.role === 'monitor' && inv.topology !== 'pg_auto_failover') {
      at(['nodes', i, 'role'], 'role monitor belongs to topology pg_auto_failover');
    }
  });
  if (inv.topology === 'pgpool' || inv.topology === 'pgdog') {
    const kind = inv.topology;
    if (!(inv.poolers ?? []).some((p) => p.kind === kind)) {
      at(['topology'], `topology ${kind} needs a poolers: entry with kind: ${kind}`);
    }
  }
  return issues;
}

/** Resolve paths in the inventory relative to the inventory file, and ~ to the operator's home. */
function resolvePaths(inv: Inventory, baseDir: string): Inventory {
  const ssh = <T extends { identityFile?: string | undefined; knownHosts?: string | undefined } | undefined>(
    s: T,
  ): T =>
    s === undefined
      ? s
      : {
          ...s,
          ...(s.identityFile !== undefined ? { identityFile: expandHome(s.identityFile, baseDir) } : {}),
          ...(s.knownHosts !== undefined ? { knownHosts: expandHome(s.knownHosts, baseDir) } : {}),
        };
  return {
    ...inv,
    ssh: ssh(inv.ssh),
    nodes: inv.nodes.map((n) => ({ ...n, ssh: ssh(n.ssh) })),
    ...(inv.poolers ? { poolers: inv.poolers.map((p) => ({ ...p, ssh: ssh(p.ssh) })) } : {}),
    ...(inv.pki?.dir !== undefined ? { pki: { ...inv.pki, dir: expandHome(inv.pki.dir, baseDir) } } : {}),
  };
}

export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InventoryError(
      file,
      doc.errors.map((e) => ({
        file,
        line: lines.linePos(e.pos[0]).line,
        column: lines.linePos(e.pos[0]).col,
        field: '',
        message: `YAML: ${e.message.split('\n')[0] ?? e.code}`,
      })),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InventoryError(file, [
      { file, line: 1, column: 1, field: '', message: 'expected a YAML mapping' },
    ]);
  }
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((i) => zodIssueToInventoryIssue(file, doc, lines, i));
    throw new InventoryError(
      file,
      issues.sort((a, b) => a.line - b.line || a.column - b.column),
    );
  }
  const semantic = semanticIssues(parsed.data, file, doc, lines);
  if (semantic.length > 0) throw new InventoryError(file, semantic);
  return resolvePaths(parsed.data, dirname(expandHome(file)));
}

export async function loadInventory(path: string): Promise<LoadedInventory> {
  const file = expandHome(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new UsageError(
      'inventory.unreadable',
      `cannot read inventory ${path}: ${reason}`,
      'pass -i with the path of an inventory YAML, or create one with `pgharden init`',
    );
  }
  return { path: file, inventory: parseInventory(text, path) };
}
