// The audit job: the preflight table, then findings with severity and the fix. Changes nothing.
import { Box, Text, useInput } from 'ink';
import { useScreenKeys } from './keys.js';
import { FindingList, PreflightTable } from './PreflightTable.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

export function AuditScreen({ state, dispatch, active }: ScreenProps) {
  useScreenKeys(dispatch, active);
  const { status, findings, exitCode } = state.audit;
  useInput(
    (_input, key) => {
      if (key.return) dispatch({ type: 'finish' });
    },
    { isActive: active && status !== 'running' },
  );
  return (
    <Box flexDirection="column">
      <Text>Audit of {state.inventory.view?.cluster ?? '?'} (read-only)</Text>
      <PreflightTable rows={state.preflight.rows} details={state.preflight.details} />
      {status === 'done' ? (
        <Box flexDirection="column" marginTop={1}>
          {findings.length === 0 ? (
            <Tone tone="ok">No findings.</Tone>
          ) : (
            <FindingList findings={findings} max={6} />
          )}
          <Tone tone={exitCode === 0 ? 'ok' : 'warn'}>
            {findings.length} finding(s){exitCode === 3 ? ': something is high or worse (exit 3)' : ''}
          </Tone>
          <Tone tone="dim">Enter: finish · Esc: another inventory</Tone>
        </Box>
      ) : null}
    </Box>
  );
}
