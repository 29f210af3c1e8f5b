// What every hardening step knows about its node (the `F` of `Step<F>`): inventory entry, preflight
// facts, the chosen auth mode and this node's PKI material. Built by the planner, read by steps.
// Secrets (private keys, passwords) live here in memory only: a step's plan() must never copy them
// into a PlannedChange (plan.json and the plan view show plans), only name the file they go to.
import type { NodeFacts, PostgresFacts } from '../core/facts.js';
import type { Inventory, InventoryNode } from '../core/inventory-schema.js';
import type { PgpoolFacts } from '../core/pgpool-facts.js';

export type AuthMode = 'scram' | 'cert' | 'scram+cert';

/** a: server.crt/server.key, b: server-b.crt/server-b.key (both in tlsDir). */
export type ServerSlot = 'a' | 'b';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface NodeTls {
  /** CA bundle the node trusts (ssl_ca_file; standbys' sslrootcert). */
  caPem: string;
  /** This node's server certificate and key (key: 0600, owned by the PostgreSQL OS user). */
  server: PemPair;
  /** Client certificates by database role, for cert auth (replication user on standbys, …). */
  clients: Record<string, PemPair>;
  /** The CA's CRL (root.crl of the PKI dir) once anything was revoked: ssl_crl_file on every node. */
  crlPem?: string | undefined;
}

/** A Pgpool-II pooler's part of the run (topology pgpool, SPEC §7.4). */
export interface PoolerContext {
  pgpool: PgpoolFacts;
  /** Roles that get pool_passwd AES entries: every role that logs in through pgpool. */
  aesRoles: string[];
  /** CIDRs of the inventory's network: pool_hba hostssl rules. */
  networks: string[];
}

export interface HardenContext {
  inventory: Inventory;
  node: InventoryNode;
  /** Preflight facts of this node; PostgreSQL was reachable (the planner refuses otherwise). */
  facts: NodeFacts & { pg: PostgresFacts };
  /** `pooler`: a pgpool host (then `pooler` is set, and `facts` are the primary's with the pooler's osUser). */
  role: 'primary' | 'standby' | 'pooler';
  pooler?: PoolerContext | undefined;
  /**
   * Primary of the pgpool topology: the poolers its last step (pgpool.health-watch) watches through
   * its own session, so that a rollback undoes the backends before pgpool (pgpool with AES entries and
   * TLS keeps its health check green against backends going back; the reverse order does not).
   */
  watchPoolers?: { name: string; pooler: PoolerContext }[] | undefined;
  /** For a standby: the primary it streams from. */
  primary?: { name: string; host: string; port: number } | undefined;
  auth: AuthMode;
  minTlsVersion: 'TLSv1.2' | 'TLSv1.3';
  tls: NodeTls;
  /**
   * Directory on the node for pgharden's TLS files (certs, key, CA bundle), owned by the
   * PostgreSQL OS user. The same path on every node, so configs copied by pg_basebackup/pg_rewind
   * stay valid.
   */
  tlsDir: string;
  /**
   * Which of the two server key/cert file pairs in tlsDir the steps install and point ssl_cert_file /
   * ssl_key_file at (tls-files.ts `serverSlot`). Unset: the pair the server uses now (or `a`).
   * Rotation sets the other one: the new pair goes in beside the old and one reload switches.
   */
  serverSlot?: ServerSlot | undefined;
  /** Passwords by role for the md5 → SCRAM reset; never in a plan, a journal or an event. */
  passwords: ReadonlyMap<string, string>;
  /** Topology pg_auto_failover: what pg_autoctl says about this node (absent for other topologies). */
  autoctl?: AutoctlFacts | undefined;
}

/** A pg_auto_failover node as detection found it (src/topologies/pg-auto-failover-detect.ts). */
export interface AutoctlFacts {
  kind: 'monitor' | 'keeper';
  /** Keeper: its current state on the monitor (primary, secondary, …). */
  state?: string | undefined;
  /** pg_autoctl.cfg (`pg_autoctl show file --config`). */
  cfgPath: string;
  /** The OS user's home: ~/.pgpass and ~/.postgresql live there. */
  home: string;
  /** pg_autoctl.cfg as `section.key` → value, with any password removed (never kept here). */
  config: Record<string, string>;
  /** hba_level = skip (created with --skip-pg-hba): pg_autoctl never edits pg_hba.conf, pgharden owns it. */
  skipPgHba: boolean;
  monitor: { name: string; host: string; port: number };
  /** Every data node of the formation (host and port as pg_autoctl registered them). */
  dataNodes: { name: string; host: string; port: number }[];
  /**
   * Set by a pgaf step's undo once the engine restored a file pg_autoctl reads (pg_autoctl.cfg and
   * what it generates): the node's service is restarted ONCE, after every step of the node is
   * undone (autoctlAfterRollback), not by each step (pg_autoctl's supervisor budget, see
   * restartNodeService).
   */
  restored?: boolean | undefined;
}
