// POSIX sh quoting. Every value that reaches a remote command line goes through shellQuote; secrets
// never do (they travel on stdin).

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One sh word that expands to exactly `s`. */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  if (s !== '' && SAFE.test(s)) return s;
  // Inside single quotes nothing is special except the closing quote itself: end the quoted run,
  // emit an escaped quote, reopen.
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
