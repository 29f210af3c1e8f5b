// Inventory node → SSH target input: node settings override the top-level ssh block (SPEC §5).
import type { TargetInput } from '../remote/ssh-config.js';
import type { Inventory, InventoryNode, SshSettings } from './inventory-schema.js';

export function effectiveSsh(inventory: Inventory, own: SshSettings | undefined): SshSettings {
  return { ...inventory.ssh, ...own };
}

export function nodeTargetInput(
  inventory: Inventory,
  node: Pick<InventoryNode, 'name' | 'host' | 'ssh'>,
): TargetInput {
  const ssh = effectiveSsh(inventory, node.ssh);
  return {
    node: node.name,
    host: node.host,
    user: ssh.user,
    port: ssh.port,
    identityFile: ssh.identityFile,
    knownHosts: ssh.knownHosts,
    proxyJump: ssh.proxyJump,
    timeoutMs: ssh.timeoutMs,
  };
}
