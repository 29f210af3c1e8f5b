// What every check receives: the profile, the clock, and where findings go.
import type { ParsedCert } from '../import.js';
import { makeFinding, type LintFinding } from './finding.js';
import type { LintProfile } from './profiles.js';
import type { RuleId } from './rules.js';

export interface LintContext {
  profile: LintProfile;
  now: Date;
  /** libpq falls back to the CN when no SAN of the host's type exists; rustls never does. */
  cnFallback: boolean;
  findings: LintFinding[];
  /** Adds the finding when the profile runs rule `id`; `about` is a certificate or a file name. */
  report(id: RuleId, message: string, about?: ParsedCert | string, fix?: string): void;
}

export function createContext(profile: LintProfile, now: Date): LintContext {
  const findings: LintFinding[] = [];
  return {
    profile,
    now,
    cnFallback: profile === 'postgres',
    findings,
    report(id, message, about, fix) {
      const where =
        about === undefined
          ? {}
          : typeof about === 'string'
            ? { file: about }
            : { file: about.file, index: about.index, subject: about.cert.subject };
      const finding = makeFinding(profile, id, message, where, fix);
      if (finding !== undefined) findings.push(finding);
    },
  };
}

/** `server.crt` for the first certificate of a file, `chain.crt#2` for the second. */
export function label(cert: ParsedCert): string {
  return cert.index === 0 ? cert.file : `${cert.file}#${cert.index + 1}`;
}
