// `?` on every screen: what it does and which keys it takes.
import type { Screen } from '../wizard/state.js';

export const HELP: Record<Screen, string[]> = {
  welcome: [
    'Choose a job with ↑/↓ and Enter. Jobs marked "coming in a later version" are not in this engine yet.',
    'An interrupted run below the jobs can be chosen too: resume it or roll it back.',
    'q or Esc leaves pgharden; nothing has been contacted.',
  ],
  inventory: [
    'Load an inventory YAML (SPEC §5), or build one: pick hosts from ~/.ssh/config (space marks) or paste',
    'a list ([name] host[:ssh-port] [primary|standby] per line), choose the primary, name the cluster and',
    'the network hba rules allow. It is saved for headless replays.',
  ],
  preflight: [
    'pgharden connects to every node over SSH and reads its PostgreSQL state. Nothing is changed.',
    'An unknown host key is asked about; a changed one is refused. Enter continues when every node answered.',
  ],
  auth: [
    'SCRAM keeps passwords; cert needs a client certificate per role; both requires both.',
    'The choice applies to clients and replication alike; "Per-role overrides" gives a role its own mode',
    '(saved as roles[].auth in the inventory).',
  ],
  certificates: [
    'Generate issues a CA (kept on this machine) and leaf certificates, keeping valid ones.',
    'Import reads a directory; every certificate is linted and errors (red) block the plan.',
    'An encrypted CA key or imported key asks for its passphrase (masked, used once, never stored).',
  ],
  plan: [
    'Every step per node, in order. Enter shows a step’s diff, SQL and commands.',
    'a asks to apply (y to confirm). Nothing on any node changes before that.',
    's saves inventory.yaml + plan.json (0600, no secret) and shows the headless command that replays them.',
  ],
  apply: [
    'Nodes are changed in the order of the plan, with a journal and backups.',
    'Ctrl-C asks, then stops after the current step and rolls every changed node back.',
  ],
  verify: ['SQL checks and real TLS/auth probes; each row is ✓ or ✗ with the value seen.'],
  audit: ['Read-only findings with severity and the fix pgharden would apply. Enter finishes.'],
  rotate: [
    'The certificates the nodes serve and trust now, with days left (red ≤ 7, yellow ≤ 30).',
    'Re-issue puts new pairs beside the old and switches with one reload per node. A CA rotation is three',
    'runs: trust both CAs, re-issue under the new one, then (once clients moved) drop the old CA.',
    'The plan comes next; Esc there comes back here and puts the PKI directory back as it was.',
  ],
  run: [
    'Resume: preflight with the run’s own inventory, auth and certificates, then the plan of what is',
    'left; steps cut off half way are undone first. Roll back: every file back from its backup (asks).',
  ],
  done: ['Enter exits with the run’s exit code (0 done, 3 verify failed, 4 rolled back, 130 interrupted).'],
};
