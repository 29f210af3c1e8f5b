// Public API of src/pki: the engine and the CLI import from here.
// Writing side (issue 4): keys, CA, leaves, the PKI directory and the CRL.
export { KEY_TYPES, isKeyType, generateKeyPair, keyTypeOf, exportPrivateKeyPem } from './keys.js';
export type { KeyType } from './keys.js';
export { CA_DAYS, LEAF_DAYS, caSubject, createCa, loadCa, issueLeaf, signedBy, daysLeft } from './ca.js';
export type { Ca, NewCa, LeafKind, LeafSpec, IssuedLeaf } from './ca.js';
export { KEEP_MIN_DAYS, planLeaves, sanList, certSans, keepVerdict, issueToDir } from './issue.js';
export type { PkiFile, FileStatus, IssueToDirOptions, IssueToDirResult, KeepVerdict } from './issue.js';
export {
  CA_CERT_FILE,
  CA_KEY_FILE,
  CRL_FILE,
  ensurePkiDir,
  writeFileAtomic,
  loadCaFromDir,
  requireCa,
  readCertFile,
} from './store.js';
export {
  REVOCATION_REASONS,
  CRL_DAYS,
  isRevocationReason,
  revoke,
  readCrlFile,
  describeCrl,
  revokedSerials,
  signCrl,
  crlPem,
  parseCrl,
  normalizeSerial,
} from './crl.js';
export type { RevocationReason, RevokeResult, CrlInfo, CrlEntryInfo } from './crl.js';

// Reading side (issue 4): import, inspect, lint.
export { PkiInputError, decodePem, loadSource, toPem } from './pem.js';
export type { PemSource } from './pem.js';
export {
  readCertificates,
  readCertificateFile,
  readPrivateKey,
  keyMatchesCert,
  assertKeyMatchesCert,
  describeKey,
} from './import.js';
export type { ParsedCert, PrivateKeyInfo, KeyDescription } from './import.js';
export { certInfo } from './inspect.js';
export type { CertInfo } from './inspect.js';
export { lintCertificate, lintKey, inferUsage } from './lint/lint.js';
export type { LintInput, CertUsage } from './lint/lint.js';
export { lintFiles } from './lint/files.js';
export type { LintFilesOptions, LintFilesResult } from './lint/files.js';
