// The host key decision of one hop, run inside ssh2's hostVerifier, i.e. before any authentication.
// A changed or revoked key is refused whatever the policy; an unknown one follows the policy.
import { readFile } from 'node:fs/promises';
import { RemoteError, RemoteUsageError } from './errors.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  hostLookupName,
  keyTypeOfBlob,
  parseKnownHosts,
} from './known-hosts.js';
import type { HostKeyInfo, SshTarget, UnknownHostKeyPolicy } from './types.js';

async function readKnownHosts(node: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new RemoteUsageError(
      node,
      'ssh.known-hosts-unreadable',
      `${node}: cannot read known_hosts ${path}: ${(err as Error).message}`,
      'fix its permissions or point ssh.knownHosts at a readable file',
    );
  }
}

export async function verifyHostKey(
  target: SshTarget,
  blob: Buffer,
  policy: UnknownHostKeyPolicy,
  whileWaitingForOperator: <T>(p: Promise<T>) => Promise<T>,
): Promise<HostKeyInfo> {
  const { node, host, port, knownHostsPath } = target;
  const keyType = keyTypeOfBlob(blob) ?? 'unknown-key-type';
  const fingerprint = fingerprintSha256(blob);
  const where = `${host}:${port}`;
  const info: HostKeyInfo = { node, host, port, keyType, fingerprint };
  const result = checkHostKey(
    parseKnownHosts(await readKnownHosts(node, knownHostsPath)),
    host,
    port,
    keyType,
    blob,
  );
  const removeHint = `ssh-keygen -R '${hostLookupName(host, port)}' -f ${knownHostsPath}`;

  switch (result.status) {
    case 'match':
      return info;
    case 'revoked':
      throw new RemoteError(
        node,
        'ssh.host-key-revoked',
        `${node}: the host key of ${where} (${keyType} ${fingerprint}) is marked @revoked in ${knownHostsPath} line ${result.line}`,
        'a revoked key is never accepted: the host must get a new host key',
      );
    case 'changed':
      throw new RemoteError(
        node,
        'ssh.host-key-changed',
        `${node}: HOST KEY CHANGED for ${where}: it offers ${keyType} ${fingerprint}, ` +
          `but ${knownHostsPath} line ${result.line} holds a different ${keyType} key`,
        `someone may be intercepting the connection, or the host was reinstalled; check the new fingerprint out of band, then remove the old entry (${removeHint})`,
      );
    case 'unknown':
      break;
  }

  if (result.knownTypes.length > 0) info.otherKnownKeyTypes = result.knownTypes;
  const others =
    result.knownTypes.length > 0
      ? ` (${knownHostsPath} knows only ${result.knownTypes.join(', ')} keys for it)`
      : '';
  const unknown = (why: string): RemoteError =>
    new RemoteError(
      node,
      'ssh.host-key-unknown',
      `${node}: unknown host key for ${where}: ${keyType} ${fingerprint}${others}; ${why}`,
      `check the fingerprint, then rerun with --accept-new-host-keys (saves it to ${knownHostsPath}) or add the host with ssh-keyscan`,
    );

  const decision = typeof policy === 'function' ? await whileWaitingForOperator(policy(info)) : policy;
  switch (decision) {
    case 'reject':
      if (typeof policy === 'function') {
        // The operator chose abort at the prompt (wizard): say that first, it is what they see.
        throw new RemoteError(
          node,
          'ssh.host-key-unknown',
          `${node}: aborted, host key not accepted: nothing was sent to ${where} (${keyType} ${fingerprint})`,
          `to trust it, compare the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and accept it, or add it to ${knownHostsPath}`,
        );
      }
      throw unknown('refusing it');
    case 'accept-once':
      return info;
    case 'accept-and-save':
      try {
        await appendKnownHost(knownHostsPath, host, port, keyType, blob.toString('base64'));
      } catch (err) {
        throw new RemoteUsageError(
          node,
          'ssh.known-hosts-unwritable',
          `${node}: cannot save the host key of ${where} to ${knownHostsPath}: ${(err as Error).message}`,
          'fix the file permissions or point ssh.knownHosts at a writable file',
        );
      }
      return info;
  }
}
