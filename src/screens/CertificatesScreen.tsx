// Screen 5: certificates — generate (CA + per node + per role) or import a directory; every cert is
// shown with subject, SANs, key type, validity, issuer, fingerprint, and its lint problems in red.
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { certErrors } from '../wizard/reducer.js';
import type { CertView } from '../wizard/state.js';
import { useScreenKeys } from './keys.js';
import { Menu } from './Menu.js';
import { TextField } from './TextField.js';
import { Indented, Marked } from './layout.js';
import { MARK, Tone } from './theme.js';
import type { ScreenProps } from './types.js';

const day = (iso: string | undefined): string => iso?.slice(0, 10) ?? '?';

function CertBlock({ cert }: { cert: CertView }) {
  const bad = cert.findings.some((f) => f.severity === 'error');
  const warn = cert.findings.some((f) => f.severity === 'warning');
  // Narrow terminals: the summary and the problems wrap (they matter); SANs, issuer and fingerprint
  // are cut at the edge (`pgharden certs inspect` shows them whole).
  return (
    <Box flexDirection="column">
      <Marked
        mark={
          bad ? (
            <Tone tone="bad">{MARK.bad}</Tone>
          ) : warn ? (
            <Tone tone="warn">{MARK.warn}</Tone>
          ) : (
            <Tone tone="ok">{MARK.ok}</Tone>
          )
        }
      >
        <Tone tone="title">
          {cert.kind} {cert.name}
        </Tone>{' '}
        {cert.subject ?? ''} · {cert.keyType ?? '?'} · until {day(cert.notAfter)} ({cert.daysLeft ?? '?'} d) ·{' '}
        {cert.status}
      </Marked>
      {cert.subject !== undefined ? (
        <Indented by={2} wrap="truncate-end">
          <Tone tone="dim">
            {cert.sans.length > 0 ? `SAN ${cert.sans.join(', ')} · ` : ''}issuer {cert.issuer} · SHA256{' '}
            {cert.fingerprint}
          </Tone>
        </Indented>
      ) : null}
      {cert.findings
        .filter((f) => f.severity !== 'info')
        .map((f, i) => (
          <Indented key={`${i}:${f.id}`} by={2}>
            <Tone tone={f.severity === 'error' ? 'bad' : 'warn'}>
              {f.message} → {f.fix}
            </Tone>
          </Indented>
        ))}
    </Box>
  );
}

export function CertificatesScreen({ state, dispatch, active }: ScreenProps) {
  const [importing, setImporting] = useState(false);
  const ready = state.certs.items.length > 0;
  useScreenKeys(dispatch, active && !importing);
  useInput(
    (input, key) => {
      if (importing) {
        if (key.escape) setImporting(false);
        return;
      }
      if (key.return && ready) dispatch({ type: 'certs:continue' });
      else if (input === 'g') dispatch({ type: 'certs:generate' });
      else if (input === 'i') setImporting(true);
    },
    { isActive: active && (ready || importing) },
  );
  if (importing) {
    return (
      <Box flexDirection="column">
        <Text>Directory with root.crt, NODE.crt/.key per node (and ROLE.crt/.key for cert auth):</Text>
        <TextField
          active={active}
          placeholder="~/pki/prod"
          onSubmit={(dir) => {
            if (dir.trim() === '') return;
            setImporting(false);
            dispatch({ type: 'certs:import', dir: dir.trim() });
          }}
        />
        <Tone tone="dim">Enter: read and lint · Esc: back</Tone>
      </Box>
    );
  }
  if (!ready) {
    return (
      <Box flexDirection="column">
        <Text>Certificates for auth {state.auth}:</Text>
        <Menu
          active={active && state.busy === undefined}
          items={[
            {
              value: 'generate',
              label: 'Generate: cluster CA, a server cert per node, client certs per role',
              note: 'ECDSA P-256, 1 year; the CA key stays on this machine (0600); valid ones are kept',
            },
            {
              value: 'import',
              label: 'Import a directory of PEM files…',
              note: 'every file is linted first',
            },
          ]}
          onChoose={(v) => (v === 'generate' ? dispatch({ type: 'certs:generate' }) : setImporting(true))}
        />
      </Box>
    );
  }
  const errors = certErrors(state);
  return (
    <Box flexDirection="column">
      {/* The directory cut in its middle, never the count and the verdict after it. */}
      <Box>
        <Text wrap="truncate-middle">Certificates in {state.certs.dir}</Text>
        <Box flexShrink={0}>
          <Text>
            : {state.certs.items.length}
            {errors > 0 ? (
              <Tone tone="bad"> · {errors} problem(s)</Tone>
            ) : (
              <Tone tone="ok"> · lint clean</Tone>
            )}
          </Text>
        </Box>
      </Box>
      {state.certs.items.map((c) => (
        <CertBlock key={c.file} cert={c} />
      ))}
      <Tone tone="dim">Enter: plan · g: generate · i: import · Esc: back · ?: help</Tone>
    </Box>
  );
}
