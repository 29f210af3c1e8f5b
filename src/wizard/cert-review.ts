// Every certificate of a PKI directory the run will use, inspected and linted (SPEC §4 screen 5):
// subject, SANs, key type, validity, issuer, fingerprint, and lint findings. Never reads out a key.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { certRoles } from '../core/harden.js';
import type { Inventory } from '../core/inventory-schema.js';
import { certInfo, lintFiles, readCertificates, type FileStatus } from '../pki/index.js';
import type { AuthMode } from '../steps/context.js';
import { unlockKey, type AskSecret } from './engine-secrets.js';
import type { CertView } from './state.js';

interface Expected {
  file: string;
  key?: string | undefined;
  kind: CertView['kind'];
  name: string;
  hosts: string[];
}

function expectedFiles(inventory: Inventory, auth: AuthMode): Expected[] {
  return [
    { file: 'root.crt', kind: 'ca', name: 'CA', hosts: [] },
    ...inventory.nodes.map((n) => ({
      file: `${n.name}.crt`,
      key: `${n.name}.key`,
      kind: 'server' as const,
      name: n.name,
      hosts: [n.host, ...(n.names ?? [])],
    })),
    ...certRoles({ inventory, auth }).map((role) => ({
      file: `${role}.crt`,
      key: `${role}.key`,
      kind: 'client' as const,
      name: role,
      hosts: [],
    })),
  ];
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

async function review(
  dir: string,
  e: Expected,
  status: CertView['status'],
  passphrase: string | undefined,
): Promise<CertView> {
  const path = join(dir, e.file);
  const base: CertView = { file: path, kind: e.kind, name: e.name, sans: [], status, findings: [] };
  if (!(await exists(path))) {
    return {
      ...base,
      findings: [
        {
          id: 'file.missing',
          severity: 'error',
          message: `${path} is missing`,
          fix: 'generate certificates, or import a directory that has it',
        },
      ],
    };
  }
  const keyPath = e.key === undefined ? undefined : join(dir, e.key);
  const ca = join(dir, 'root.crt');
  const [lint, certs] = await Promise.all([
    lintFiles({
      files: [path],
      key: keyPath,
      ca: e.kind === 'ca' ? undefined : ca,
      hosts: e.hosts,
      usage: e.kind,
      clientRole: e.kind === 'client' ? e.name : undefined,
      passphrase: passphrase === undefined ? undefined : () => Promise.resolve(passphrase),
    }),
    readCertificates(path).catch(() => []),
  ]);
  const findings = lint.findings.map((f) => ({
    id: f.id,
    severity: f.severity,
    message: f.message,
    fix: f.fix,
  }));
  const [first] = certs;
  if (first === undefined) return { ...base, findings };
  const info = certInfo(first);
  return {
    ...base,
    subject: info.subject,
    issuer: info.issuer,
    sans: [...info.san.dns, ...info.san.ip.map((ip) => `IP:${ip}`), ...info.san.other],
    keyType: info.key.text,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    daysLeft: info.daysLeft,
    fingerprint: info.sha256Fingerprint,
    findings,
  };
}

/**
 * `statuses`: what issueToDir did per file name (absent: imported). `ask`: the passphrase of each
 * encrypted key, asked one key at a time (again when wrong), so lint can check it against its
 * certificate; the passphrases live in this call only.
 */
export async function reviewPkiDir(
  dir: string,
  inventory: Inventory,
  auth: AuthMode,
  statuses: ReadonlyMap<string, FileStatus> = new Map(),
  ask?: AskSecret,
): Promise<CertView[]> {
  const expected = expectedFiles(inventory, auth);
  const passphrases = new Map<string, string>();
  for (const e of expected) {
    if (e.key === undefined || !(await exists(join(dir, e.key)))) continue;
    const p = await unlockKey(join(dir, e.key), ask);
    if (p !== undefined) passphrases.set(e.file, p);
  }
  return Promise.all(
    expected.map((e) => review(dir, e, statuses.get(e.file) ?? 'imported', passphrases.get(e.file))),
  );
}
