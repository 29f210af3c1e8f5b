// Human view of an audit: progress on stderr while nodes answer, the findings report on stdout.
import type { EngineEvent, Finding } from '../../core/events.js';
import type { NodeOutcome } from '../../core/facts.js';
import type { Inventory } from '../../core/inventory-schema.js';
import { SEVERITIES } from '../../core/severity.js';
import { SEVERITY_FORMAT, type Style } from './style.js';

export function auditProgressView(stderr: NodeJS.WritableStream, style: Style) {
  return (event: EngineEvent): void => {
    switch (event.type) {
      case 'node:connected':
        stderr.write(
          `${style('green', '✓')} ${event.node} connected (${event.keyType} ${event.hostKey}, ${event.ms} ms)\n`,
        );
        break;
      case 'preflight:done':
        stderr.write(`${style('green', '✓')} ${event.node} ${event.summary}\n`);
        break;
      case 'node:failed':
        // Remote errors already name their node; don't say it twice.
        stderr.write(
          `${style('red', '✗')} ${event.error.message.startsWith(`${event.node}:`) ? '' : `${event.node}: `}${event.error.message}\n`,
        );
        if (event.error.hint) stderr.write(`  → ${event.error.hint}\n`);
        break;
      default:
        break;
    }
  };
}

function nodeLine(o: NodeOutcome): string {
  if (!o.ok) return `${o.node}: not reachable`;
  const f = o.facts;
  if (!f.pg) return `${f.node} ${f.host}: PostgreSQL not inspected`;
  const s = (n: string): string => f.pg?.settings[n]?.setting ?? '?';
  return `${f.node} ${f.host}  PostgreSQL ${f.pg.version} ${f.pg.role}  ssl=${s('ssl')}  password_encryption=${s('password_encryption')}  data ${f.pg.dataDir}`;
}

export function renderAuditReport(
  out: NodeJS.WritableStream,
  style: Style,
  inventory: Inventory,
  outcomes: NodeOutcome[],
  findings: Finding[],
  exitCode: number,
): void {
  out.write(
    `${style('bold', `pgharden audit — ${inventory.cluster}`)} (${inventory.topology}, ${inventory.nodes.length} node${inventory.nodes.length === 1 ? '' : 's'})\n\n`,
  );
  for (const o of outcomes) {
    out.write(`${style('bold', nodeLine(o))}\n`);
    const mine = findings.filter((f) => f.node === o.node);
    if (mine.length === 0) out.write(`  ${style('green', 'no findings')}\n`);
    for (const f of mine) {
      const sev = style(SEVERITY_FORMAT[f.severity], f.severity.toUpperCase().padEnd(8));
      out.write(`  ${sev} ${f.id.padEnd(28)} ${f.message}\n`);
      if (f.where) out.write(`  ${' '.repeat(8)} ${' '.repeat(28)} ${style('gray', `at ${f.where}`)}\n`);
      out.write(`  ${' '.repeat(8)} ${' '.repeat(28)} ${style('gray', `fix: ${f.fix}`)}\n`);
    }
    out.write('\n');
  }
  const counts = [...SEVERITIES]
    .reverse()
    .map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`)
    .join(', ');
  out.write(`${counts} → exit ${exitCode}${exitCode === 3 ? ' (findings of high severity or worse)' : ''}\n`);
}
