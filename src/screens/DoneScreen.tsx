// Screen 9: done — what happened, where the journal and certificates are, the next rotation date.
import { Box, Text, useInput } from 'ink';
import { JOB_LABELS, finalExitCode } from '../wizard/reducer.js';
import type { WizardState } from '../wizard/state.js';
import { MARK, Tone } from './theme.js';
import type { ScreenProps } from './types.js';

const MEANING: Record<number, string> = {
  0: 'done',
  1: 'failed; the cluster is as it was',
  3: 'verification failed',
  4: 'apply failed and was rolled back',
  130: 'interrupted and rolled back',
};

/** 30 days before the first server certificate expires (SPEC §6: warn at 30 days left). */
export function nextRotation(state: WizardState): string | undefined {
  const ends = state.certs.items
    .filter((c) => c.kind === 'server' && c.notAfter !== undefined)
    .map((c) => Date.parse(c.notAfter ?? ''));
  if (ends.length === 0) return undefined;
  return new Date(Math.min(...ends) - 30 * 86_400_000).toISOString().slice(0, 10);
}

function title(state: WizardState): string {
  const run = state.runAction;
  if (run?.kind === 'resume') return `Resume of run ${run.runId}`;
  if (run?.kind === 'rollback') return `Roll back of run ${run.runId}`;
  return state.job ? JOB_LABELS[state.job] : 'pgharden';
}

export function DoneScreen({ state, dispatch, active }: ScreenProps) {
  useInput(
    (input, key) => {
      if (key.return || input === 'q' || key.escape) dispatch({ type: 'finish' });
    },
    { isActive: active },
  );
  const code = finalExitCode(state);
  const v = state.verify.rows;
  const rotation = nextRotation(state);
  const lines: [string, string | undefined][] = [
    ['cluster', state.inventory.view?.cluster],
    ['inventory', state.inventory.view?.path],
    ['run', state.apply.runId],
    ['journal', state.apply.journal],
    ['report', state.apply.files?.report.md],
    ['client bundle', state.apply.files?.bundle],
    ['certificates', state.certs.dir],
    [
      'verify',
      v.length > 0
        ? `${v.length - v.filter((r) => !r.ok).length} passed, ${v.filter((r) => !r.ok).length} failed`
        : undefined,
    ],
    ['next rotation', rotation ? `by ${rotation} (pgharden rotate)` : undefined],
  ];
  return (
    <Box flexDirection="column">
      <Text>
        {code === 0 ? <Tone tone="ok">{MARK.ok}</Tone> : <Tone tone="bad">{MARK.bad}</Tone>}{' '}
        <Tone tone="title">{title(state)}</Tone>:{' '}
        {state.job === 'audit' && code === 3
          ? 'findings of high severity or worse'
          : state.runAction?.kind === 'rollback' && code === 0
            ? 'rolled back'
            : (MEANING[code] ?? `exit ${code}`)}
      </Text>
      {[
        ...lines,
        ['headless', state.inventory.view ? `pgharden verify -i ${state.inventory.view.path}` : undefined],
      ]
        .filter((l): l is [string, string] => l[1] !== undefined)
        .map(([k, value]) => (
          // Label column, then the value: a long path wraps under itself instead of being cut (the
          // operator copies it).
          <Box key={k}>
            <Box width={16} flexShrink={0} paddingLeft={2}>
              <Tone tone="dim">{k}</Tone>
            </Box>
            <Text wrap="wrap">{value}</Text>
          </Box>
        ))}
      <Tone tone="dim">Enter: exit ({code})</Tone>
    </Box>
  );
}
