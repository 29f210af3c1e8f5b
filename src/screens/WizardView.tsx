// The whole wizard as a view of its state: header, the current screen, prompts over it, and ONE
// <Static> with the finished apply steps and verify rows (printed once, above the live area).
import { useMemo, type ReactElement } from 'react';
import { Box, Static, Text, useInput } from 'ink';
import { Spinner, StatusMessage } from '@inkjs/ui';
import { JOB_LABELS } from '../wizard/reducer.js';
import type { DoneLine, Job, Screen, VerifyRowView, WizardState } from '../wizard/state.js';
import { ApplyScreen } from './ApplyScreen.js';
import { AuditScreen } from './AuditScreen.js';
import { AuthScreen } from './AuthScreen.js';
import { CertificatesScreen } from './CertificatesScreen.js';
import { DoneScreen } from './DoneScreen.js';
import { HELP } from './help.js';
import { InventoryScreen } from './InventoryScreen.js';
import { PlanScreen } from './PlanScreen.js';
import { PreflightScreen } from './PreflightScreen.js';
import { HostKeyQuestion, PasswordQuestion, QuitQuestion, SecretQuestion } from './Prompts.js';
import { Marked, useColumns } from './layout.js';
import { MARK, Tone } from './theme.js';
import type { ScreenProps } from './types.js';
import { VerifyScreen } from './VerifyScreen.js';
import { WelcomeScreen } from './WelcomeScreen.js';
import { RunScreen } from './RunScreen.js';
import { RotationScreen } from './RotationScreen.js';
import { SaveAnswersQuestion } from './SaveAnswers.js';
import { rollingBack, saveOpen } from '../wizard/flows-reducer.js';
import type { Dispatch } from '../wizard/state.js';

const SCREENS: Record<Screen, (p: ScreenProps) => ReactElement> = {
  welcome: WelcomeScreen,
  inventory: InventoryScreen,
  preflight: PreflightScreen,
  auth: AuthScreen,
  certificates: CertificatesScreen,
  plan: PlanScreen,
  apply: ApplyScreen,
  verify: VerifyScreen,
  audit: AuditScreen,
  done: DoneScreen,
  run: RunScreen,
  rotate: RotationScreen,
};

const TITLES: Record<Screen, string> = {
  welcome: 'Welcome',
  inventory: 'Inventory',
  preflight: 'Preflight',
  auth: 'Authentication',
  certificates: 'Certificates',
  plan: 'Plan',
  apply: 'Apply',
  verify: 'Verify',
  audit: 'Audit',
  done: 'Done',
  run: 'Interrupted run',
  rotate: 'Rotation',
};
const HARDEN_FLOW: Screen[] = [
  'inventory',
  'preflight',
  'auth',
  'certificates',
  'plan',
  'apply',
  'verify',
  'done',
];

const ROTATE_FLOW: Screen[] = ['inventory', 'preflight', 'rotate', 'plan', 'apply', 'verify', 'done'];
const FLOWS: Partial<Record<Job, Screen[]>> = {
  harden: HARDEN_FLOW,
  pgautofailover: HARDEN_FLOW,
  rotate: ROTATE_FLOW,
};

type LogItem = { key: string; step: DoneLine } | { key: string; row: VerifyRowView };

function LogLine({ item }: { item: LogItem }) {
  if ('row' in item) {
    const r = item.row;
    return (
      <Text wrap="truncate-end">
        {r.ok ? <Tone tone="ok">{MARK.ok}</Tone> : <Tone tone="bad">{MARK.bad}</Tone>} {r.node} {r.check}{' '}
        <Tone tone="dim">{r.value}</Tone>
      </Text>
    );
  }
  const l = item.step;
  const mark =
    l.status === 'ok' ? (
      <Tone tone="ok">{MARK.ok}</Tone>
    ) : l.status === 'skipped' ? (
      <Tone tone="dim">{MARK.ok}</Tone>
    ) : l.status === 'undone' ? (
      <Tone tone="warn">{MARK.undo}</Tone>
    ) : (
      <Tone tone="bad">{MARK.bad}</Tone>
    );
  const note =
    l.status === 'skipped'
      ? 'already done'
      : l.status === 'undone'
        ? 'undone'
        : l.ms !== undefined
          ? `${l.ms} ms`
          : '';
  // A failure's detail wraps under the step (it says why); other lines are one line each.
  return (
    <Marked mark={mark} wrap={l.detail ? 'wrap' : 'truncate-end'}>
      {l.node} {l.step}
      {note ? <Tone tone="dim"> {note}</Tone> : null}
      {l.detail ? <Tone tone="bad"> {l.detail}</Tone> : null}
    </Marked>
  );
}

