// tls.install-ca: the CA bundle the node trusts (ssl_ca_file, and a standby's sslrootcert) at
// <tlsDir>/root.crt, 0644, owned by the PostgreSQL OS user. Public material: the plan shows it.
import { FailedError } from '../core/errors.js';
import { defineStep, emptyPlan } from '../core/step.js';
import type { HardenContext } from './context.js';
import {
  ensureTlsDir,
  firstFingerprint,
  plainReload,
  recall,
  remember,
  removeTlsDirIfCreated,
  runAsPg,
  sha256Hex,
  sslOn,
  statRemote,
  tlsPaths,
} from './tls-files.js';

export const INSTALL_CA = 'tls.install-ca';

export const installCa = defineStep<HardenContext>({
  id: INSTALL_CA,
  title: 'Install the CA bundle (root.crt)',
  async check({ session, facts: f, signal }) {
    const p = tlsPaths(f);
    const [dir, ca] = await statRemote(session, f, 'none', [p.dir, p.ca], signal);
    const text: Record<string, string> = {};
    if (ca?.exists === true)
      text[p.ca] = (await session.readFile(p.ca, { asUser: f.facts.osUser, signal })).toString('utf8');
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
    const [ca] = await statRemote(session, f, 'none', [p.ca], signal);
    if (ca?.sha256 !== sha256Hex(f.tls.caPem)) return false;
    const out = await runAsPg(
      session,
      f,
      'openssl x509 -in "$1" -noout -fingerprint -sha256',
      [p.ca],
      'openssl x509',
      signal,
    );
    const fp = out.trim().split('=').at(-1)?.toUpperCase();
    if (fp !== firstFingerprint(f.tls.caPem)) {
      throw new FailedError(
        'tls.fingerprint',
        `${session.node}: ${p.ca} fingerprint ${fp ?? '?'} is not the CA's`,
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
