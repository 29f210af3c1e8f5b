// Detection and preflight of a pg_auto_failover formation (SPEC §7.3): on every node, as its OS user
// with its PGDATA, `pg_autoctl show file --config` and the config itself, and the formation's state
// (`pg_autoctl show state --json`) as the monitor sees it. Read-only. A formation that is not settled
// (a node away from its goal state, the primary down, no monitor) is refused before anything changes:
// pg_autoctl would be reconfiguring nodes under pgharden's feet.
import { UsageError } from '../core/errors.js';
import type { NodeOutcome } from '../core/facts.js';
import type { Inventory } from '../core/inventory-schema.js';
import type { RemoteSession } from '../remote/types.js';
import { shellQuote } from '../remote/shell.js';
import type { AutoctlFacts } from '../steps/context.js';
import { parseIni, parseState, unsettled, type AutoctlNodeState } from '../steps/pgaf-autoctl.js';

const DETECT_SH = `PGDATA=$1; export PGDATA
command -v pg_autoctl >/dev/null 2>&1 || { echo none; exit 0; }
cfg=$(pg_autoctl show file --config 2>/dev/null) || { echo none; exit 0; }
[ -f "$cfg" ] || { echo none; exit 0; }
printf 'cfg\\t%s\\n' "$cfg"
printf 'home\\t%s\\n' "$HOME"
printf 'config\\t%s\\n' "$(base64 -w 0 -- "$cfg")"
printf 'state\\t%s\\n' "$(pg_autoctl show state --json 2>&1 | base64 -w 0)"`;

interface Detected {
  node: string;
  cfgPath: string;
  home: string;
  config: Record<string, string>;
  stateText: string;
}

/** Does preflight already show pg_autoctl's hand (ssl set in postgresql-auto-failover.conf)? */
export function looksAutoFailover(outcomes: readonly NodeOutcome[]): boolean {
  return outcomes.some(
    (o) => o.ok && /postgresql-auto-failover\.conf$/.test(o.facts.pg?.settings['ssl']?.sourcefile ?? ''),
  );
}

async function detectNode(
  session: RemoteSession,
  node: string,
  osUser: string,
  dataDir: string,
  signal: AbortSignal,
): Promise<Detected | undefined> {
  const cmd = ['sh', '-c', DETECT_SH, 'sh', dataDir].map(shellQuote).join(' ');
  const r = await session.exec(cmd, { asUser: osUser, signal });
  const fields = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) fields.set(line.slice(0, tab), line.slice(tab + 1));
  }
  const cfgPath = fields.get('cfg');
  if (r.code !== 0 || cfgPath === undefined) return undefined;
  const config = parseIni(Buffer.from(fields.get('config') ?? '', 'base64').toString('utf8'));
  // Never keep a password from the file: facts end up in plans and reports.
  for (const k of Object.keys(config)) if (/password/i.test(k)) delete config[k];
  if (config['pg_autoctl.monitor'] !== undefined) {
    config['pg_autoctl.monitor'] = config['pg_autoctl.monitor'].replace(/(:\/\/[^:@/]+):[^@]*@/, '$1@');
  }
  return {
    node,
    cfgPath,
    home: fields.get('home') ?? '',
    config,
    stateText: Buffer.from(fields.get('state') ?? '', 'base64').toString('utf8'),
  };
}

export interface Formation {
  /** Per inventory node name. */
  nodes: Map<string, AutoctlFacts>;
  states: AutoctlNodeState[];
  /** Plan notes (skip-pg-hba, differing TLS paths, …). */
  notes: string[];
}

/**
 * Detects pg_auto_failover on the nodes. Returns undefined when the inventory does not say
 * pg_auto_failover and no node is run by pg_autoctl; throws UsageError (exit 2, nothing changed)
 * when it is pg_auto_failover but not fit to be changed now.
 */
