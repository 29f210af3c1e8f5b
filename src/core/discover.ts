// Find the PostgreSQL instance a node runs, as its OS user, in one remote shell. Needed when the
// inventory leaves dataDir/port/socketDir/binDir out (SPEC §5: "discovered in preflight").

/**
 * Prints one tab-separated line per running postmaster of the current OS user:
 *   postmaster <pid> <exe> <cwd> <port> <socketDir> <psql --version>
 * A postmaster is a postgres process whose parent is not a postgres process; its cwd is the data
 * directory, and postmaster.pid lines 4 and 5 are its port and first socket directory. With
 * PGH_DATADIR set and its postmaster.pid naming a live postgres, that one is reported without
 * scanning /proc. The scan costs a fixed handful of processes, not a few per running process
 * (a readlink per pid made discovery ~300 ms on a busy host).
 */
export const DISCOVER_SCRIPT = String.raw`
echo "whoami	$(id -un)"
report() {
  cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 0
  port=$(sed -n 4p "$cwd/postmaster.pid" 2>/dev/null)
  sock=$(sed -n 5p "$cwd/postmaster.pid" 2>/dev/null)
  psqlv=$("$(dirname "$2")/psql" --version 2>/dev/null || true)
  printf 'postmaster\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$cwd" "$port" "$sock" "$psqlv"
}
if [ -n "$PGH_DATADIR" ] && [ -r "$PGH_DATADIR/postmaster.pid" ]; then
  pid=$(sed -n 1p "$PGH_DATADIR/postmaster.pid")
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  case "$exe" in */postgres) report "$pid" "$exe"; exit 0 ;; esac
fi
cands=$(ls -l /proc/[0-9]*/exe 2>/dev/null | sed -n 's|.* /proc/\([0-9]*\)/exe -> \(.*/postgres\)$|\1|p' | tr '\n' ' ')
[ -n "$cands" ] || exit 0
files=""
for p in $cands; do files="$files /proc/$p/status"; done
for pid in $(awk -v cands=" $cands" '/^PPid:/ { split(FILENAME, f, "/"); if (index(cands, " " $2 " ") == 0) print f[3] }' $files 2>/dev/null); do
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) && report "$pid" "$exe"
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
