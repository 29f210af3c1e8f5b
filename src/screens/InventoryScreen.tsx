// Screen 2: inventory — load a file, or build one from hosts picked out of ~/.ssh/config (SPEC §4).
// Every answer is dispatched; reading and writing files is the engine's job.
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { MultiSelect } from '@inkjs/ui';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { TextField } from './TextField.js';
import { Marked } from './layout.js';
import { MARK, Tone } from './theme.js';
import type { ScreenProps } from './types.js';
import { parseHostList, type HostListError, type PastedNode } from '../wizard/host-list.js';

type Mode = 'menu' | 'path' | 'hosts' | 'paste' | 'primary' | 'cluster' | 'network' | 'out';

interface Draft {
  /** ~/.ssh/config aliases, or the names of the pasted nodes. */
  hosts: string[];
  /** From a pasted host list (absent: picked from ~/.ssh/config). */
  pasted?: PastedNode[];
  primary?: string;
  cluster: string;
  network: string;
}

/** The nodes to write: picked aliases, or pasted nodes with their host and SSH port. */
function draftNodes(d: Draft) {
  if (d.pasted !== undefined) {
    return d.pasted.map((n) => ({
      alias: n.host,
      name: n.name,
      host: n.host,
      ...(n.port === undefined ? {} : { sshPort: n.port }),
      role: n.name === d.primary ? ('primary' as const) : ('standby' as const),
    }));
  }
  return d.hosts.map((alias) => ({
    alias,
    role: alias === d.primary ? ('primary' as const) : ('standby' as const),
  }));
}

function PastedHosts({ active, onNodes }: { active: boolean; onNodes: (nodes: PastedNode[]) => void }) {
  const [last, setLast] = useState<{ text: string; errors: HostListError[]; seq: number }>();
  return (
    <Box flexDirection="column">
      <Text wrap="wrap">
        Paste the nodes, one per line: [name] host[:ssh-port] [primary|standby]. Enter on an empty line when
        done; Esc to go back.
      </Text>
      <Tone tone="dim">e.g. pg1 127.0.1.11 primary · db2.example.com:2222</Tone>
      {last?.errors.map((e) => (
        <Marked key={`${e.line}:${e.message}`} mark={<Tone tone="bad">{MARK.bad}</Tone>}>
          <Tone tone="bad">
            line {e.line}: {e.message}
          </Tone>
        </Marked>
      ))}
      <TextField
        // After errors: a new field holding the text, to fix at its end or clear with Ctrl-U.
        key={last?.seq ?? 0}
        multiline
        active={active}
        defaultValue={last?.text}
        placeholder="pg1 10.0.0.11 primary"
        onSubmit={(text) => {
          const r = parseHostList(text);
          if (r.errors.length > 0) setLast({ text, errors: r.errors, seq: (last?.seq ?? 0) + 1 });
          else onNodes(r.nodes);
        }}
      />
    </Box>
  );
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
            { value: 'paste', label: 'Build one from a pasted host list…' },
          ]}
          onChoose={(v) => {
            if (v.startsWith('file:')) dispatch({ type: 'inventory:load', path: v.slice('file:'.length) });
            else if (v === 'path') setMode('path');
            else if (v === 'paste') setMode('paste');
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
            setDraft(({ pasted: _pasted, ...d }) => ({ ...d, hosts }));
            setMode('primary');
          }}
        />
      </Box>
    );
  }
  if (mode === 'paste') {
    return (
      <PastedHosts
        active={active}
        onNodes={(pasted) => {
          const primary = pasted.find((n) => n.role === 'primary')?.name;
          const single = pasted.length === 1 ? pasted[0]?.name : undefined;
          setDraft((d) => ({ ...d, pasted, hosts: pasted.map((n) => n.name), primary: primary ?? single }));
          setMode(primary !== undefined || single !== undefined ? 'cluster' : 'primary');
        }}
      />
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
              nodes: draftNodes(draft),
            },
          });
          setMode('menu');
        }}
      />
    </Box>
  );
}
