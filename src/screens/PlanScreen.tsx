// Screen 6: the plan — per node the ordered steps; Enter expands one to its coloured unified diff,
// SQL and commands; reload vs restart; warnings from rule-order analysis. Nothing is applied until the
// operator presses a and confirms (SPEC §4, §10).
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { ConfirmInput } from '@inkjs/ui';
import type { PlanDocument, PlannedStep } from '../core/harden.js';
import { useScreenKeys } from './keys.js';
import { Marked } from './layout.js';
import { MARK, Tone } from './theme.js';
import type { ScreenProps } from './types.js';

/** Lines of an expanded step shown at once: the live area must fit 24 rows. */
const DETAIL_LINES = 12;
const STEP_WINDOW = 9;

/** One line of a diff: long lines wrap under their text, the +/- sign stays alone in its column. */
function DiffLine({ line }: { line: string }) {
  const tone =
    line.startsWith('+') && !line.startsWith('+++')
      ? 'ok'
      : line.startsWith('-') && !line.startsWith('---')
        ? 'bad'
        : line.startsWith('@@')
          ? 'accent'
          : undefined;
  if (tone === undefined || tone === 'accent') {
    return <Text wrap="truncate-end">{tone ? <Tone tone={tone}>{line}</Tone> : line}</Text>;
  }
  return (
    <Marked width={1} mark={<Tone tone={tone}>{line.slice(0, 1)}</Tone>}>
      <Tone tone={tone}>{line.slice(1)}</Tone>
    </Marked>
  );
}

function detailLines(step: PlannedStep): string[] {
  return [
    ...(step.diffs ?? []).flatMap((d) => d.split('\n')),
    ...(step.change?.sql ?? []).map((s) => `SQL ${s}`),
    ...(step.change?.commands ?? []).map((c) => `$ ${c}`),
  ];
}

/** What detection found, as pg_autoctl names it: the monitor, the primary, the secondaries. */
function formationOf(plan: PlanDocument): string {
  const of = (role: PlanDocument['nodes'][number]['role']): string =>
    plan.nodes
      .filter((n) => n.role === role)
      .map((n) => n.node)
      .join(', ') || 'none';
  return `monitor ${of('monitor')} · primary ${of('primary')} · secondary ${of('standby')}`;
}

export function PlanScreen({ state, dispatch, active }: ScreenProps) {
  const plan = state.plan;
  const [cursor, setCursorState] = useState(0);
  const at = useRef(0); // keys typed ahead in one chunk see each other's moves
  const setCursor = (next: number): void => {
    at.current = next;
    setCursorState(next);
  };
  const [open, setOpen] = useState<number | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  useScreenKeys(dispatch, active && !confirming);
  const rows = (plan?.nodes ?? []).flatMap((n) => n.steps.map((step) => ({ node: n, step })));
  useInput(
    (input, key) => {
      if (key.downArrow || input === 'j') setCursor(Math.min(rows.length - 1, at.current + 1));
      else if (key.upArrow || input === 'k') setCursor(Math.max(0, at.current - 1));
      else if (key.return || input === ' ') setOpen((o) => (o === at.current ? undefined : at.current));
      else if (input === 'a') setConfirming(true);
      else if (input === 's') dispatch({ type: 'save:ask' });
    },
    { isActive: active && !confirming },
  );
  if (plan === undefined) return <Text>No plan yet.</Text>;
  const needed = rows.filter((r) => r.step.needed).length;
  const warnings = [
    ...state.preflight.findings
      .filter((f) => f.id === 'hba.shadowed' || f.id === 'hba.error')
      .map((f) => `${f.node}: ${f.message}${f.where ? ` (${f.where})` : ''} → ${f.fix}`),
    ...(plan.restarts > 0 ? [`${plan.restarts} step(s) need a PostgreSQL RESTART`] : []),
    ...(plan.notes ?? []),
  ];
  const start = Math.max(0, Math.min(cursor - Math.floor(STEP_WINDOW / 2), rows.length - STEP_WINDOW));
  const visible = rows.slice(start, start + STEP_WINDOW);
  const openRow = open === undefined ? undefined : rows[open];
  const details = openRow === undefined ? [] : detailLines(openRow.step);
  return (
    <Box flexDirection="column">
      <Text wrap="wrap">
        Plan for {plan.cluster} (auth {plan.auth}): {needed} step(s), {plan.reloads} reload(s),{' '}
        {plan.restarts > 0 ? <Tone tone="bad">{plan.restarts} restart(s)</Tone> : '0 restarts'}
      </Text>
      {plan.topology === 'pg_auto_failover' ? (
        <Text wrap="wrap">
          <Tone tone="accent">pg_auto_failover formation</Tone>: {formationOf(plan)}
        </Text>
      ) : null}
      {state.runAction?.kind === 'resume' ? (
        <Text wrap="truncate-end">
          <Tone tone="warn">Rest of run {state.runAction.runId}</Tone>: cut-off steps are undone first
        </Text>
      ) : null}
      {visible.map((r, i) => {
        const index = start + i;
        const c = r.step.change;
        const effect = c?.restart ? ' RESTART' : c?.reload ? ' reload' : '';
        return (
          <Text key={`${r.node.node}/${r.step.id}/${index}`} wrap="truncate-end">
            {index === cursor ? <Tone tone="accent">❯ </Tone> : '  '}
            <Tone tone="title">{r.node.node.padEnd(6)}</Tone>{' '}
            {r.step.needed ? (
              <>
                → {r.step.id} <Tone tone="dim">{r.step.title}</Tone>
                <Tone tone={c?.restart ? 'bad' : 'warn'}>{effect}</Tone>
              </>
            ) : (
              <Tone tone="dim">
                {MARK.ok} {r.step.id} already done
              </Tone>
            )}
          </Text>
        );
      })}
      {openRow !== undefined ? (
        <Box flexDirection="column" borderStyle="single" paddingX={1}>
          {details.length === 0 ? <Tone tone="dim">no file, SQL or command to show</Tone> : null}
          {details.slice(0, DETAIL_LINES).map((l, i) => (
            <DiffLine key={i} line={l} />
          ))}
          {details.length > DETAIL_LINES ? (
            <Tone tone="dim">… {details.length - DETAIL_LINES} more line(s) (pgharden plan shows all)</Tone>
          ) : null}
        </Box>
      ) : null}
      {warnings.slice(0, 3).map((w, i) => (
        <Marked key={i} mark={<Tone tone="warn">{MARK.warn}</Tone>}>
          <Tone tone="warn">{w}</Tone>
        </Marked>
      ))}
      {confirming ? (
        <Box>
          <Text>Apply this plan to {plan.nodes.length} node(s) now? </Text>
          <ConfirmInput
            isDisabled={!active}
            defaultChoice="cancel"
            onConfirm={() => {
              setConfirming(false);
              dispatch({ type: 'plan:confirm' });
            }}
            onCancel={() => setConfirming(false)}
          />
        </Box>
      ) : (
        <Tone tone="dim">↑↓ step · Enter: diff/SQL · a: apply… · s: save · Esc: back · ?: help</Tone>
      )}
    </Box>
  );
}
