// A tiny preload (`node --import`) for the pgharden process: it records the local address and port of every
// TCP connection the process opens, so the bench can tell pgharden's lines in a shared sshd log from anyone
// else's. It only appends one line per connection to a file; it changes nothing else.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SOCKETS_ENV = 'PGHARDEN_BENCH_SOCKETS';

const HOOK = `// Written by scripts/bench (pgharden): log each outgoing TCP connection as "localAddr localPort remoteAddr remotePort".
import net from 'node:net';
import { appendFileSync } from 'node:fs';
const out = process.env.${SOCKETS_ENV};
if (out) {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    this.once('connect', () => {
      try {
        appendFileSync(out, this.localAddress + ' ' + this.localPort + ' ' + this.remoteAddress + ' ' + this.remotePort + '\\n');
      } catch {}
    });
    return connect.apply(this, args);
  };
}
`;

/** Write the hook into `dir`; returns the file URL to pass to `node --import`. */
export async function writeSocketHook(dir: string): Promise<string> {
  const path = join(dir, 'socket-hook.mjs');
  await writeFile(path, HOOK, { mode: 0o644 });
  return pathToFileURL(path).href;
}

export interface TcpEndpoint {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

export function parseSocketLog(text: string): TcpEndpoint[] {
  const out: TcpEndpoint[] = [];
  for (const line of text.split('\n')) {
    const [la, lp, ra, rp] = line.trim().split(' ');
    if (la === undefined || lp === undefined || ra === undefined || rp === undefined) continue;
    out.push({ localAddress: la, localPort: Number(lp), remoteAddress: ra, remotePort: Number(rp) });
  }
  return out;
}
