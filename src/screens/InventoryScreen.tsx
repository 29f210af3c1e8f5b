// Screen 2: inventory — load a file, or build one from hosts picked out of ~/.ssh/config (SPEC §4).
// Every answer is dispatched; reading and writing files is the engine's job.
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { MultiSelect } from '@inkjs/ui';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { TextField } from './TextField.js';
import { Tone } from './theme.js';
import type { ScreenProps } from './types.js';

type Mode = 'menu' | 'path' | 'hosts' | 'primary' | 'cluster' | 'network' | 'out';

interface Draft {
  hosts: string[];
  primary?: string;
  cluster: string;
  network: string;
}

export function InventoryScreen({ state, dispatch, active }: ScreenProps) {
  const [mode, setMode] = useState<Mode>('menu');
  const [draft, setDraft] = useState<Draft>({ hosts: [], cluster: 'main', network: '' });
  const textEntry = mode !== 'menu';
  useScreenKeys(dispatch, active && !textEntry);
  // Inside a sub-step Esc returns to the menu instead of leaving the screen.
  useInput(
    (_input, key) => {
      if (key.escape) setMode('menu');
    },
    { isActive: active && textEntry },
  );
  const found = state.welcome.inventories;
  const sshHosts = state.inventory.sshHosts;

  if (mode === 'menu') {
    return (
      <Box flexDirection="column">
        <Text>Which cluster? Load an inventory or build one.</Text>
        <Menu
          active={active}
          items={[
            ...found.map((f) => ({ value: `file:${f}`, label: `Load ${f}` })),
            { value: 'path', label: 'Load an inventory file…' },
            { value: 'build', label: 'Build one from hosts in ~/.ssh/config…' },
          ]}
          onChoose={(v) => {
            if (v.startsWith('file:')) dispatch({ type: 'inventory:load', path: v.slice('file:'.length) });
            else if (v === 'path') setMode('path');
            else {
              if (sshHosts === undefined) dispatch({ type: 'inventory:pick-hosts' });
              setMode('hosts');
            }
          }}
        />
      </Box>
    );
  }
  if (mode === 'path') {
    return (
      <Box flexDirection="column">
        <Text>Inventory file (YAML, SPEC §5); Enter to load, Esc to go back:</Text>
        <TextField
          key="path"
          active={active}
          placeholder="inventory.yaml"
          onSubmit={(path) => {
            if (path.trim() !== '') dispatch({ type: 'inventory:load', path: path.trim() });
          }}
        />
      </Box>
    );
  }
  if (mode === 'hosts') {
    if (sshHosts === undefined) return <Text>Reading ~/.ssh/config…</Text>;
    if (sshHosts.length === 0)
      return <Tone tone="warn">~/.ssh/config has no concrete Host entries; Esc to load a file instead.</Tone>;
    return (
      <Box flexDirection="column">
        <Text>Pick the cluster&apos;s nodes (space to mark, Enter when done):</Text>
        <MultiSelect
          isDisabled={!active}
          visibleOptionCount={8}
          options={sshHosts.map((h) => ({
            value: h.alias,
            label: `${h.alias}  ${h.user ? `${h.user}@` : ''}${h.hostName}${h.port ? `:${h.port}` : ''}`,
          }))}
          onSubmit={(hosts) => {
            if (hosts.length === 0) return;
            setDraft((d) => ({ ...d, hosts }));
            setMode('primary');
          }}
        />
      </Box>
    );
  }
  if (mode === 'primary') {
    return (
      <Box flexDirection="column">
        <Text>Which one is the primary? (the others are standbys; preflight checks it)</Text>
        <Menu
          active={active}
          items={draft.hosts.map((h) => ({ value: h, label: h }))}
          onChoose={(primary) => {
            setDraft((d) => ({ ...d, primary }));
            setMode('cluster');
          }}
        />
      </Box>
    );
  }
  if (mode === 'cluster') {
    return (
      <Box flexDirection="column">
        <Text>Cluster name:</Text>
        <TextField
          key="cluster"
          active={active}
          defaultValue={draft.cluster}
          onSubmit={(cluster) => {
            setDraft((d) => ({ ...d, cluster: cluster.trim() || 'main' }));
            setMode('network');
          }}
        />
      </Box>
    );
  }
  if (mode === 'network') {
    return (
      <Box flexDirection="column">
        <Text>Network your clients and peers connect from (CIDR, comma-separated):</Text>
        <TextField
          key="network"
          active={active}
          placeholder="10.0.0.0/24"
          onSubmit={(network) => {
            if (network.trim() === '') return;
            setDraft((d) => ({ ...d, network: network.trim() }));
            setMode('out');
          }}
        />
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      <Text>Save the inventory as (it is replayable headless):</Text>
      <TextField
        key="out"
        active={active}
        defaultValue={`${draft.cluster}.yaml`}
        onSubmit={(path) => {
          dispatch({
            type: 'inventory:build',
            input: {
              cluster: draft.cluster,
              network: draft.network
                .split(',')
                .map((s) => s.trim())
                .filter((s) => s !== ''),
              path: path.trim() || `${draft.cluster}.yaml`,
              nodes: draft.hosts.map((alias) => ({
                alias,
                role: alias === draft.primary ? 'primary' : 'standby',
              })),
            },
          });
          setMode('menu');
        }}
      />
    </Box>
  );
}
