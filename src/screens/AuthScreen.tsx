// Screen 4: authentication — cert, SCRAM or both, one line each on what it means (SPEC §4).
import { Box, Text } from 'ink';
import type { AuthMode } from '../steps/context.js';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
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

export function AuthScreen({ dispatch, active }: ScreenProps) {
  useScreenKeys(dispatch, active);
  return (
    <Box flexDirection="column">
      <Text>How should clients and standbys authenticate?</Text>
      <Menu
        active={active}
        items={AUTH_CHOICES}
        onChoose={(auth) => dispatch({ type: 'auth:choose', auth })}
      />
    </Box>
  );
}
