// An interrupted run chosen on the welcome screen (SPEC §4 screen 1, §10): resume it (preflight, then
// the plan of what is left, applied only after a and y) or roll it back (asks first), as
// `pgharden resume RUN_ID` and `pgharden rollback RUN_ID` do.
import { useState } from 'react';
import { Box, Text } from 'ink';
import { ConfirmInput } from '@inkjs/ui';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

type Choice = 'resume' | 'rollback' | 'back';

export function RunScreen({ state, dispatch, active }: ScreenProps) {
  const [confirming, setConfirming] = useState(false);
  useScreenKeys(dispatch, active && !confirming);
  const runId = state.runAction?.runId;
  const run = state.welcome.runs.find((r) => r.runId === runId);
  if (runId === undefined || run === undefined) return <Text>No interrupted run chosen.</Text>;
  const nodes = run.nodes.join(', ') || 'no node yet';
  const rows: [string, string][] = [
    ['inventory', run.inventory ?? '(not recorded: resume and roll back need it)'],
    ['nodes', nodes],
    [
      'cut off',
      run.interrupted > 0
        ? `${run.interrupted} step(s): undone from their backups first on resume`
        : 'no step was cut off half way',
    ],
  ];
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Tone tone="warn">Interrupted run {runId}</Tone>
      </Text>
      {rows.map(([k, v]) => (
        <Box key={k}>
          <Box width={12} flexShrink={0} paddingLeft={2}>
            <Tone tone="dim">{k}</Tone>
          </Box>
          <Text wrap="wrap">{v}</Text>
        </Box>
      ))}
      <Menu<Choice>
        active={active && !confirming}
        items={[
          {
            value: 'resume',
            label: 'Resume it',
            note: 'preflight, then the plan of what is left; nothing runs before you confirm',
          },
          {
            value: 'rollback',
            label: 'Roll it back',
            note: 'every changed file back from its backup, each node reloaded (asks first)',
          },
          { value: 'back', label: 'Back' },
        ]}
        onChoose={(choice) => {
          if (choice === 'resume') dispatch({ type: 'run:resume' });
          else if (choice === 'rollback') setConfirming(true);
          else dispatch({ type: 'back' });
        }}
      />
      {confirming ? (
        <Box>
          <Text wrap="truncate-end">
            Roll back run {runId} on {nodes} now?{' '}
          </Text>
          <ConfirmInput
            isDisabled={!active}
            defaultChoice="cancel"
            onConfirm={() => {
              setConfirming(false);
              dispatch({ type: 'run:rollback' });
            }}
            onCancel={() => setConfirming(false)}
          />
        </Box>
      ) : (
        <Tone tone="dim">↑↓ Enter: choose · Esc: back · ?: help</Tone>
      )}
    </Box>
  );
}
