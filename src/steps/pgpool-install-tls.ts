// pgpool.install-tls: the pooler's server certificate (0644), key (0600) and the cluster CA (0644, for
// ssl_ca_cert: pgpool verifies the backends against it) in its TLS directory, owned by the pgpool
// user. Written with writeFileAtomic (content on stdin); the key never enters a plan.
import { defineStep, emptyPlan, type FileChange } from '../core/step.js';
import type { HardenContext } from './context.js';
import { keyPlaceholder, serverKeyFingerprint } from './install-server-cert.js';
import { poolerOf, poolerTlsPaths, runAsPooler } from './pgpool-ops.js';
import { inspectRemote, publicKeySha256, recall, remember, sha256Hex, type RemoteFile } from './tls-files.js';

export const PGPOOL_INSTALL_TLS = 'pgpool.install-tls';

const marker = (dir: string, runId: string): string =>
  `${dir}/.pgharden-created-${runId}-${PGPOOL_INSTALL_TLS}`;

export const pgpoolInstallTls = defineStep<HardenContext>({
  id: PGPOOL_INSTALL_TLS,
  title: 'Install the pooler certificate, key and CA',
  async check({ session, facts: f, signal }) {
    const p = poolerTlsPaths(f);
    const [dir, cert, key, ca] = await inspectRemote(
      session,
      f,
      [
        { path: p.dir, kind: 'none' },
        { path: p.cert, kind: 'none', read: true },
        { path: p.key, kind: 'pkey' },
        { path: p.ca, kind: 'none', read: true },
      ],
      signal,
    );
    const files: Record<string, RemoteFile> = {};
    const text: Record<string, string> = {};
    if (cert) files[p.cert] = cert;
    if (key) files[p.key] = key;
    if (cert?.text !== undefined) text[p.cert] = cert.text;
    if (ca?.text !== undefined) text[p.ca] = ca.text;
    remember(f, PGPOOL_INSTALL_TLS, { dirExists: dir?.exists === true, files, text });
    const user = poolerOf(f).pgpool.osUser;
    const certOk = cert?.sha256 === sha256Hex(f.tls.server.certPem) && cert.owner === user;
    const caOk = ca?.sha256 === sha256Hex(f.tls.caPem) && ca.owner === user;
    const keyOk =
      key?.pubSha256 === publicKeySha256(f.tls.server.keyPem) && key.mode === 0o600 && key.owner === user;
    return !(certOk && caOk && keyOk);
  },
  plan({ facts: f }) {
    const p = poolerTlsPaths(f);
    const user = poolerOf(f).pgpool.osUser;
    const pub = serverKeyFingerprint(f);
    const seen = recall(f, PGPOOL_INSTALL_TLS);
    const oldKey = seen?.files[p.key];
    const files: FileChange[] = [
      {
        path: p.key,
        owner: user,
        mode: 0o600,
        before: oldKey?.exists === true ? keyPlaceholder(oldKey.pubSha256 || 'unreadable') : '',
        after: keyPlaceholder(pub),
      },
      {
        path: p.cert,
        owner: user,
        mode: 0o644,
        before: seen?.text[p.cert] ?? '',
        after: f.tls.server.certPem,
      },
      { path: p.ca, owner: user, mode: 0o644, before: seen?.text[p.ca] ?? '', after: f.tls.caPem },
    ];
    return {
      ...emptyPlan(),
      commands: seen?.dirExists === true ? [] : [`mkdir -m 0700 ${p.dir} (if missing)`],
      files,
    };
  },
  async apply({ session, facts: f, runId, signal }) {
    const p = poolerTlsPaths(f);
    const user = poolerOf(f).pgpool.osUser;
    serverKeyFingerprint(f);
    await runAsPooler(
      session,
      f,
      'if [ ! -d "$1" ]; then mkdir -m 0700 -- "$1" && : > "$2"; fi',
      [p.dir, marker(p.dir, runId)],
      `creating ${p.dir}`,
      { signal },
    );
    await session.writeFileAtomic(p.key, f.tls.server.keyPem, { owner: user, mode: 0o600, signal });
    await session.writeFileAtomic(p.cert, f.tls.server.certPem, { owner: user, mode: 0o644, signal });
    await session.writeFileAtomic(p.ca, f.tls.caPem, { owner: user, mode: 0o644, signal });
  },
  async verify({ session, facts: f, signal }) {
    const p = poolerTlsPaths(f);
    const [cert, key, ca] = await inspectRemote(
      session,
      f,
      [
        { path: p.cert, kind: 'none' },
        { path: p.key, kind: 'none' },
        { path: p.ca, kind: 'none' },
      ],
      signal,
    );
    return (
      cert?.sha256 === sha256Hex(f.tls.server.certPem) &&
      ca?.sha256 === sha256Hex(f.tls.caPem) &&
      key?.sha256 === sha256Hex(f.tls.server.keyPem) &&
      key.mode === 0o600
    );
  },
  async undo({ session, facts: f, runId, signal }) {
    // The engine restored (or removed) the files; the directory goes only if this run made it.
    const p = poolerTlsPaths(f);
    await runAsPooler(
      session,
      f,
      'if [ -e "$2" ]; then rm -f -- "$2"; rmdir -- "$1" 2>/dev/null || true; fi',
      [p.dir, marker(p.dir, runId)],
      `removing ${p.dir}`,
      { signal },
    );
  },
});
