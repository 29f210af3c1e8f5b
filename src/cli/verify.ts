// `pgharden verify -i inv.yaml`: the queries and probes of SPEC §8. Exit 0 when every row is ok,
// 3 when any failed, 2 for bad input (inventory, secrets file).
import { EventBus, type EngineEvent } from '../core/events.js';
import { loadInventory } from '../core/inventory.js';
import { detectMode } from '../core/terminal.js';
import type { ExitCode } from '../core/errors.js';
import { readSecretsFile } from '../verify/credentials.js';
import { runVerify } from '../verify/run.js';
import type { VerifyRow } from '../verify/evaluate.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';
import { envSecrets, envSecretValues } from './secrets.js';
import { auditProgressView } from './views/audit-human.js';
import { jsonLinesView } from './views/json-lines.js';
import { makeStyle, type Style } from './views/style.js';
import { scrubSecrets } from '../core/redact.js';

/** Progress on stderr: connections as audit shows them, then each failed row as it arrives. */
function progressView(stderr: NodeJS.WritableStream, style: Style) {
  const base = auditProgressView(stderr, style);
  return (event: EngineEvent): void => {
    if (event.type !== 'verify:row') base(event);
  };
}

/** Rows grouped per node (inventory order), one line each, then the counts. */
export function renderVerifyReport(
  out: NodeJS.WritableStream,
  style: Style,
  nodes: string[],
  rows: VerifyRow[],
  exitCode: number,
  secrets: string[],
): void {
  for (const node of nodes) {
    out.write(`${style('bold', node)}\n`);
    for (const r of rows.filter((x) => x.node === node)) {
      const mark = r.ok ? style('green', '✓') : style('red', '✗');
      out.write(`  ${mark} ${node} ${r.check.padEnd(30)} ${scrubSecrets(r.value, secrets)}\n`);
    }
  }
  const failed = rows.filter((r) => !r.ok).length;
  out.write(
    `\n${rows.length - failed} passed, ${failed} failed → exit ${exitCode}${exitCode === 3 ? ' (verification failed)' : ''}\n`,
  );
}

export async function verifyCommand(args: {
  inventoryPath: string;
  global: GlobalOptions;
  io: CliIo;
}): Promise<ExitCode> {
  const { io, global } = args;
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  let fileSecrets = new Map<string, string>();
  const secretValues = (): string[] => [...envSecretValues(io.env), ...fileSecrets.values()];
  const json = global.json === true ? jsonLinesView(io.stdout, secretValues) : undefined;
  try {
    const { inventory } = await loadInventory(args.inventoryPath);
    // Bad input (secrets file mode, YAML) exits 2 before any connection is made.
    if (global.secrets !== undefined) fileSecrets = await readSecretsFile(global.secrets);
    const bus = new EventBus();
    const style = makeStyle(mode.color);
    bus.subscribe(json ? json.onEvent : progressView(io.stderr, style));
    const result = await runVerify(inventory, bus, {
      connect: {
        hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
        secrets: envSecrets(io.env),
      },
      env: io.env,
      secrets: fileSecrets,
    });
    const failed = result.rows.filter((r) => !r.ok).length;
    if (json) {
      json.summary({
        command: 'verify',
        exitCode: result.exitCode,
        cluster: inventory.cluster,
        passed: result.rows.length - failed,
        failed,
      });
    } else {
      const nodes = [...inventory.nodes, ...(inventory.poolers ?? [])].map((n) => n.name);
      renderVerifyReport(io.stdout, style, nodes, result.rows, result.exitCode, secretValues());
    }
    return result.exitCode;
  } catch (err) {
    return reportFailure(err, 'verify', global, io);
  }
}
