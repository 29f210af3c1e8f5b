// tls.install-ca: the CA bundle the node trusts (ssl_ca_file, and a standby's sslrootcert) at
// <tlsDir>/root.crt, 0644, owned by the PostgreSQL OS user. Public material: the plan shows it.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan } from '../core/step.js';
import type { HardenContext } from './context.js';
import {
  ensureTlsDir,
  firstFingerprint,
  inspectRemote,
  plainReload,
  recall,
  remember,
  removeTlsDirIfCreated,
  sha256Hex,
  sslOn,
  tlsPaths,
} from './tls-files.js';

export const INSTALL_CA = 'tls.install-ca';

export const installCa = defineStep<HardenContext>({
  id: INSTALL_CA,
  title: 'Install the CA bundle (root.crt)',
  async check({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    const [dir, ca] = await inspectRemote(
      session,
      f,
      [
        { path: p.dir, kind: 'none' },
        { path: p.ca, kind: 'none', read: true },
      ],
      signal,
    );
    const text: Record<string, string> = {};
    if (ca?.text !== undefined) text[p.ca] = ca.text;
    remember(f, INSTALL_CA, { dirExists: dir?.exists === true, files: ca ? { [p.ca]: ca } : {}, text });
    return !(ca?.sha256 === sha256Hex(f.tls.caPem) && ca.mode === 0o644 && ca.owner === f.facts.osUser);
  },
  plan({ facts: f }) {
    const p = tlsPaths(f);
    const seen = recall(f, INSTALL_CA);
    return {
      ...emptyPlan(),
      commands: seen?.dirExists === true ? [] : [`mkdir -m 0700 ${p.dir} (if missing)`],
      files: [
        {
          path: p.ca,
          owner: f.facts.osUser,
          mode: 0o644,
          before: seen?.text[p.ca] ?? '',
          after: f.tls.caPem,
        },
      ],
    };
  },
  async apply({ session, facts: f, runId, signal }) {
    const p = tlsPaths(f);
    await ensureTlsDir(session, f, runId, INSTALL_CA, signal);
    await session.writeFileAtomic(p.ca, f.tls.caPem, { owner: f.facts.osUser, mode: 0o644, signal });
  },
  async verify({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    // The node's own openssl reads the bundle (SPEC §7.1: remote fingerprint equals local).
    const [ca] = await inspectRemote(session, f, [{ path: p.ca, kind: 'fingerprint' }], signal);
    if (ca?.sha256 !== sha256Hex(f.tls.caPem)) return false;
    if (ca.fingerprint !== firstFingerprint(f.tls.caPem)) {
      throw new FailedError(
        'tls.fingerprint',
        `${session.node}: ${p.ca} fingerprint ${ca.fingerprint || '?'} is not the CA's`,
      );
    }
    return true;
  },
  async undo({ session, facts: f, runId, signal }) {
    // The runner has put root.crt back (or removed it): drop the directory if this step made it, and
    // let a running TLS config re-read the restored bundle.
    await removeTlsDirIfCreated(session, f, runId, INSTALL_CA, signal);
    if (await sslOn(session, f, signal)) await plainReload(session, f, signal);
  },
});
