// Questions that interrupt any screen: first-use host key, a role's password, Ctrl-C confirmation.
import { Box, Text, useInput } from 'ink';
import { ConfirmInput } from '@inkjs/ui';
import type { UnknownHostKeyDecision } from '../remote/types.js';
import type { Dispatch, HostKeyPrompt, SecretPrompt } from '../wizard/state.js';
import { Menu } from './Menu.js';
import { TextField } from './TextField.js';
import { MARK, Tone } from './theme.js';

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

/** `file`: the subject is a path, shown on its own line and cut in the middle when too long. */
function secretQuestion(p: SecretPrompt): { ask: string; file?: string; use: string; esc: string } {
  switch (p.kind) {
    case 'ca-passphrase':
      return {
        ask: 'The CA key is encrypted: its passphrase',
        file: p.subject,
        use: 'to sign the cluster certificates',
        esc: 'stop',
      };
    case 'key-passphrase':
      return {
        ask: 'This key is encrypted: its passphrase',
        file: p.subject,
        use: 'to check the key against its certificate',
        esc: 'skip (lint reports the key as encrypted)',
      };
    case 'ssh-key-passphrase':
      return {
        ask: 'SSH key encrypted: its passphrase',
        file: p.subject,
        use: 'to log in',
        esc: 'skip this key',
      };
    case 'sudo-password':
      return { ask: `sudo on ${p.subject}: the password`, use: 'fed to sudo on stdin', esc: 'give none' };
    case 'ssh-prompt':
      return {
        ask: `${p.subject} asks: ${p.question ?? ''}`,
        use: 'keyboard-interactive login',
        esc: 'give none',
      };
  }
}

/** A passphrase or password for the engine: typed masked, sent once, kept nowhere. */
export function SecretQuestion({ prompt, dispatch }: { prompt: SecretPrompt; dispatch: Dispatch }) {
  const q = secretQuestion(prompt);
  const masked = !(prompt.kind === 'ssh-prompt' && prompt.echo === true);
  useInput((_input, key) => {
    if (key.escape) dispatch({ type: 'secret:answer', id: prompt.id, value: undefined });
  });
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      {prompt.retry !== undefined ? (
        <Text wrap="wrap">
          <Tone tone="bad">
            {MARK.bad} {prompt.retry}
          </Tone>
        </Text>
      ) : null}
      <Text wrap="wrap">
        {q.ask} <Tone tone="dim">({q.use}; never shown, stored or logged)</Tone>
      </Text>
      {q.file !== undefined ? (
        <Text wrap="truncate-middle">
          <Tone tone="title">{q.file}</Tone>
        </Text>
      ) : null}
      <TextField
        // A new prompt (or the same one asked again) starts empty.
        key={prompt.id}
        mask={masked}
        placeholder={prompt.kind.endsWith('passphrase') ? 'passphrase' : masked ? 'password' : undefined}
        onSubmit={(value) =>
          dispatch({
            type: 'secret:answer',
            id: prompt.id,
            value: value === '' && prompt.kind !== 'ssh-prompt' ? undefined : value,
          })
        }
      />
      <Tone tone="dim">Enter: send · Esc: {q.esc}</Tone>
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
