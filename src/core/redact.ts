// Keep secrets out of facts, logs and reports.

/** libpq keyword/value conninfo or URI, with every password replaced by ********. */
export function redactConninfo(conninfo: string): string {
  return conninfo
    .replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)/gi, '$1********')
    .replace(/^(postgres(?:ql)?:\/\/[^:/@?]*):[^@/?]*@/i, '$1:********@');
}

/**
 * Replace every occurrence of the given secret values in `text`. Used as a last line of defence on
 * anything written out (json lines, reports); values shorter than 4 characters are ignored to avoid
 * mangling ordinary words.
 */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join('********');
  }
  return out;
}
