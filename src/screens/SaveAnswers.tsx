// The plan screen's "save for a headless replay" (s): a directory field with a suggestion under the
// state dir, then what was written and the exact command that replays it (SPEC §4: a wizard run can
// save its answers as an inventory + plan file).
import { Box, Text, useInput } from 'ink';
import type { Dispatch, SaveView } from '../wizard/state.js';
import { TextField } from './TextField.js';
import { Tone } from './theme.js';

export function SaveAnswersQuestion({
  save,
  dispatch,
  active,
}: {
  save: SaveView;
  dispatch: Dispatch;
  active: boolean;
}) {
  useInput(
    (_input, key) => {
      if (key.escape || (save.saved !== undefined && key.return)) dispatch({ type: 'save:close' });
    },
    { isActive: active },
  );
  const { saved, asking } = save;
  if (saved !== undefined) {
    return (
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text wrap="wrap">
          <Tone tone="ok">Saved</Tone> to {saved.dir} (0700): inventory.yaml, plan.json (0600, no secret)
        </Text>
        <Tone tone="dim">Replay headless (refused if a node changed since this plan):</Tone>
        <Text wrap="wrap">{saved.command}</Text>
        <Text wrap="wrap">
          {saved.env.length > 0
            ? `Passwords it needs: ${saved.env.join(', ')} in the environment, or --secrets FILE (0600, role: password)`
            : 'It needs no password from you.'}
        </Text>
        {saved.hostKeysOnce?.length ? (
          <Text wrap="wrap">
            <Tone tone="warn">
              Host keys of {saved.hostKeysOnce.join(', ')} were accepted for this run only: the replay refuses
              them until they are in known_hosts (or pass --accept-new-host-keys).
            </Tone>
          </Text>
        ) : null}
        <Tone tone="dim">Enter: back to the plan</Tone>
      </Box>
    );
  }
  if (asking === undefined) return null;
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text wrap="wrap">Save inventory.yaml and plan.json for a headless replay into (made 0700):</Text>
      <TextField
        active={active}
        defaultValue={asking.dir}
        onSubmit={(dir) => dispatch({ type: 'save:write', dir: dir.trim() === '' ? asking.dir : dir.trim() })}
      />
      <Tone tone="dim">Enter: save · Esc: cancel</Tone>
    </Box>
  );
}