export async function detectFormation(
  inventory: Inventory,
  outcomes: readonly NodeOutcome[],
  sessions: ReadonlyMap<string, RemoteSession>,
  signal: AbortSignal,
): Promise<Formation | undefined> {
  const declared = inventory.topology === 'pg_auto_failover';
  if (!declared && !looksAutoFailover(outcomes)) return undefined;
  const found = await Promise.all(
    inventory.nodes.map(async (n) => {
      const session = sessions.get(n.name);
      const outcome = outcomes.find((o) => o.node === n.name);
      const dataDir =
        (outcome?.ok === true ? outcome.facts.pg?.dataDir : undefined) ?? n.pg?.dataDir ?? undefined;
      if (session === undefined || dataDir === undefined) return { node: n.name, detected: undefined };
      const osUser = outcome?.ok === true ? outcome.facts.osUser : (n.pg?.osUser ?? 'postgres');
      return { node: n.name, detected: await detectNode(session, n.name, osUser, dataDir, signal) };
    }),
  );
  const unreachable = inventory.nodes.filter((n) => !sessions.has(n.name)).map((n) => n.name);
  const managed = found.flatMap((f) => (f.detected === undefined ? [] : [f.detected]));
  if (managed.length === 0 && !declared) return undefined;
  const monitor = managed.find((d) => d.config['pg_autoctl.role'] === 'monitor');
  const refuse = (id: string, why: string, hint: string): never => {
    throw new UsageError(id, why, `${hint}; nothing was changed`);
  };
  if (monitor === undefined) {
    refuse(
      'pgaf.no-monitor',
      `no pg_auto_failover monitor among the inventory nodes${unreachable.length > 0 ? ` (unreachable: ${unreachable.join(', ')})` : ''}`,
      'list the monitor in the inventory (role: monitor) and make sure its pg_autoctl runs',
    );
  }
  const mon = monitor as Detected;
  const unmanaged = found.filter((f) => f.detected === undefined).map((f) => f.node);
  if (unmanaged.length > 0) {
    refuse(
      'pgaf.node-unmanaged',
      `pg_autoctl does not manage ${unmanaged.join(', ')} (no pg_autoctl.cfg for its PGDATA as its OS user)`,
      'check pg.dataDir and pg.osUser of those nodes, or remove them from the inventory',
    );
  }
  let states: AutoctlNodeState[];
  try {
    states = parseState(mon.stateText);
  } catch {
    return refuse(
      'pgaf.monitor-unavailable',
      `the monitor ${mon.node} cannot show the formation state: ${mon.stateText.trim().split('\n').slice(-1)[0] ?? ''}`,
      'start the monitor (pg_autoctl run) and check `pg_autoctl show state` on it',
    );
  }
  const keepers = managed.filter((d) => d !== mon);
  const stateOf = (d: Detected): AutoctlNodeState | undefined =>
    states.find((s) => s.nodename === d.config['pg_autoctl.name']) ??
    states.find(
      (s) =>
        s.nodehost === d.config['pg_autoctl.hostname'] && String(s.nodeport) === d.config['postgresql.port'],
    );
  const missing = states.filter((s) => !keepers.some((k) => stateOf(k) === s)).map((s) => s.nodename);
  if (missing.length > 0) {
    refuse(
      'pgaf.node-missing',
      `the formation has nodes the inventory does not list: ${missing.join(', ')}`,
      'add them to the inventory: every node of the formation changes together',
    );
  }
  const why = unsettled(states);
  const down = states.filter((s) => s.health !== 1).map((s) => `${s.nodename} is unhealthy on the monitor`);
  const pgDown = outcomes
    .filter((o) => !o.ok || o.facts.pg === undefined)
    .map(
      (o) =>
        `${o.node}: ${o.ok ? (o.facts.pgProblem?.message ?? 'PostgreSQL not inspected') : o.error.message}`,
    );
  const problems = [...(why === undefined ? [] : [why]), ...down, ...pgDown];
  if (problems.length > 0) {
    refuse(
      'pgaf.formation-unhealthy',
      `the pg_auto_failover formation is not healthy: ${problems.join('; ')}`,
      'wait until `pg_autoctl show state` shows every node at its goal state (current = assigned) and every node up, then plan again',
    );
  }
  const port = (d: Detected): number => Number(d.config['postgresql.port'] ?? '5432');
  const invHost = (name: string): string => inventory.nodes.find((n) => n.name === name)?.host ?? name;
  const monitorRef = {
    name: mon.node,
    host: mon.config['pg_autoctl.hostname'] ?? invHost(mon.node),
    port: port(mon),
  };
  const dataNodes = keepers.map((k) => {
    const s = stateOf(k);
    return { name: k.node, host: s?.nodehost ?? invHost(k.node), port: s?.nodeport ?? port(k) };
  });
  const nodes = new Map<string, AutoctlFacts>();
  const notes: string[] = [];
  for (const d of managed) {
    const skip = d.config['postgresql.hba_level'] === 'skip';
    if (skip) {
      notes.push(
        `${d.node}: pg_autoctl runs with --skip-pg-hba (hba_level = skip): it never edits pg_hba.conf, so pgharden owns it; rules for nodes added later are yours to write`,
      );
    }
    nodes.set(d.node, {
      kind: d === mon ? 'monitor' : 'keeper',
      state: d === mon ? undefined : stateOf(d)?.current_group_state,
      cfgPath: d.cfgPath,
      home: d.home,
      config: d.config,
      skipPgHba: skip,
      monitor: monitorRef,
      dataNodes,
    });
  }
  return { nodes, states, notes };
}
