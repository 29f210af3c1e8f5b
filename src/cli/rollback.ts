// `pgharden rollback RUN_ID`: undo a finished (or half rolled back) run from its journal with fresh
// SSH sessions. Files are restored byte for byte from the on-node backups (a file the run created is
// removed), then each node reloads and must answer. Step-specific undo that needs the run's secrets
// (md5 hashes replaced by SCRAM verifiers) cannot be replayed: the verifiers stay, and the restored
// md5 rules accept them with the same passwords. The work is core/resume-flow.ts's rollbackById
// (the wizard's welcome screen runs the same).
import { EventBus } from '../core/events.js';
import type { ExitCode } from '../core/errors.js';
import { stateDir } from '../core/paths.js';
import { rollbackById } from '../core/resume-flow.js';
import { detectMode } from '../core/terminal.js';
import type { CliIo, GlobalOptions } from './io.js';
import { reportFailure } from './report-error.js';
import { envSecrets, envSecretValues } from './secrets.js';
import { auditProgressView } from './views/audit-human.js';
import { jsonLinesView } from './views/json-lines.js';
import { makeStyle } from './views/style.js';

export async function rollbackCommand(
  runId: string,
  opts: { inventory?: string },
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  const mode = detectMode(io.env, io, { json: global.json, color: global.color });
  const style = makeStyle(mode.color);
  const json = global.json === true ? jsonLinesView(io.stdout, () => envSecretValues(io.env)) : undefined;
  const bus = new EventBus();
  bus.subscribe(json ? json.onEvent : auditProgressView(io.stderr, style));
  try {
    const result = await rollbackById({
      stateDir: stateDir(io.env, global.stateDir),
      runId,
      inventory: opts.inventory,
      bus,
      connectOptions: {
        hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
        secrets: envSecrets(io.env),
      },
    });
    const code: ExitCode = result.failed.length > 0 ? 1 : 0;
    json?.summary({
      command: 'rollback',
      exitCode: code,
      runId,
      nodes: result.nodes,
      failed: result.failed,
    });
    if (!json) {
      for (const [node, steps] of Object.entries(result.nodes)) {
        io.stderr.write(
          `${style('green', '↺')} ${node}: ${steps.length === 0 ? 'nothing to undo' : steps.join(', ')}\n`,
        );
      }
      io.stderr.write(
        result.failed.length === 0
          ? `${style('green', '✓')} run ${runId} rolled back\n`
          : `${style('red', '✗')} could not roll back ${result.failed.join(', ')}; fix the connection and run again\n`,
      );
    }
    return code;
  } catch (err) {
    return reportFailure(err, 'rollback', global, io);
  }
}
