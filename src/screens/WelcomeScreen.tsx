// Screen 1: welcome / job choice (SPEC §4). Jobs the engine cannot run yet are shown, marked.
import { Box, Text } from 'ink';
import { JOB_LABELS } from '../wizard/reducer.js';
import { JOBS, SUPPORTED_JOBS, type Job } from '../wizard/state.js';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

const NOTES: Record<Job, string> = {
  harden: 'TLS everywhere, SCRAM or cert auth, hostssl-only pg_hba.conf, verified',
  pgautofailover: 'pg_autoctl enable ssl on monitor and nodes, verify-full',
  rotate: 'new certificates with no restart; CA overlap while clients move',
  audit: 'read-only findings with the fix pgharden would apply; changes nothing',
};

export function WelcomeScreen({ state, dispatch, active }: ScreenProps) {
  useScreenKeys(dispatch, active);
  const found = state.welcome.inventories;
  const runs = state.welcome.runs.slice(0, 2);
  return (
    <Box flexDirection="column">
      <Text>What do you want to do?</Text>
      <Menu<Job | `run:${string}`>
        active={active}
        items={[
          ...JOBS.map((job) => {
            const later = !SUPPORTED_JOBS.includes(job);
            return {
              value: job,
              label: later ? `${JOB_LABELS[job]} — coming in a later version` : JOB_LABELS[job],
              note: NOTES[job],
              dim: later,
            };
          }),
          // Interrupted runs: choosing one offers resume / roll back (RunScreen).
          ...runs.map((r) => ({
            value: `run:${r.runId}` as const,
            label: `! Interrupted run ${r.runId} on ${r.nodes.join(', ') || 'no node yet'}${r.interrupted > 0 ? ` · ${r.interrupted} step(s) cut off` : ''}`,
          })),
        ]}
        onChoose={(value) => {
          if (value.startsWith('run:')) dispatch({ type: 'run:select', runId: value.slice('run:'.length) });
          else dispatch({ type: 'job:choose', job: value as Job });
        }}
      />
      {state.welcome.runs.length > runs.length ? (
        <Tone tone="dim">
          … and {state.welcome.runs.length - runs.length} older interrupted run(s): pgharden resume RUN_ID
        </Tone>
      ) : null}
      <Text wrap="wrap">
        <Tone tone="dim">
          {found.length > 0 ? `Inventory here: ${found.join(', ')}` : 'No inventory in this directory yet.'}
        </Tone>
      </Text>
    </Box>
  );
}
