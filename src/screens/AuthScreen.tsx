// Screen 4: authentication — cert, SCRAM or both, one line each on what it means (SPEC §4), and per
// role overrides (SPEC §5 `roles[].auth`) for the inventory's database roles.
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { AuthMode } from '../steps/context.js';
import type { RoleAuthChoice, WizardState } from '../wizard/state.js';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

export const AUTH_CHOICES: { value: AuthMode; label: string; note: string }[] = [
  {
    value: 'scram',
    label: 'SCRAM (scram-sha-256 over TLS)',
    note: 'clients keep passwords (md5 re-set as SCRAM); standbys: password in .pgpass',
  },
  {
    value: 'cert',
    label: 'Client certificates (cert)',
    note: 'no passwords: each client and standby needs its own cert + key (bundle)',
  },
  {
    value: 'scram+cert',
    label: 'Both (scram-sha-256 clientcert=verify-full)',
    note: 'password AND certificate for every client and standby: strongest',
  },
];

/** The order ←/→ (and Enter) step through for one role. */
const ROLE_CHOICES: readonly RoleAuthChoice[] = ['cluster', 'scram', 'cert', 'scram+cert'];
const ROLE_LABEL: Record<RoleAuthChoice, string> = {
  cluster: 'as chosen for the cluster',
  scram: 'scram',
  cert: 'cert',
  'scram+cert': 'scram+cert',
};

interface RoleRow {
  name: string;
  kind: string;
  choice: RoleAuthChoice;
}

/** Every inventory role with its current choice: changed here, else the inventory's own auth. */
export function roleRows(state: WizardState): RoleRow[] {
  return (state.inventory.view?.roles ?? []).map((r) => ({
    name: r.name,
    kind: r.kind,
    choice: state.roleAuth?.[r.name] ?? r.auth ?? 'cluster',
  }));
}

function RoleOverrides({ state, dispatch, active, done }: ScreenProps & { done: () => void }) {
  const rows = roleRows(state);
  const [cursor, setCursorState] = useState(0);
  const at = useRef(0);
  const setCursor = (n: number): void => {
    at.current = n;
    setCursorState(n);
  };
  useInput(
    (input, key) => {
      const row = rows[at.current];
      if (key.escape || input === 'q') done();
      else if (key.downArrow || input === 'j') setCursor(Math.min(rows.length - 1, at.current + 1));
      else if (key.upArrow || input === 'k') setCursor(Math.max(0, at.current - 1));
      else if (row !== undefined && (key.return || key.rightArrow || key.leftArrow || input === ' ')) {
        const step = key.leftArrow ? ROLE_CHOICES.length - 1 : 1;
        const next = ROLE_CHOICES[(ROLE_CHOICES.indexOf(row.choice) + step) % ROLE_CHOICES.length];
        if (next !== undefined) dispatch({ type: 'auth:role', role: row.name, auth: next });
      }
    },
    { isActive: active },
  );
  return (
    <Box flexDirection="column">
      <Text wrap="wrap">Per-role auth (saved as roles[].auth in the inventory):</Text>
      {rows.map((r, i) => (
        <Text key={r.name} wrap="truncate-middle">
          {i === cursor ? <Tone tone="accent">❯ </Tone> : '  '}
          {r.name} <Tone tone="dim">({r.kind})</Tone> →{' '}
          {r.choice === 'cluster' ? <Tone tone="dim">{ROLE_LABEL[r.choice]}</Tone> : ROLE_LABEL[r.choice]}
        </Text>
      ))}
      <Tone tone="dim">←/→ or Enter: change · Esc: done</Tone>
    </Box>
  );
}

export function AuthScreen({ state, dispatch, active }: ScreenProps) {
  const [roles, setRoles] = useState(false);
  const [cameBack, setCameBack] = useState(false);
  useScreenKeys(dispatch, active && !roles);
  if (roles)
    return (
      <RoleOverrides
        state={state}
        dispatch={dispatch}
        active={active}
        done={() => {
          setRoles(false);
          setCameBack(true);
        }}
      />
    );
  const rows = roleRows(state);
  const own = rows.filter((r) => r.choice !== 'cluster');
  return (
    <Box flexDirection="column">
      <Text>How should clients and standbys authenticate?</Text>
      <Menu<AuthMode | 'roles'>
        active={active}
        initial={cameBack ? AUTH_CHOICES.length : 0}
        items={[
          ...AUTH_CHOICES,
          ...(rows.length > 0
            ? [
                {
                  value: 'roles' as const,
                  label: `Per-role overrides… (${rows.length} role${rows.length === 1 ? '' : 's'})`,
                  note:
                    own.length > 0
                      ? own.map((r) => `${r.name}: ${r.choice}`).join(' · ')
                      : 'every role as chosen for the cluster',
                },
              ]
            : []),
        ]}
        onChoose={(v) => (v === 'roles' ? setRoles(true) : dispatch({ type: 'auth:choose', auth: v }))}
      />
    </Box>
  );
}
