// Preflight: connect to every node in parallel and gather the facts of SPEC §4 screen 3. Read-only.
import { X509Certificate } from 'node:crypto';
import { posix } from 'node:path';
import type { RemoteSession } from '../remote/types.js';
import { psqlQueries, type PgConnection } from '../remote/psql.js';
import { shellQuote } from '../remote/shell.js';
import { choosePostmaster, DISCOVER_SCRIPT, parseDiscovery } from './discover.js';
import { PghardenError } from './errors.js';
import type {
  CrlFacts,
  CertFacts,
  HbaRuleRow,
  NodeFacts,
  PostgresFacts,
  ReplicationSenderRow,
  SettingRow,
  WalReceiverRow,
} from './facts.js';
import type { InventoryNode } from './inventory-schema.js';
import { PREFLIGHT_QUERIES } from './preflight-queries.js';
import { redactConninfo } from './redact.js';
import { getParam, parseConninfo } from '../pgconf/conninfo.js';
import { RemoteError } from '../remote/errors.js';

export const DEFAULT_OS_USER = 'postgres';
export const DEFAULT_SUPERUSER = 'postgres';

type Problem = NonNullable<NodeFacts['pgProblem']>;

function problem(code: string, message: string, hint?: string): Problem {
  return { code, message, ...(hint !== undefined ? { hint } : {}) };
}

/** The PEM certificates of a file (a CA bundle has several); throws when there is none. */
export function pemCertificates(text: string): string[] {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new Error('no PEM certificate in it');
  return pems;
}

/**
 * Several files as `osUser` in one exec: content, or why not (missing / unreadable). Each file is
 * two lines: `ok` then its base64, or `missing`/`unreadable` then an empty line.
 */
