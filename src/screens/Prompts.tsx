// Questions that interrupt any screen: first-use host key, a role's password, Ctrl-C confirmation.
import { Box, Text } from 'ink';
import { ConfirmInput } from '@inkjs/ui';
import type { UnknownHostKeyDecision } from '../remote/types.js';
import type { Dispatch, HostKeyPrompt } from '../wizard/state.js';
import { Menu } from './Menu.js';
import { TextField } from './TextField.js';
import { Tone } from './theme.js';

export function HostKeyQuestion({ prompt, dispatch }: { prompt: HostKeyPrompt; dispatch: Dispatch }) {
  const { info } = prompt;
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text wrap="wrap">
        <Tone tone="warn">Unknown host key</Tone> for {info.node} ({info.host}:{info.port}):
      </Text>
      <Text wrap="wrap">
        {info.keyType} <Tone tone="title">{info.fingerprint}</Tone>
      </Text>
      {info.otherKnownKeyTypes?.length ? (
        <Tone tone="warn">known_hosts has other key types for it: {info.otherKnownKeyTypes.join(', ')}</Tone>
      ) : null}
      <Tone tone="dim">Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the node.</Tone>
      <Menu<UnknownHostKeyDecision>
        items={[
          { value: 'accept-once', label: 'Accept for this run only' },
          { value: 'accept-and-save', label: 'Accept and save to known_hosts' },
          { value: 'reject', label: 'Abort: do not connect to this node' },
        ]}
        onChoose={(decision) => dispatch({ type: 'hostkey:answer', id: prompt.id, decision })}
      />
    </Box>
  );
}

export function PasswordQuestion({ role, dispatch }: { role: string; dispatch: Dispatch }) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text wrap="wrap">
        Role <Tone tone="title">{role}</Tone> has an md5 hash: type its current password so it can be re-set
        as SCRAM (sent only over the node&apos;s local socket, never shown or logged). Empty: stop.
      </Text>
      <TextField
        mask
        placeholder="password"
        onSubmit={(password) =>
          dispatch({ type: 'password:answer', role, password: password === '' ? undefined : password })
        }
      />
    </Box>
  );
}

export function QuitQuestion({ question, dispatch }: { question: string; dispatch: Dispatch }) {
  return (
    <Box borderStyle="round" paddingX={1}>
      <Text>{question} </Text>
      <ConfirmInput
        defaultChoice="cancel"
        onConfirm={() => dispatch({ type: 'interrupt:confirm' })}
        onCancel={() => dispatch({ type: 'interrupt:cancel' })}
      />
    </Box>
  );
}
