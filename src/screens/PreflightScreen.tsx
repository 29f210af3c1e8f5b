// Screen 3: preflight — live table, then the problems found and what pgharden will do (SPEC §4).
import { Box, Text, useInput } from 'ink';
import { atLeast } from '../core/severity.js';
import { useScreenKeys } from './keys.js';
import { FindingList, PreflightTable } from './PreflightTable.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

export function PreflightScreen({ state, dispatch, active }: ScreenProps) {
  useScreenKeys(dispatch, active);
  const { rows, details, findings, status } = state.preflight;
  useInput(
    (_input, key) => {
      if (key.return) dispatch({ type: 'preflight:continue' });
    },
    { isActive: active && status === 'done' },
  );
  const serious = findings.filter((f) => atLeast(f.severity, 'medium'));
  return (
    <Box flexDirection="column">
      <Text>
        Preflight of {state.inventory.view?.cluster ?? '?'}: {status === 'running' ? 'connecting…' : 'done'}
      </Text>
      <PreflightTable rows={rows} details={details} />
      {status === 'done' ? (
        <Box flexDirection="column" marginTop={1}>
          {serious.length > 0 ? (
            <>
              <Text>Found:</Text>
              <FindingList findings={serious} max={4} />
            </>
          ) : (
            <Tone tone="ok">Nothing serious found.</Tone>
          )}
          <Tone tone="dim">Enter: choose authentication · Esc: back · ?: help</Tone>
        </Box>
      ) : null}
    </Box>
  );
}
