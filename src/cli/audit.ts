// `pgharden audit -i inv.yaml`: read-only findings. Exit 0 when nothing is high or worse, 3 otherwise.
import { EventBus } from '../core/events.js';
import { loadInventory } from '../core/inventory.js';
import { detectMode } from '../core/terminal.js';
import { runAudit } from '../core/audit-run.js';
import { SEVERITIES } from '../core/severity.js';
import type { ExitCode } from '../core/errors.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';
import { envSecrets, envSecretValues } from './secrets.js';
import { auditProgressView, renderAuditReport } from './views/audit-human.js';
import { jsonLinesView } from './views/json-lines.js';
import { makeStyle } from './views/style.js';

export async function auditCommand(args: {
  inventoryPath: string;
  global: GlobalOptions;
  io: CliIo;
}): Promise<ExitCode> {
  const { io, global } = args;
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const json = global.json === true ? jsonLinesView(io.stdout, () => envSecretValues(io.env)) : undefined;
  try {
    const { inventory } = await loadInventory(args.inventoryPath);
    const bus = new EventBus();
    const style = makeStyle(mode.color);
    bus.subscribe(json ? json.onEvent : auditProgressView(io.stderr, style));
    const result = await runAudit(inventory, bus, {
      hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
      secrets: envSecrets(io.env),
    });
    if (json) {
      json.summary({
        command: 'audit',
        exitCode: result.exitCode,
        cluster: inventory.cluster,
        nodes: result.outcomes.map((o) => ({ node: o.node, ok: o.ok })),
        counts: Object.fromEntries(
          SEVERITIES.map((s) => [s, result.findings.filter((f) => f.severity === s).length]),
        ),
      });
    } else {
      renderAuditReport(io.stdout, style, inventory, result.outcomes, result.findings, result.exitCode);
    }
    return result.exitCode;
  } catch (err) {
    return reportFailure(err, 'audit', global, io);
  }
}
