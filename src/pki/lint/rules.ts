// Every lint rule of SPEC §6 as data: id, severity per profile, what it catches and why, the fix.
// docs/lint-rules.md is the reader's copy of this table (a test keeps them in step).
import type { LintRule, LintSeverity } from './profiles.js';

const both = (s: LintSeverity) => ({ postgres: s, rustls: s });
const input = { severity: both('error'), input: true } as const;

export const RULES = [
  // Input: the file cannot be read as what it should be → exit 2.
  {
    id: 'file.unreadable',
    ...input,
    what: 'The file cannot be opened (missing, unreadable, a directory).',
    fix: 'Check the path and its permissions.',
  },
  {
    id: 'pem.empty',
    ...input,
    what: 'The file is empty or blank, often the trace of a failed copy or redirect.',
    fix: 'Copy the certificate or key again.',
  },
  {
    id: 'pem.no-block',
    ...input,
    what: 'No `-----BEGIN …-----` block. A file starting with byte 0x30 is DER (binary), which PostgreSQL, libpq and rustls do not read here.',
    fix: 'Convert: `openssl x509 -inform der -in F -out F.pem` (keys: `openssl pkey -inform der`).',
  },
  {
    id: 'pem.truncated',
    ...input,
    what: 'A BEGIN line without its END, a body that is not base64, or base64 that does not decode to one complete ASN.1 structure.',
    fix: 'Copy the whole file again, from BEGIN to END.',
  },
  {
    id: 'pem.unexpected-block',
    ...input,
    what: 'The file holds another kind of PEM block than expected, e.g. a private key where a certificate was expected.',
    fix: 'Give certificate files as FILE and the key with `--key`.',
  },
  {
    id: 'cert.unparseable',
    ...input,
    what: 'A CERTIFICATE block that is not a valid X.509 certificate.',
    fix: 'Check it with `openssl x509 -noout -text`; get the certificate again from its issuer.',
  },
  {
    id: 'key.unparseable',
    ...input,
    what: 'A private-key block that OpenSSL cannot read as a key.',
    fix: 'Check it with `openssl pkey -noout`; use the key the certificate was issued for.',
  },
  {
    id: 'key.unsupported',
    ...input,
    what: 'A key that cannot sign (X25519, X448, DH) or an OpenSSH-format key: no TLS stack can use it.',
    fix: 'Use an ECDSA P-256/P-384 or RSA ≥ 2048 key in PEM (PKCS#8, PKCS#1 or SEC1).',
  },
  {
    id: 'key.encrypted-no-passphrase',
    ...input,
    what: 'The key is encrypted and no passphrase was given, so it cannot be checked against the certificate.',
    fix: 'Pass `--passphrase-file FILE`; deploy the key decrypted (see `key.encrypted`).',
  },
  {
    id: 'key.wrong-passphrase',
    ...input,
    what: 'The passphrase does not decrypt the key.',
    fix: 'Give the passphrase the key was encrypted with.',
  },
  // Validity (every certificate of the file).
  {
    id: 'cert.expired',
    severity: both('error'),
    what: 'notAfter is in the past: every TLS client refuses the certificate.',
    fix: 'Issue a new certificate (`pgharden certs issue`, or `pgharden rotate`).',
  },
  {
    id: 'cert.not-yet-valid',
    severity: both('error'),
    what: 'notBefore is in the future (wrong clock on the issuer, or a post-dated certificate).',
    fix: 'Check the clocks; issue it again with notBefore now or earlier.',
  },
  {
    id: 'cert.expiring',
    severity: both('error'),
    what: 'Fewer than 7 days left.',
    fix: 'Rotate now: `pgharden rotate`.',
  },
  {
    id: 'cert.expires-soon',
    severity: both('warning'),
    what: 'Fewer than 30 days left.',
    fix: 'Plan the rotation: `pgharden rotate`.',
  },
  // Names: verify-full readiness of a server certificate.
  {
    id: 'cert.no-san',
    severity: both('error'),
    what: 'No subjectAltName. rustls never falls back to the CN; libpq does, but here there is no CN to fall back to.',
    fix: 'Issue it again with every DNS name and IP clients use in subjectAltName.',
  },
  {
    id: 'cert.cn-only',
    severity: { postgres: 'warning' },
    what: 'No DNS or IP subjectAltName: libpq matches the host against the CN (it does so only when no SAN of the host’s type exists), rustls-based clients and poolers never do.',
    fix: 'Put the names in subjectAltName as well.',
  },
  {
    id: 'cert.host-not-in-san',
    severity: both('error'),
    what: 'A `--host` is not among the names the certificate carries (DNS SANs with single-label wildcards; for libpq the CN when there is no DNS SAN), so `sslmode=verify-full` fails.',
    fix: 'Issue it again with that name in subjectAltName, or connect by a name it has.',
  },
  {
    id: 'cert.ip-needs-ip-san',
    severity: both('error'),
    what: 'An IP `--host` appears only as a DNS SAN or CN. rustls, OpenSSL’s host check, JDBC and Go match IPs only against iPAddress SANs.',
    fix: 'Add it as an iPAddress SAN (`IP:10.0.0.11`).',
  },
  {
    id: 'cert.ip-san-libpq15',
    severity: { postgres: 'warning' },
    what: 'An IP `--host` matches an iPAddress SAN, which libpq reads only from version 15; older clients fail verify-full for it.',
    fix: 'Use libpq ≥ 15 on clients, or connect by a DNS name in the SAN.',
  },
  {
    id: 'cert.cn-not-role',
    severity: { postgres: 'error' },
    what: 'A client certificate whose CN is not the database role: `clientcert=verify-full`/`cert` auth compare the CN with the user name.',
    fix: 'Issue it with CN = role, or map the CN in pg_ident.conf.',
  },
  // Structure.
  {
    id: 'cert.leaf-is-ca',
    severity: { postgres: 'warning', rustls: 'error' },
    what: 'The leaf says `CA:TRUE`. webpki refuses a CA certificate as end entity; a CA leaf can also sign other certificates.',
    fix: 'Issue the leaf with `basicConstraints=critical,CA:FALSE`.',
  },
  {
    id: 'cert.v1',
    severity: { postgres: 'warning', rustls: 'error' },
    what: 'An X.509 v1 certificate: no extensions (no SAN, no CA:FALSE); webpki refuses v1.',
    fix: 'Issue a v3 certificate (with an extensions section).',
  },
  {
    id: 'cert.eku-no-server-auth',
    severity: both('error'),
    what: 'Used as a server certificate but its extendedKeyUsage lacks serverAuth: OpenSSL (libpq) and webpki refuse it.',
    fix: 'Issue it with `extendedKeyUsage=serverAuth` (or without EKU).',
  },
  {
    id: 'cert.eku-no-client-auth',
    severity: both('error'),
    what: 'Used as a client certificate but its extendedKeyUsage lacks clientAuth: the server refuses it.',
    fix: 'Issue it with `extendedKeyUsage=clientAuth`.',
  },
  {
    id: 'cert.unknown-critical-extension',
    severity: both('error'),
    what: 'A critical extension the TLS stack does not know: RFC 5280 requires rejecting the certificate (OpenSSL and webpki do).',
    fix: 'Issue it again without that extension, or mark it non-critical.',
  },
  {
    id: 'pem.private-key-in-cert-file',
    severity: both('warning'),
    what: 'The certificate file also holds a private key; certificate files are usually world-readable.',
    fix: 'Keep the key in its own 0600 file.',
  },
  // Algorithms.
  {
    id: 'cert.md5-signature',
    severity: both('error'),
    what: 'Signed with MD5 (or MD2/MD4): forgeable; OpenSSL 3 and rustls refuse it.',
    fix: 'Issue it again with SHA-256 or stronger.',
  },
  {
    id: 'cert.weak-signature',
    severity: both('error'),
    what: 'Signed with SHA-1: collisions are practical; OpenSSL 3 at security level ≥ 1 and rustls refuse it.',
    fix: 'Issue it again with SHA-256 or stronger.',
  },
  {
    id: 'cert.unsupported-signature',
    severity: { rustls: 'error' },
    what: 'A signature algorithm rustls does not verify (DSA, SHA-224, unknown).',
    fix: 'Issue it with ECDSA/RSA and SHA-256/384/512, RSA-PSS, or Ed25519.',
  },
  {
    id: 'cert.rsa-too-small',
    severity: both('error'),
    what: 'RSA key under 2048 bits: OpenSSL’s default security level 2 and rustls refuse it.',
    fix: 'Use RSA ≥ 2048 (3072 recommended) or ECDSA P-256.',
  },
  {
    id: 'cert.rsa-too-large',
    severity: { rustls: 'error' },
    what: 'RSA key over 8192 bits: webpki refuses it.',
    fix: 'Use RSA 2048–8192 or ECDSA.',
  },
  {
    id: 'cert.dsa-key',
    severity: both('error'),
    what: 'A DSA key: TLS 1.3 has no DSA, OpenSSL 3 deprecates it, rustls cannot use it.',
    fix: 'Use an ECDSA P-256 or RSA ≥ 2048 key.',
  },
  {
    id: 'cert.unsupported-key',
    severity: { rustls: 'error' },
    what: 'A key rustls cannot use: Ed448, RSA-PSS (id-RSASSA-PSS) keys, or a curve other than P-256/P-384/P-521.',
    fix: 'Use ECDSA P-256/P-384, RSA 2048–8192 or Ed25519.',
  },
  {
    id: 'fips.ed25519',
    severity: { fips: 'error' },
    what: 'Ed25519 key: Connection Manager built for FIPS 140-3 accepts only RSA ≥ 2048 and ECDSA P-256/P-384.',
    fix: 'Use ECDSA P-256/P-384 or RSA ≥ 2048.',
  },
  {
    id: 'fips.curve',
    severity: { fips: 'error' },
    what: 'ECDSA on a curve other than P-256/P-384 (e.g. P-521) under the FIPS build.',
    fix: 'Use ECDSA P-256 or P-384.',
  },
  {
    id: 'fips.signature',
    severity: { fips: 'error' },
    what: 'Signature not SHA-256/384/512 based (SHA-1, MD5, SHA-224, Ed25519) under the FIPS build.',
    fix: 'Issue it with SHA-256, SHA-384 or SHA-512.',
  },
  // Chain.
  {
    id: 'chain.untrusted',
    severity: both('error'),
    what: 'The leaf does not verify through the file’s intermediates to a certificate of `--ca`.',
    fix: 'Give the right `--ca`, or put the missing intermediates after the leaf.',
  },
  {
    id: 'chain.pgdog-first-block-only',
    severity: { pgdog: 'warning' },
    what: 'PgDog reads only the first PEM block of its certificate file, so intermediates in a chain file never reach clients: a leaf not signed directly by the CA clients trust fails verification.',
    fix: 'Sign the leaf directly with the CA clients trust (pgharden’s CA does), or have clients trust the intermediate.',
  },
  // Private key.
  {
    id: 'key.mismatch',
    severity: both('error'),
    what: 'The private key does not belong to the certificate: the server fails to start or reload.',
    fix: 'Give the key the certificate was issued for.',
  },
  {
    id: 'key.encrypted',
    severity: both('error'),
    what: 'The key file is encrypted. PostgreSQL cannot prompt on reload (only ssl_passphrase_command); rustls reads only unencrypted PEM.',
    fix: 'Deploy it decrypted with mode 0600: `openssl pkey -in enc.key -out server.key`.',
  },
  {
    id: 'key.permissions',
    severity: { postgres: 'error', rustls: 'warning' },
    what: 'Key file readable by others: PostgreSQL refuses anything but 0600 owned by its user, or 0640 owned by root with its group.',
    fix: '`chmod 0600` (owner: the server user), or `chown root:postgres` + `chmod 0640`.',
  },
] as const satisfies readonly LintRule[];

export type RuleId = (typeof RULES)[number]['id'];
