// Screen 1: welcome / job choice (SPEC §4). Jobs the engine cannot run yet are shown, marked.
import { Box, Text } from 'ink';
import { JOB_LABELS } from '../wizard/reducer.js';
import { JOBS, SUPPORTED_JOBS, type Job } from '../wizard/state.js';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { Indented, Marked } from './layout.js';
import { MARK, Tone } from './theme.js';
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
  return (
    <Box flexDirection="column">
      <Text>What do you want to do?</Text>
      <Menu
        active={active}
        items={JOBS.map((job) => {
          const later = !SUPPORTED_JOBS.includes(job);
          return {
            value: job,
            label: later ? `${JOB_LABELS[job]} — coming in a later version` : JOB_LABELS[job],
            note: NOTES[job],
            dim: later,
          };
        })}
        onChoose={(job) => dispatch({ type: 'job:choose', job })}
      />
      {state.welcome.runs.slice(0, 2).map((r) => (
        <Box key={r.runId} flexDirection="column">
          <Marked mark={<Tone tone="warn">{MARK.warn}</Tone>}>
            <Tone tone="warn">Interrupted run {r.runId}</Tone> on {r.nodes.join(', ') || 'no node yet'}
            {r.interrupted > 0 ? ` · ${r.interrupted} step(s) cut off` : ''}
          </Marked>
          {/* Whole commands (the operator copies them): wrapped, indented, never cut. */}
          <Indented by={2}>
            <Tone tone="dim">{`continue: pgharden resume ${r.runId}`}</Tone>
          </Indented>
          <Indented by={2}>
            <Tone tone="dim">{`undo:     pgharden rollback ${r.runId}`}</Tone>
          </Indented>
        </Box>
      ))}
      {state.welcome.runs.length > 2 ? (
        <Tone tone="dim">… and {state.welcome.runs.length - 2} more interrupted run(s)</Tone>
      ) : null}
      <Text wrap="wrap">
        <Tone tone="dim">
          {found.length > 0 ? `Inventory here: ${found.join(', ')}` : 'No inventory in this directory yet.'}
        </Tone>
      </Text>
    </Box>
  );
}
