// tls.install-server-cert: <tlsDir>/server.crt (0644) and <tlsDir>/server.key (0600), owned by the
// PostgreSQL OS user, written with writeFileAtomic (contents on stdin, never argv). The key
// never enters a PlannedChange: plan.json and the plan view show a placeholder naming its public key.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan, type FileChange } from '../core/step.js';
import type { HardenContext } from './context.js';
import {
  ensureTlsDir,
  firstFingerprint,
  inspectRemote,
  plainReload,
  publicKeySha256,
  recall,
  remember,
  removeTlsDirIfCreated,
  sha256Hex,
  sslOn,
  tlsPaths,
  type RemoteFile,
} from './tls-files.js';

export const INSTALL_SERVER_CERT = 'tls.install-server-cert';

export function keyPlaceholder(pubSha256: string): string {
  return `(private key, 0600, sha256 of public key ${pubSha256})`;
}

/** Pure: refuses a key that does not belong to the certificate before anything is written. */
export function serverKeyFingerprint(f: HardenContext): string {
  const pub = publicKeySha256(f.tls.server.keyPem);
  if (pub !== publicKeySha256(f.tls.server.certPem)) {
    throw new FailedError(
      'tls.key-mismatch',
      `${f.node.name}: the server key does not match the server certificate`,
      're-issue the node certificate (pgharden certs issue) and plan again',
    );
  }
  return pub;
}

export const installServerCert = defineStep<HardenContext>({
  id: INSTALL_SERVER_CERT,
  title: 'Install the server certificate and key',
  async check({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    const [dir, cert, key] = await inspectRemote(
      session,
      f,
      [
        { path: p.dir, kind: 'none' },
        { path: p.cert, kind: 'none', read: true },
        { path: p.key, kind: 'pkey' },
      ],
      signal,
    );
    const text: Record<string, string> = {};
    if (cert?.text !== undefined) text[p.cert] = cert.text;
    const files: Record<string, RemoteFile> = {};
    if (cert) files[p.cert] = cert;
    if (key) files[p.key] = key;
    remember(f, INSTALL_SERVER_CERT, { dirExists: dir?.exists === true, files, text });
    const certOk = cert?.sha256 === sha256Hex(f.tls.server.certPem) && cert.mode === 0o644;
    const keyOk =
      key?.exists === true &&
      key.pubSha256 === publicKeySha256(f.tls.server.keyPem) &&
      key.mode === 0o600 &&
      key.owner === f.facts.osUser;
    return !(certOk && keyOk && cert.owner === f.facts.osUser);
  },
  plan({ facts: f }) {
    const p = tlsPaths(f);
    const pub = serverKeyFingerprint(f);
    const seen = recall(f, INSTALL_SERVER_CERT);
    const oldKey = seen?.files[p.key];
    const keyBefore =
      oldKey?.exists === true
        ? keyPlaceholder(oldKey.pubSha256 === '' ? 'unreadable' : oldKey.pubSha256)
        : '';
    const files: FileChange[] = [
      {
        path: p.cert,
        owner: f.facts.osUser,
        mode: 0o644,
        before: seen?.text[p.cert] ?? '',
        after: f.tls.server.certPem,
      },
      { path: p.key, owner: f.facts.osUser, mode: 0o600, before: keyBefore, after: keyPlaceholder(pub) },
    ];
    return {
      ...emptyPlan(),
      commands: seen?.dirExists === true ? [] : [`mkdir -m 0700 ${p.dir} (if missing)`],
      files,
    };
  },
  async apply({ session, facts: f, runId, signal }) {
    const p = tlsPaths(f);
    serverKeyFingerprint(f);
    await ensureTlsDir(session, f, runId, INSTALL_SERVER_CERT, signal);
    // Key first: a server.crt that has no key next to it is worse than the reverse for a reload.
    await session.writeFileAtomic(p.key, f.tls.server.keyPem, { owner: f.facts.osUser, mode: 0o600, signal });
    await session.writeFileAtomic(p.cert, f.tls.server.certPem, {
      owner: f.facts.osUser,
      mode: 0o644,
      signal,
    });
  },
  async verify({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    // One exec. Both files byte for byte what pgharden wrote, so the certificate's fingerprint is the
    // issued one (SPEC §7.1) without the node's openssl (~40 ms of CPU per call there); the key was
    // checked against the certificate locally, and enable-ssl checks the certificate the server serves.
    const [cert, key] = await inspectRemote(
      session,
      f,
      [
        { path: p.cert, kind: 'none' },
        { path: p.key, kind: 'none' },
      ],
      signal,
    );
    if (cert?.sha256 !== sha256Hex(f.tls.server.certPem)) {
      throw new FailedError(
        'tls.fingerprint',
        `${session.node}: ${p.cert} is not the issued certificate (fingerprint ${firstFingerprint(f.tls.server.certPem)})`,
      );
    }
    if (key?.mode !== 0o600 || key.owner !== f.facts.osUser) {
      throw new FailedError('tls.key-mode', `${session.node}: ${p.key} is not 0600 ${f.facts.osUser}`);
    }
    if (key.sha256 !== sha256Hex(f.tls.server.keyPem)) {
      throw new FailedError(
        'tls.key-mismatch',
        `${session.node}: ${p.key} is not the key issued with ${p.cert}`,
      );
    }
    return true;
  },
  async undo({ session, facts: f, runId, signal }) {
    await removeTlsDirIfCreated(session, f, runId, INSTALL_SERVER_CERT, signal);
    if (await sslOn(session, f, signal)) await plainReload(session, f, signal);
  },
});
