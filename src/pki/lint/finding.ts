// Findings: a rule applied under a profile, and the exit code they add up to (SPEC §3).
import { PROFILE_CHAIN, type LintProfile, type LintRule, type LintSeverity } from './profiles.js';
import { RULES, type RuleId } from './rules.js';

const BY_ID: ReadonlyMap<string, LintRule> = new Map(RULES.map((r) => [r.id, r]));

export function ruleFor(id: RuleId): LintRule {
  const rule = BY_ID.get(id);
  if (rule === undefined) throw new Error(`unknown lint rule ${id}`);
  return rule;
}

export interface LintFinding {
  id: RuleId;
  severity: LintSeverity;
  /** The profile the rule comes from (`rustls` for a rustls rule run under `pgdog`). */
  profile: LintProfile;
  message: string;
  fix: string;
  /** File (or name) and position in it of the certificate the finding is about. */
  file?: string | undefined;
  index?: number | undefined;
  subject?: string | undefined;
}

/** The finding for rule `id` under `profile`, or undefined when that profile does not run the rule. */
export function makeFinding(
  profile: LintProfile,
  id: RuleId,
  message: string,
  where: { file?: string | undefined; index?: number | undefined; subject?: string | undefined } = {},
  fix?: string,
): LintFinding | undefined {
  const rule = ruleFor(id);
  for (const p of PROFILE_CHAIN[profile]) {
    const severity = rule.severity[p];
    if (severity !== undefined) return { id, severity, profile: p, message, fix: fix ?? rule.fix, ...where };
  }
  return undefined;
}

export function isInputFinding(f: LintFinding): boolean {
  return ruleFor(f.id).input === true;
}

/** SPEC §3: 2 when an input cannot be read as what it should be, 3 when a finding is an error. */
export function lintExitCode(findings: readonly LintFinding[]): 0 | 2 | 3 {
  if (findings.some(isInputFinding)) return 2;
  return findings.some((f) => f.severity === 'error') ? 3 : 0;
}
