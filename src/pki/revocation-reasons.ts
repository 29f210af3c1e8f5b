// RFC 5280 reasons `certs revoke --reason` accepts. No dependencies: the CLI's flag table imports it
// without loading the x509 library at startup.
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];
