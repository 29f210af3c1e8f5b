// Human view of a plan: per node the ordered steps, with unified diffs, SQL and commands.
import type { PlanDocument } from '../../core/harden.js';
import type { Style } from './style.js';

function colourDiff(diff: string, style: Style): string {
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+') && !l.startsWith('+++')
        ? style('green', l)
        : l.startsWith('-') && !l.startsWith('---')
          ? style('red', l)
          : l.startsWith('@@')
            ? style('cyan', l)
            : l,
    )
    .join('\n');
}

export function renderPlan(out: NodeJS.WritableStream, style: Style, plan: PlanDocument): void {
  out.write(`${style('bold', `pgharden plan — ${plan.cluster}`)} (${plan.topology}, auth ${plan.auth})\n`);
  const order = plan.phases
    .map((ph, i) => `${i + 1}. ${ph.map((e) => `${e.node} [${e.steps.join(', ')}]`).join(' ∥ ')}`)
    .join('\n   ');
  out.write(`order:\n   ${order}\n\n`);
  for (const note of plan.notes ?? []) out.write(`${style('yellow', '!')} ${note}\n`);
  if ((plan.notes ?? []).length > 0) out.write('\n');
  for (const n of plan.nodes) {
    out.write(`${style('bold', `${n.node} ${n.host} (${n.role})`)}\n`);
    for (const st of n.steps) {
      if (!st.needed) {
        out.write(`  ${style('gray', `✓ ${st.id.padEnd(26)} already done`)}\n`);
        continue;
      }
      const c = st.change;
      const effect = c?.restart ? style('red', 'RESTART') : c?.reload ? 'reload' : '';
      out.write(`  → ${st.id.padEnd(26)} ${st.title}${effect ? `  (${effect})` : ''}\n`);
      for (const d of st.diffs ?? []) out.write(`${colourDiff(d, style).replace(/^/gm, '      ')}\n`);
      for (const sql of c?.sql ?? []) out.write(`      ${style('cyan', 'SQL')} ${sql}\n`);
      for (const cmd of c?.commands ?? []) out.write(`      ${style('cyan', '$')} ${cmd}\n`);
    }
    out.write('\n');
  }
  const needed = plan.nodes.reduce((a, n) => a + n.steps.filter((s) => s.needed).length, 0);
  out.write(
    needed === 0
      ? 'nothing to do: every step is already done\n'
      : `${needed} step(s) to apply, ${plan.reloads} reload(s), ${plan.restarts} restart(s)\n`,
  );
}
