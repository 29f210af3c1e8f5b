// Job "re-issue / rotate certificates", after preflight (SPEC §9): the certificates every node uses
// now with their days left, where a CA rotation stands in the PKI directory, and what can be done
// next — the same choices as `pgharden rotate`, `--new-ca` and `--finish`.
import { Box, Text } from 'ink';
import type { RotateChoice, RotationView } from '../wizard/state.js';
import { useScreenKeys } from './keys.js';
import { Menu, type MenuItem } from './Menu.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

/** Audit's thresholds (SPEC §9): error at 7 days, warning at 30. */
function DaysLeft({ days }: { days: number }) {
  const text = days < 0 ? `expired ${-days} d ago` : `${days} d left`;
  if (days <= 7) return <Tone tone="bad">{text}</Tone>;
  if (days <= 30) return <Tone tone="warn">{text}</Tone>;
  return <Tone tone="ok">{text}</Tone>;
}

const CA_STATE: Record<RotationView['caState'], string> = {
  none: 'one CA; no CA rotation in progress',
  phase1: 'CA rotation phase 1 done: every node trusts the old and the new CA',
  phase2: 'CA rotation phase 2 done: every certificate is under the new CA; the old one is still trusted',
};

/** What the PKI directory allows next, in the order `pgharden rotate` documents them. */
export function rotationChoices(view: RotationView): MenuItem<RotateChoice>[] {
  const items: MenuItem<RotateChoice>[] = [
    {
      value: 'leaves',
      label: 'Re-issue every server certificate (same CA)',
      note: 'new key + certificate beside the old, one reload per node, no restart (pgharden rotate)',
    },
  ];
  if (view.caState === 'none') {
    items.push({
      value: 'new-ca',
      label: 'Start a CA rotation — phase 1: trust the old and a new CA everywhere',
      note: 'then give clients the new root.crt before phase 2 (pgharden rotate --new-ca)',
    });
  } else if (view.caState === 'phase1') {
    items.push({
      value: 'new-ca',
      label: 'CA rotation phase 2: re-issue every certificate under the new CA',
      note: 'clients must already trust the new CA (pgharden rotate --new-ca)',
    });
  } else {
    items.push({
      value: 'finish',
      label: 'Finish the CA rotation: remove the old CA from every node',
      note: 'only once no client presents or trusts the old CA any more (pgharden rotate --finish)',
    });
  }
  return items;
}

export function RotationScreen({ state, dispatch, active }: ScreenProps) {
  useScreenKeys(dispatch, active);
  const view = (state).rotation?.view;
  if (view === undefined) return <Tone tone="dim">Reading the certificates in use…</Tone>;
  return (
    <Box flexDirection="column">
      <Text>Certificates in use:</Text>
      {view.certs.length === 0 ? <Tone tone="dim"> none found (is TLS on?)</Tone> : null}
      {view.certs.map((c) => (
        // Days left first: a narrow terminal cuts the subject, never what the operator acts on.
        <Text key={`${c.node} ${c.what} ${c.subject}`} wrap="truncate-end">
          {'  '}
          <DaysLeft days={c.daysLeft} /> {c.node} {c.what}{' '}
          <Tone tone="dim">
            until {c.notAfter.slice(0, 10)} {c.subject}
          </Tone>
        </Text>
      ))}
      <Text wrap="wrap">
        <Tone tone="dim">PKI {view.pkiDir}: </Tone>
        {CA_STATE[view.caState]}
      </Text>
      <Box marginTop={1}>
        <Menu<RotateChoice>
          active={active && state.busy === undefined}
          items={rotationChoices(view)}
          onChoose={(choice) => dispatch({ type: 'rotate:choose', choice })}
        />
      </Box>
    </Box>
  );
}
