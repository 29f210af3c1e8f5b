// Turn TLS on for one lab node by hand (files installed as its OS user, ALTER SYSTEM, reload) and put
// it back exactly: the certs and verify e2e files test the PKI and the probes without the engine.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LabNode } from '../lab/types.js';

const SETTINGS = ['ssl', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file'] as const;

export interface HandTls {
  /** Files installed into the node's data dir. */
  installed: { cert: string; key: string; ca: string };
  /** SQL on the node over its socket, as its OS user (peer auth), one statement per -c. */
  sql(...statements: string[]): Promise<string>;
  /** A reload is asynchronous: new sessions see it once the postmaster has processed SIGHUP. */
  waitForSsl(want: 'on' | 'off'): Promise<string>;
  /** Refuses to start when the files exist; remembers postgresql.auto.conf. */
  prepare(): Promise<void>;
  /** Installs `<node>.crt/.key` and `root.crt` from `pkiDir`, sets ssl=on, reloads. */
  enable(pkiDir: string): Promise<void>;
  /** ALTER SYSTEM RESET, reload, remove the files; what the caller asserts afterwards. */
  restore(): Promise<{ ssl: string; autoConf: string; autoConfBefore: string; nonDefaultTlsFiles: string }>;
}

export function handTls(node: LabNode, tag: string): HandTls {
  const installed = {
    cert: join(node.dataDir, `pgharden-e2e-${tag}.crt`),
    key: join(node.dataDir, `pgharden-e2e-${tag}.key`),
    ca: join(node.dataDir, `pgharden-e2e-${tag}-root.crt`),
  };
  const autoConfPath = join(node.dataDir, 'postgresql.auto.conf');
  let autoConfBefore = '';
  const sql = async (...statements: string[]): Promise<string> => {
    const args = ['-h', node.socketDir, '-p', String(node.port), '-U', 'postgres', '-d', 'postgres', '-XAt'];
    const r = await execa('runuser', [
      '-u',
      node.osUser,
      '--',
      join(node.binDir, 'psql'),
      ...args,
      ...statements.flatMap((s) => ['-c', s]),
    ]);
    return r.stdout.trim();
  };
  const waitForSsl = async (want: 'on' | 'off'): Promise<string> => {
    let value = '';
    for (let i = 0; i < 50; i++) {
      value = await sql('SHOW ssl');
      if (value === want) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return value;
  };
  return {
    installed,
    sql,
    waitForSsl,
    async prepare() {
      for (const f of Object.values(installed)) {
        const there = await stat(f).then(
          () => true,
          () => false,
        );
        if (there) throw new Error(`${f} exists already: refusing to overwrite it`);
      }
      autoConfBefore = await readFile(autoConfPath, 'utf8');
    },
    async enable(pkiDir) {
      const install = (src: string, dst: string, mode: string) =>
        execa('install', ['-o', node.osUser, '-m', mode, join(pkiDir, src), dst]);
      await install(`${node.name}.crt`, installed.cert, '0644');
      await install(`${node.name}.key`, installed.key, '0600');
      await install('root.crt', installed.ca, '0644');
      await sql(
        'ALTER SYSTEM SET ssl = on',
        `ALTER SYSTEM SET ssl_cert_file = '${installed.cert}'`,
        `ALTER SYSTEM SET ssl_key_file = '${installed.key}'`,
        `ALTER SYSTEM SET ssl_ca_file = '${installed.ca}'`,
        'SELECT pg_reload_conf()',
      );
    },
    async restore() {
      await sql(...SETTINGS.map((s) => `ALTER SYSTEM RESET ${s}`), 'SELECT pg_reload_conf()');
      const ssl = await waitForSsl('off');
      await execa('rm', ['-f', ...Object.values(installed)]);
      return {
        ssl,
        autoConf: await readFile(autoConfPath, 'utf8'),
        autoConfBefore,
        nonDefaultTlsFiles: await sql(
          `SELECT count(*) FROM pg_settings WHERE name IN ('ssl_cert_file', 'ssl_key_file', 'ssl_ca_file') AND source <> 'default'`,
        ),
      };
    },
  };
}
