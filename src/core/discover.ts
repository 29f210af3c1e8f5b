// Find the PostgreSQL instance a node runs, as its OS user, in one remote shell. Needed when the
// inventory leaves dataDir/port/socketDir/binDir out (SPEC §5: "discovered in preflight").

/**
 * Prints one tab-separated line per running postmaster of the current OS user:
 *   postmaster <pid> <exe> <cwd> <port> <socketDir> <psql --version>
 * A postmaster is a postgres process whose parent is not the same postgres binary; its cwd is the
 * data directory, and postmaster.pid lines 4 and 5 are its port and first socket directory.
 */
export const DISCOVER_SCRIPT = String.raw`
set -u
me=$(id -un)
echo "whoami	$me"
for d in /proc/[0-9]*; do
  exe=$(readlink "$d/exe" 2>/dev/null) || continue
  case "$exe" in */postgres) ;; *) continue ;; esac
  pid=\${d#/proc/}
  ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "$d/status" 2>/dev/null)
  pexe=$(readlink "/proc/$ppid/exe" 2>/dev/null || true)
  [ "$pexe" = "$exe" ] && continue
  cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
  port=$(sed -n 4p "$cwd/postmaster.pid" 2>/dev/null)
  sock=$(sed -n 5p "$cwd/postmaster.pid" 2>/dev/null)
  bindir=\${exe%/postgres}
  psqlv=$("$bindir/psql" --version 2>/dev/null || true)
  printf 'postmaster\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pid" "$exe" "$cwd" "$port" "$sock" "$psqlv"
done
`;

export interface Postmaster {
  pid: number;
  binDir: string;
  dataDir: string;
  port: number;
  socketDir: string;
  psqlVersion: string | undefined;
}

export function parseDiscovery(stdout: string): { whoami: string | undefined; postmasters: Postmaster[] } {
  let whoami: string | undefined;
  const postmasters: Postmaster[] = [];
  for (const line of stdout.split('\n')) {
    const [kind, ...f] = line.split('\t');
    if (kind === 'whoami') whoami = f[0];
    if (kind !== 'postmaster' || f.length < 6) continue;
    const [pid, exe, cwd, port, sock, psqlv] = f as [string, string, string, string, string, string];
    postmasters.push({
      pid: Number(pid),
      binDir: exe.replace(/\/postgres$/, ''),
      dataDir: cwd,
      port: Number(port),
      socketDir: sock,
      psqlVersion: psqlv === '' ? undefined : psqlv,
    });
  }
  return { whoami, postmasters };
}

/** Pick the instance the inventory means; undefined + reason when it is not clear. */
export function choosePostmaster(
  found: Postmaster[],
  want: { dataDir?: string | undefined; port?: number | undefined },
): { postmaster: Postmaster } | { problem: string } {
  const strip = (p: string): string => p.replace(/\/+$/, '');
  const candidates = found.filter(
    (p) =>
      (want.dataDir === undefined || strip(p.dataDir) === strip(want.dataDir)) &&
      (want.port === undefined || p.port === want.port),
  );
  const [only, ...more] = candidates;
  if (only !== undefined && more.length === 0) return { postmaster: only };
  const wanted = [want.dataDir && `data directory ${want.dataDir}`, want.port && `port ${want.port}`]
    .filter(Boolean)
    .join(' and ');
  if (only === undefined) {
    return {
      problem:
        found.length === 0
          ? 'no running PostgreSQL server owned by this OS user'
          : `no running PostgreSQL server with ${wanted}; found ${found.map((p) => `${p.dataDir} (port ${p.port})`).join(', ')}`,
    };
  }
  return {
    problem: `several PostgreSQL servers run here (${candidates.map((p) => `${p.dataDir} port ${p.port}`).join(', ')}): set pg.dataDir or pg.port in the inventory`,
  };
}
