// tls.install-ca: the CA bundle the node trusts (ssl_ca_file, and a standby's sslrootcert) at
// <tlsDir>/root.crt, 0644, owned by the PostgreSQL OS user — and, once something was revoked, the
// CA's CRL at <tlsDir>/root.crl (ssl_crl_file, set by enable-ssl). Public material: the plan shows it.
import { defineStep, emptyPlan } from '../core/step.js';
import type { HardenContext } from './context.js';
import {
  ensureTlsDir,
  inspectRemote,
  plainReload,
  recall,
  remember,
  removeTlsDirIfCreated,
  sha256Hex,
  sslOn,
  tlsPaths,
  type RemoteFile,
} from './tls-files.js';

export const INSTALL_CA = 'tls.install-ca';

/** root.crt, and root.crl when there is one. */
function wanted(f: HardenContext): { path: string; content: string }[] {
  const p = tlsPaths(f);
  return [
    { path: p.ca, content: f.tls.caPem },
    ...(f.tls.crlPem === undefined ? [] : [{ path: p.crl, content: f.tls.crlPem }]),
  ];
}

export const installCa = defineStep<HardenContext>({
  id: INSTALL_CA,
  title: 'Install the CA bundle (root.crt)',
  async check({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    const [dir, ...files] = await inspectRemote(
      session,
      f,
      [
        { path: p.dir, kind: 'none' },
        ...wanted(f).map((w) => ({ path: w.path, kind: 'none' as const, read: true })),
      ],
      signal,
    );
    const text: Record<string, string> = {};
    const seen: Record<string, RemoteFile> = {};
    wanted(f).forEach((w, i) => {
      const file = files[i];
      if (file === undefined) return;
      seen[w.path] = file;
      if (file.text !== undefined) text[w.path] = file.text;
    });
    remember(f, INSTALL_CA, { dirExists: dir?.exists === true, files: seen, text });
    return wanted(f).some((w) => {
      const file = seen[w.path];
      return !(file?.sha256 === sha256Hex(w.content) && file.mode === 0o644 && file.owner === f.facts.osUser);
    });
  },
  plan({ facts: f }) {
    const p = tlsPaths(f);
    const seen = recall(f, INSTALL_CA);
    return {
      ...emptyPlan(),
      commands: seen?.dirExists === true ? [] : [`mkdir -m 0700 ${p.dir} (if missing)`],
      files: wanted(f).map((w) => ({
        path: w.path,
        owner: f.facts.osUser,
        mode: 0o644,
        before: seen?.text[w.path] ?? '',
        after: w.content,
      })),
    };
  },
  async apply({ session, facts: f, runId, signal }) {
    await ensureTlsDir(session, f, runId, INSTALL_CA, signal);
    for (const w of wanted(f)) {
      await session.writeFileAtomic(w.path, w.content, { owner: f.facts.osUser, mode: 0o644, signal });
    }
  },
  async verify({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    // Byte for byte the bundle pgharden wrote (so its fingerprint is the CA's: SPEC §7.1). Not the
    // node's openssl: each call costs ~40 ms of CPU there and proves no more than the sha256 does;
    // enable-ssl then checks what the server really serves.
    const [ca, crl] = await inspectRemote(
      session,
      f,
      [
        { path: p.ca, kind: 'none' },
        ...(f.tls.crlPem === undefined ? [] : [{ path: p.crl, kind: 'none' as const }]),
      ],
      signal,
    );
    if (ca?.sha256 !== sha256Hex(f.tls.caPem)) return false;
    if (f.tls.crlPem !== undefined && crl?.sha256 !== sha256Hex(f.tls.crlPem)) return false;
    return true;
  },
  async undo({ session, facts: f, runId, signal }) {
    // The runner has put root.crt back (or removed it): drop the directory if this step made it, and
    // let a running TLS config re-read the restored bundle.
    await removeTlsDirIfCreated(session, f, runId, INSTALL_CA, signal);
    if (await sslOn(session, f, signal)) await plainReload(session, f, signal);
  },
});