function quitQuestion(s: WizardState): string {
  if (s.runAction?.kind === 'resume' && s.apply.status === 'running')
    return `Stop after the current step and roll back all of run ${s.runAction.runId}?`;
  if (s.apply.status === 'running') return 'Stop after the current step and roll back?';
  if (s.apply.status === 'done') return `Quit? The applied run ${s.apply.runId ?? ''} stays in place.`;
  return 'Quit pgharden? Nothing has been changed.';
}

function Header({ state }: { state: WizardState }) {
  const flow = state.job === undefined ? undefined : FLOWS[state.job];
  const i = flow?.indexOf(state.screen) ?? -1;
  const where = flow !== undefined && i >= 0 ? ` ${i + 1}/${flow.length}` : '';
  // Narrow: the job's name is cut first; where we are (n/8 and the screen) always shows.
  return (
    <Box>
      <Text wrap="truncate-end">
        <Tone tone="accent">pgharden</Tone>
        {state.job ? ` · ${JOB_LABELS[state.job]}` : ''}
      </Text>
      <Box flexShrink={0}>
        <Text>
          {' '}
          ·{where} <Tone tone="title">{TITLES[state.screen]}</Tone>
        </Text>
      </Box>
    </Box>
  );
}

export function WizardView({ state, dispatch }: { state: WizardState; dispatch: Dispatch }) {
  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c' && !state.quitConfirm && !rollingBack(state))
        dispatch({ type: 'interrupt:request' });
    },
    { isActive: state.exitCode === undefined },
  );
  const log = useMemo<LogItem[]>(
    () => [
      ...state.apply.done.map((step) => ({ key: `a${step.key}`, step })),
      ...state.verify.rows.map((row) => ({ key: `v${row.key}`, row })),
    ],
    [state.apply.done, state.verify.rows],
  );
  const columns = useColumns();
  const [hostKey] = state.prompts.hostKeys;
  const password = state.prompts.password;
  const secret = state.secretPrompts?.[0];
  const modal = state.quitConfirm || hostKey !== undefined || password !== undefined || secret !== undefined;
  const active = !modal && state.busy === undefined && state.exitCode === undefined;
  const Current = SCREENS[state.screen];
  // The plan screen's save dialog (SaveAnswers.tsx) has the keyboard while it is open.
  const saving = saveOpen(state);
  return (
    <>
      {/* Static items are laid out apart from the screen: they get the terminal's width explicitly. */}
      <Static items={log}>
        {(item) => (
          <Box key={item.key} width={columns}>
            <LogLine item={item} />
          </Box>
        )}
      </Static>
      <Box flexDirection="column">
        <Header state={state} />
        {state.help ? (
          <Box flexDirection="column" borderStyle="single" paddingX={1}>
            {HELP[state.screen].map((l) => (
              <Text key={l}>{l}</Text>
            ))}
            <Tone tone="dim">? or Esc: close help · Ctrl-C: quit (asks first)</Tone>
          </Box>
        ) : null}
        <Current state={state} dispatch={dispatch} active={active && !saving} />
        {state.busy !== undefined ? <Spinner label={state.busy} /> : null}
        {state.error !== undefined ? (
          <Box flexDirection="column">
            <StatusMessage variant="error">{state.error.message}</StatusMessage>
            {state.error.hint ? <Tone tone="dim"> → {state.error.hint}</Tone> : null}
          </Box>
        ) : null}
        {saving && state.save !== undefined && hostKey === undefined && !state.quitConfirm ? (
          <SaveAnswersQuestion
            save={state.save}
            dispatch={dispatch}
            active={state.busy === undefined && state.exitCode === undefined}
          />
        ) : null}
        {hostKey !== undefined && !state.quitConfirm ? (
          <HostKeyQuestion key={hostKey.id} prompt={hostKey} dispatch={dispatch} />
        ) : null}
        {password !== undefined && hostKey === undefined && !state.quitConfirm ? (
          <PasswordQuestion role={password.role} dispatch={dispatch} />
        ) : null}
        {secret !== undefined && password === undefined && hostKey === undefined && !state.quitConfirm ? (
          <SecretQuestion key={secret.id} prompt={secret} dispatch={dispatch} />
        ) : null}
        {state.quitConfirm ? <QuitQuestion question={quitQuestion(state)} dispatch={dispatch} /> : null}
      </Box>
    </>
  );
}