async function readTexts(
  session: RemoteSession,
  osUser: string,
  paths: string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, string | { missing: boolean }>> {
  const script = `for p in "$@"; do
  if [ ! -e "$p" ]; then printf 'missing\n\n'
  elif [ -f "$p" ] && [ -r "$p" ] && b=$(base64 -w 0 -- "$p"); then printf 'ok\n%s\n' "$b"
  else printf 'unreadable\n\n'; fi
done`;
  const unique = [...new Set(paths)];
  const r = await session.exec(['sh', '-c', script, 'sh', ...unique].map(shellQuote).join(' '), {
    asUser: osUser,
    signal,
  });
  const lines = r.stdout
    .replace(/\n$/, '')
    .split('\n')
    .slice(-2 * unique.length);
  const out = new Map<string, string | { missing: boolean }>();
  unique.forEach((p, i) => {
    const state = lines[2 * i];
    out.set(
      p,
      state === 'ok'
        ? Buffer.from(lines[2 * i + 1] ?? '', 'base64').toString('utf8')
        : { missing: state === 'missing' },
    );
  });
  return out;
}

/**
 * The CRL the server checks client certificates against: past its nextUpdate, OpenSSL refuses every
 * client certificate of that CA ("CRL has expired"), so its date matters as much as a certificate's.
 * @peculiar/x509 is loaded only when a node has a CRL.
 */
async function crlFacts(path: string, read: () => string, errors: string[]): Promise<CrlFacts | undefined> {
  try {
    const { x509 } = await import('../pki/x509.js');
    const crl = new x509.X509Crl(read());
    const next = crl.nextUpdate;
    return {
      path,
      issuer: crl.issuer,
      nextUpdate: next?.toISOString(),
      daysLeft: next === undefined ? undefined : Math.floor((next.getTime() - Date.now()) / 86_400_000),
      revoked: crl.entries.length,
    };
  } catch (err) {
    errors.push(`cannot read CRL ${path}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

export function certFacts(path: string, pem: string, now = new Date()): CertFacts {
  const cert = new X509Certificate(pem);
  const notAfter = new Date(cert.validTo);
  return {
    path,
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
    sha256: cert.fingerprint256,
    sans: (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
  };
}

async function gatherPostgres(
  session: RemoteSession,
  node: InventoryNode,
  osUser: string,
  signal: AbortSignal | undefined,
): Promise<{ pg: PostgresFacts } | { problem: Problem }> {
  const dataDirHint = node.pg?.dataDir === undefined ? '' : `PGH_DATADIR=${shellQuote(node.pg.dataDir)} `;
  // An inventory that names the socket, port and binaries fixes the connection discovery would
  // find: the queries run beside the discovery (one round trip less on every command). Their result
  // counts only if discovery finds a postmaster there; a failure here is ignored.
  const given = node.pg;
  const early =
    given?.socketDir !== undefined && given.port !== undefined && given.binDir !== undefined
      ? psqlQueries(
          session,
          {
            osUser,
            superuser: given.superuser ?? DEFAULT_SUPERUSER,
            socketDir: given.socketDir,
            port: given.port,
            binDir: given.binDir,
          },
          PREFLIGHT_QUERIES,
          { signal },
        ).catch(() => undefined)
      : undefined;
  const discovery = await session.exec(`${dataDirHint}sh -s`, {
    stdin: DISCOVER_SCRIPT,
    asUser: osUser,
    signal,
  });
  if (discovery.code !== 0) {
    return {
      problem: problem(
        'pg.discovery-failed',
        `could not look for PostgreSQL as ${osUser}: ${discovery.stderr.trim()}`,
      ),
    };
  }
  const { postmasters } = parseDiscovery(discovery.stdout);
  const chosen = choosePostmaster(postmasters, { dataDir: node.pg?.dataDir, port: node.pg?.port });
  if ('problem' in chosen)
    return { problem: problem('pg.not-running', `${chosen.problem} (OS user ${osUser})`) };
  const pm = chosen.postmaster;
  const conn: PgConnection = {
    osUser,
    superuser: node.pg?.superuser ?? DEFAULT_SUPERUSER,
    socketDir: node.pg?.socketDir ?? pm.socketDir,
    port: node.pg?.port ?? pm.port,
    binDir: node.pg?.binDir ?? pm.binDir,
  };
  // With all three given, conn is exactly the early connection.
  const rows = (await early) ?? (await psqlQueries(session, conn, PREFLIGHT_QUERIES, { signal }));
  // psqlQueries returns untyped JSON rows; the column names come from PREFLIGHT_QUERIES.
  const rowsOf = <T>(key: keyof typeof PREFLIGHT_QUERIES): T[] => (rows[key] ?? []) as unknown as T[];
  const server = rowsOf<{ version: string; version_num: number; standby: boolean; started_at: string }>(
    'server',
  )[0];
  if (server === undefined) throw new Error('psql returned no server row');
  const settings: Record<string, SettingRow> = {};
  for (const row of rowsOf<SettingRow>('settings')) settings[row.name] = row;
  const setting = (name: string): string => settings[name]?.setting ?? '';

  const dataDir = setting('data_directory') || pm.dataDir;
  const hbaFile = setting('hba_file');
  const identFile = setting('ident_file');
  const abs = (p: string): string => (posix.isAbsolute(p) ? p : posix.join(dataDir, p));
  const primaryConninfo = setting('primary_conninfo');
  // Every certificate the node uses, for expiry (SPEC §9): the server's, its CA bundle, and the
  // client certificate its WAL receiver presents (cert auth for replication).
  const sslOn = setting('ssl') === 'on';
  const certPath = sslOn ? setting('ssl_cert_file') : '';
  const caPath = sslOn ? setting('ssl_ca_file') : '';
  const crlPath = sslOn ? setting('ssl_crl_file') : '';
  const replCertPath = getParam(parseConninfo(primaryConninfo), 'sslcert') ?? '';
  // One exec for all of them (each file is a round trip otherwise).
  const texts = await readTexts(
    session,
    osUser,
    [hbaFile, identFile, certPath, caPath, replCertPath, crlPath].filter((p) => p !== '').map(abs),
    signal,
  );
  const text = (p: string): string => {
    const t = texts.get(abs(p));
    if (typeof t === 'string') return t;
    throw new RemoteError(
      session.node,
      t?.missing === true ? 'remote.not-found' : 'remote.read-failed',
      `${session.node}: cannot read ${abs(p)}${t?.missing === true ? ': no such file' : ''}`,
    );
  };
  const hbaText = text(hbaFile);
  const identText = text(identFile);
  const certErrors: string[] = [];
  const certsOf = (path: string, what: string): CertFacts[] => {
    if (path === '') return [];
    try {
      return pemCertificates(text(path)).map((pem) => certFacts(abs(path), pem));
    } catch (err) {
      certErrors.push(
        `cannot read ${what} ${abs(path)}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return [];
    }
  };
  const [serverCert] = certsOf(certPath, 'server certificate');
  const serverCertError = certPath !== '' && serverCert === undefined ? certErrors[0] : undefined;
  const caCerts = certsOf(caPath, 'CA bundle');
  const [replicationCert] = certsOf(replCertPath, 'replication client certificate');
  const crl = crlPath === '' ? undefined : await crlFacts(abs(crlPath), () => text(crlPath), certErrors);
  const receiver = rowsOf<WalReceiverRow>('walReceiver')[0];
  const socketDirs = setting('unix_socket_directories');
  return {
    pg: {
      version: server.version,
      versionNum: server.version_num,
      role: server.standby ? 'standby' : 'primary',
      pid: pm.pid,
      dataDir,
      configFile: setting('config_file'),
      hbaFile,
      identFile,
      port: Number(setting('port')) || conn.port,
      socketDir: socketDirs.split(',')[0]?.trim() || conn.socketDir,
      binDir: conn.binDir ?? pm.binDir,
      libpqVersion: pm.psqlVersion,
      settings: Object.fromEntries(
        Object.entries(settings).map(([k, v]) => [
          k,
          k === 'primary_conninfo' ? { ...v, setting: redactConninfo(v.setting) } : v,
        ]),
      ),
      md5Roles: rowsOf<{ name: string; can_login: boolean }>('md5Roles').map((r) => ({
        name: r.name,
        canLogin: r.can_login,
      })),
      passwordlessRoles: rowsOf<{ name: string }>('passwordlessRoles').map((r) => r.name),
      hbaRules: rowsOf<HbaRuleRow>('hbaRules'),
      hbaText: hbaText ?? '',
      identText: identText ?? '',
      settingErrors: rowsOf<PostgresFacts['settingErrors'][number]>('settingErrors'),
      replicationSenders: rowsOf<ReplicationSenderRow>('replicationSenders'),
      walReceiver: receiver && {
        ...receiver,
        conninfo: receiver.conninfo && redactConninfo(receiver.conninfo),
      },
      primaryConninfo: primaryConninfo === '' ? undefined : redactConninfo(primaryConninfo),
      serverCert,
      serverCertError,
      caCerts,
      replicationCert,
      crl,
      certErrors,
      startedAt: server.started_at,
    },
  };
}

/** Facts of one connected node. PostgreSQL problems become `pgProblem`; SSH problems are the caller's. */
export async function gatherNodeFacts(
  session: RemoteSession,
  node: InventoryNode,
  connectMs: number,
  options: { sudo?: boolean | undefined; signal?: AbortSignal | undefined } = {},
): Promise<NodeFacts> {
  const started = performance.now();
  const osUser = node.pg?.osUser ?? DEFAULT_OS_USER;
  let result: Awaited<ReturnType<typeof gatherPostgres>>;
  try {
    if (options.sudo === false && session.target.user !== osUser) {
      result = {
        problem: problem(
          'ssh.sudo-disabled',
          `SSH user ${session.target.user} is not the PostgreSQL OS user ${osUser}, and the inventory says sudo: false`,
          `log in as ${osUser} (ssh.user) or allow sudo (ssh.sudo: true)`,
        ),
      };
    } else {
      result = await gatherPostgres(session, node, osUser, options.signal);
    }
  } catch (err) {
    if (!PghardenError.is(err) || err.code.startsWith('ssh.')) throw err;
    result = { problem: problem(err.code, err.message, err.hint) };
  }
  return {
    node: node.name,
    host: node.host,
    ssh: {
      user: session.target.user,
      fingerprint: session.hostKey.fingerprint,
      keyType: session.hostKey.keyType,
      connectMs: Math.round(connectMs),
    },
    osUser,
    access: session.target.user === osUser ? 'same-user' : 'sudo',
    pg: 'pg' in result ? result.pg : undefined,
    pgProblem: 'problem' in result ? result.problem : undefined,
    ms: Math.round(performance.now() - started),
  };
}
