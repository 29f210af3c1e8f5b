// Screen 7: apply — one live line per node with a spinner; finished steps are printed once above
// (WizardView's single <Static>); a failure shows the error and the rollback that followed.
import { Box, Text, useInput } from 'ink';
import { Spinner, StatusMessage } from '@inkjs/ui';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

export function ApplyScreen({ state, dispatch, active }: ScreenProps) {
  const { status, live, runId } = state.apply;
  const over = status === 'failed' || status === 'interrupted';
  const rollback = state.runAction?.kind === 'rollback';
  useInput(
    (input, key) => {
      if (key.return || input === 'q') dispatch({ type: 'finish' });
    },
    { isActive: active && over },
  );
  return (
    <Box flexDirection="column">
      {Object.entries(live).map(([node, step]) => (
        <Box key={node} gap={1}>
          <Spinner />
          <Text wrap="truncate-end">
            <Tone tone="title">{node}</Tone> <Tone tone="dim">{step}</Tone>
          </Text>
        </Box>
      ))}
      {status === 'running' && Object.keys(live).length === 0 ? (
        <Spinner label={rollback ? `Rolling back run ${runId ?? ''}: connecting…` : 'Applying…'} />
      ) : null}
      {over ? (
        <Box flexDirection="column">
          <StatusMessage variant={status === 'interrupted' ? 'warning' : 'error'}>
            {status === 'interrupted'
              ? 'Stopped by you: the changed nodes were rolled back.'
              : state.apply.exitCode === 2
                ? 'Stopped before any change: nothing was changed.'
                : rollback
                  ? 'Roll back failed: see the lines above; the journal keeps what is left to undo.'
                  : 'Apply failed and was rolled back.'}
          </StatusMessage>
          <Tone tone="dim">
            {runId ? `run ${runId} · ` : ''}Enter: finish (exit {state.apply.exitCode ?? 1})
          </Tone>
        </Box>
      ) : (
        <Tone tone="dim">
          {rollback
            ? 'Rolling back: it is not stopped half way'
            : 'Ctrl-C: stop after the current step and roll back'}
        </Tone>
      )}
    </Box>
  );
}
