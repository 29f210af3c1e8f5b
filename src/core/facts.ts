// What preflight learns about a node (SPEC §4 screen 3). Plain data: no secrets — conninfo strings are
// redacted before they land here, and md5 hashes are never read (only which roles have one).

export interface HbaRuleRow {
  line_number: number;
  type: string;
  database: string[] | null;
  user_name: string[] | null;
  address: string | null;
  netmask: string | null;
  auth_method: string | null;
  options: string[] | null;
  error: string | null;
}

export interface SettingRow {
  name: string;
  setting: string;
  source: string;
  sourcefile: string | null;
  sourceline: number | null;
  pending_restart: boolean;
}

export interface ReplicationSenderRow {
  application_name: string;
  client_addr: string | null;
  state: string;
  sync_state: string;
  ssl: boolean | null;
  version: string | null;
  cipher: string | null;
}

export interface WalReceiverRow {
  status: string;
  sender_host: string | null;
  sender_port: number | null;
  /** pg_stat_wal_receiver.conninfo: the server already obscures the password; we redact again. */
  conninfo: string | null;
}

export interface CertFacts {
  path: string;
  subject: string;
  issuer: string;
  notAfter: string;
  daysLeft: number;
  sha256: string;
  sans: string[];
}

export interface CrlFacts {
  path: string;
  issuer: string;
  /** ISO date; undefined when the CRL has no nextUpdate. */
  nextUpdate: string | undefined;
  daysLeft: number | undefined;
  /** Entries (revoked certificates). */
  revoked: number;
}

export interface PostgresFacts {
  version: string;
  versionNum: number;
  role: 'primary' | 'standby';
  pid: number;
  dataDir: string;
  configFile: string;
  hbaFile: string;
  identFile: string;
  port: number;
  socketDir: string;
  binDir: string;
  /** `psql --version` of the node's client tools: its libpq decides IP-SAN support. */
  libpqVersion: string | undefined;
  settings: Record<string, SettingRow>;
  md5Roles: { name: string; canLogin: boolean }[];
  /** Login roles without any password (absent in facts made before this was gathered). */
  passwordlessRoles?: string[] | undefined;
  hbaRules: HbaRuleRow[];
  hbaText: string;
  /** pg_ident.conf as on disk: the lock-out check follows `map=` options through it. */
  identText: string;
  settingErrors: {
    name: string | null;
    sourcefile: string | null;
    sourceline: number | null;
    error: string;
  }[];
  replicationSenders: ReplicationSenderRow[];
  walReceiver: WalReceiverRow | undefined;
  /** primary_conninfo with any password replaced by `********`. */
  primaryConninfo: string | undefined;
  serverCert: CertFacts | undefined;
  serverCertError: string | undefined;
  /** Certificates of ssl_cert_file's CA bundle (ssl_ca_file), when ssl is on. */
  caCerts?: CertFacts[] | undefined;
  /** The client certificate the WAL receiver presents (primary_conninfo sslcert). */
  replicationCert?: CertFacts | undefined;
  /** ssl_crl_file, when ssl is on and it is set. */
  crl?: CrlFacts | undefined;
  /** Certificate files that are set but unreadable or not PEM. */
  certErrors?: string[] | undefined;
  startedAt: string;
}

export interface NodeFacts {
  node: string;
  host: string;
  ssh: { user: string; fingerprint: string; keyType: string; connectMs: number };
  osUser: string;
  /** How commands reach the PostgreSQL OS user. */
  access: 'same-user' | 'sudo';
  pg: PostgresFacts | undefined;
  /** Why `pg` is missing (not running, several clusters, psql failed). */
  pgProblem: { code: string; message: string; hint?: string | undefined } | undefined;
  ms: number;
}

export type NodeOutcome =
  | { node: string; ok: true; facts: NodeFacts }
  | { node: string; ok: false; error: { code: string; message: string; hint?: string | undefined } };
