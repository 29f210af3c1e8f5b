// Screen 8: verify — rows stream in (printed above by WizardView's <Static>); the live line counts them.
import { Box } from 'ink';
import { Spinner } from '@inkjs/ui';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

export function VerifyScreen({ state }: ScreenProps) {
  const rows = state.verify.rows;
  const failed = rows.filter((r) => !r.ok).length;
  return (
    <Box flexDirection="column">
      <Spinner label={`Verifying: ${rows.length} check(s), ${failed} failed so far`} />
      <Tone tone="dim">SQL checks on every node, TLS and auth probes from here and from each peer</Tone>
    </Box>
  );
}
