// Lint profiles (SPEC §6) and the shape of a rule.
export const LINT_PROFILES = ['postgres', 'rustls', 'pgdog', 'fips'] as const;
export type LintProfile = (typeof LINT_PROFILES)[number];
export type LintSeverity = 'error' | 'warning' | 'info';

export function isLintProfile(s: unknown): s is LintProfile {
  return typeof s === 'string' && (LINT_PROFILES as readonly string[]).includes(s);
}

/** `pgdog` and `fips` are `rustls` plus their own rules (SPEC §6); the first match names the profile. */
export const PROFILE_CHAIN: Record<LintProfile, readonly LintProfile[]> = {
  postgres: ['postgres'],
  rustls: ['rustls'],
  pgdog: ['pgdog', 'rustls'],
  fips: ['fips', 'rustls'],
};

export interface LintRule {
  id: string;
  /** Severity in each profile the rule belongs to; a profile not listed does not run it. */
  severity: Partial<Record<LintProfile, LintSeverity>>;
  /** The input cannot be used as what it should be: `certs lint` exits 2 (SPEC §3). */
  input?: true;
  /** What the rule catches and why it matters (docs). */
  what: string;
  fix: string;
}
