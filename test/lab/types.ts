// The lab's public shape: e2e tests, the demo and the benchmark read a running lab through this.
export type LabVariant = 'streaming' | 'pg_auto_failover' | 'pgpool';

export interface LabNode {
  /** Inventory node name: pg1..pgN (streaming, pgpool backends), monitor/node1/node2 (pg_auto_failover). */
  name: string;
  /** 127.0.1.x: sshd listens on host:22, PostgreSQL on host:port. */
  host: string;
  role: 'primary' | 'standby' | 'monitor';
  /** OS user that owns and runs this node's PostgreSQL; also the SSH login user. */
  osUser: string;
  home: string;
  dataDir: string;
  port: number;
  socketDir: string;
  binDir: string;
  /** sshd's pid file and log for this node. */
  sshdPidFile: string;
  sshdLog: string;
}

export interface LabPooler {
  name: string;
  host: string;
  port: number;
  osUser: string;
  home: string;
  configFile: string;
  hbaFile: string;
  pcpFile: string;
  keyFile: string;
  pidFile: string;
  logFile: string;
  /** sshd's pid file and log for the pooler host. */
  sshdPidFile: string;
  sshdLog: string;
}

export interface Lab {
  variant: LabVariant;
  /** /var/lib/pgharden-lab/<variant> */
  root: string;
  /** Inventory YAML the lab wrote for itself (SPEC §5). */
  inventoryPath: string;
  /** Operator side: private key (0600) accepted by every node's sshd for every lab login user. */
  identityFile: string;
  /** known_hosts with a plain entry per node (host key of that node's sshd). */
  knownHostsPath: string;
  /** Same entries, hashed (`ssh-keygen -H` form). */
  knownHostsHashedPath: string;
  /** YAML map role → password (0600), usable as `--secrets`. */
  secretsPath: string;
  /** Database role → password (replicator, app, and pgpool's health-check role in the pgpool variant). */
  passwords: Record<string, string>;
  nodes: LabNode[];
  poolers: LabPooler[];
  /** SSH login users that are not the PostgreSQL OS user, for the sudo paths. */
  sudoUsers: { nopasswd: string; withPassword: { user: string; password: string } };
}
