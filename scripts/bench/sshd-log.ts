// Count SSH connections and channels from each node's sshd log (LogLevel VERBOSE). The lab is shared, so
// only lines of our own TCP connections count: pgharden's are known by local address+port (socket hook),
// the bash baselines' by a source address of their own (ssh -o BindAddress).
//   Accepted publickey for lab_s1 from 127.0.0.1 port 45480 ssh2: ED25519 SHA256:…
//   Starting session: command for lab_s1 from 127.0.0.1 port 45480 id 0
//   Starting session: subsystem 'sftp' for lab_s1 from 127.0.0.1 port 45480 id 1
// (LogLevel VERBOSE also logs "Connection from …" for every TCP connection, authenticated or not.)
import { open, stat } from 'node:fs/promises';

const ACCEPTED = /^Accepted \S+ for \S+ from (\S+) port (\d+) /;
const SESSION = /^Starting session: (.+?) for \S+ from (\S+) port (\d+) id \d+$/;

export interface SshCounts {
  /** Authenticated SSH connections. */
  connections: number;
  /** Session channels: commands, subsystems (sftp), shells. */
  channels: number;
  /** Channels by kind: "command", "subsystem 'sftp'", … */
  kinds: Record<string, number>;
}

export interface LogDelta {
  ours: SshCounts;
  /** Connections in the same window that were not ours (other users of the shared lab). */
  foreignConnections: number;
}

export type Mine = (address: string, port: number) => boolean;

/** Current size of each log: the start of the window. */
export async function markLogs(paths: string[]): Promise<Map<string, number>> {
  const marks = new Map<string, number>();
  for (const p of paths) marks.set(p, (await stat(p)).size);
  return marks;
}

async function readFrom(path: string, offset: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    // A line being written right now is left for the next window.
    const text = buf.toString('utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1);
  } finally {
    await fh.close();
  }
}

export function countLines(text: string, mine: Mine): LogDelta {
  const ours: SshCounts = { connections: 0, channels: 0, kinds: {} };
  let foreignConnections = 0;
  // sshd -E writes CRLF line ends.
  for (const line of text.split(/\r?\n/)) {
    const a = ACCEPTED.exec(line);
    if (a !== null) {
      if (mine(a[1] ?? '', Number(a[2]))) ours.connections++;
      else foreignConnections++;
      continue;
    }
    const s = SESSION.exec(line);
    if (s !== null && mine(s[2] ?? '', Number(s[3]))) {
      ours.channels++;
      const kind = s[1] ?? '?';
      ours.kinds[kind] = (ours.kinds[kind] ?? 0) + 1;
    }
  }
  return { ours, foreignConnections };
}

/** Lines appended to `path` since `offset`, counted. */
export async function logDelta(path: string, offset: number, mine: Mine): Promise<LogDelta> {
  return countLines(await readFrom(path, offset), mine);
}
