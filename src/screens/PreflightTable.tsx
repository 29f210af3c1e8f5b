// The live preflight table: one row per node (SPEC §4 screen 3), a second dim line with the facts.
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { Finding } from '../core/events.js';
import type { PreflightDetail, PreflightRow } from '../wizard/state.js';
import { Indented, Marked } from './layout.js';
import { MARK, Tone } from './theme.js';

/** A Box-level element (Spinner is a Box): never inside <Text>. */
function RowMark({ row }: { row: PreflightRow }) {
  if (row.status === 'failed') return <Tone tone="bad">{MARK.bad}</Tone>;
  if (row.status === 'inspected') return <Tone tone="ok">{MARK.ok}</Tone>;
  if (row.status === 'waiting') return <Tone tone="dim">{MARK.wait}</Tone>;
  return <Spinner />;
}

function facts(d: PreflightDetail | undefined): string {
  if (d === undefined) return '';
  if (d.problem !== undefined) return d.problem;
  return [
    `PG ${d.pgVersion ?? '?'} ${d.role ?? '?'}`,
    `ssl ${d.ssl ?? '?'}`,
    `pw ${d.passwordEncryption ?? '?'}`,
    d.md5Roles.length > 0 ? `md5: ${d.md5Roles.join(',')}` : 'no md5',
    d.hbaErrors > 0 ? `hba errors ${d.hbaErrors}` : '',
    d.replication,
  ]
    .filter((x) => x !== '')
    .join(' · ');
}

function where(d: PreflightDetail | undefined, row: PreflightRow): string {
  const key = row.fingerprint ? `${row.keyType ?? ''} ${row.fingerprint}` : '';
  if (d === undefined || d.problem !== undefined) return key;
  return [
    key,
    `${d.access === 'sudo' ? 'sudo' : 'as'} ${d.sshUser}`,
    d.libpq ? `libpq ${d.libpq}` : '',
    d.dataDir ? `data ${d.dataDir}` : '',
    d.hbaFile ? `hba ${d.hbaFile}` : '',
  ]
    .filter((x) => x !== '')
    .join(' · ');
}

export function PreflightTable({ rows, details }: { rows: PreflightRow[]; details: PreflightDetail[] }) {
  return (
    <Box flexDirection="column">
      {rows.map((row) => {
        const d = details.find((x) => x.node === row.node);
        const second = row.status === 'failed' ? (row.error?.hint ?? '') : where(d, row);
        return (
          <Box key={row.node} flexDirection="column">
            <Box gap={1}>
              {/* Not shrinkable: a long facts line would otherwise squeeze the mark and eat the gap. */}
              <Box flexShrink={0}>
                <RowMark row={row} />
              </Box>
              {/* The facts line is cut at the edge; a failure's message wraps (it says why). */}
              <Text wrap={row.status === 'failed' ? 'wrap' : 'truncate-end'}>
                <Tone tone="title">{row.node}</Tone> {row.host ?? ''}{' '}
                {row.status === 'failed' ? (
                  <Tone tone="bad">{row.error?.message ?? 'failed'}</Tone>
                ) : (
                  <Tone tone={d?.problem ? 'warn' : 'ok'}>{facts(d) || row.summary || row.status}</Tone>
                )}
              </Text>
            </Box>
            {second === '' ? null : (
              <Indented by={2} wrap={row.status === 'failed' ? 'wrap' : 'truncate-end'}>
                <Tone tone="dim">{second}</Tone>
              </Indented>
            )}
          </Box>
        );
      })}
    </Box>
  );
}

const SEVERITY_TONE = { critical: 'bad', high: 'bad', medium: 'warn', low: 'accent', info: 'dim' } as const;

/** The first `max` findings (worst first), one line each with what pgharden does about it. */
export function FindingList({ findings, max }: { findings: Finding[]; max: number }) {
  const shown = findings.slice(0, max);
  return (
    <Box flexDirection="column">
      {shown.map((f, i) => (
        <Box key={`${i}:${f.id}`} flexDirection="column">
          <Marked
            mark={
              <Tone tone={SEVERITY_TONE[f.severity]}>
                {MARK.warn} {f.severity.padEnd(8)}
              </Tone>
            }
          >
            {f.node} {f.message}
          </Marked>
          <Indented by={4}>
            <Tone tone="dim">→ {f.fix}</Tone>
          </Indented>
        </Box>
      ))}
      {findings.length > max ? <Tone tone="dim">… and {findings.length - max} more</Tone> : null}
    </Box>
  );
}
