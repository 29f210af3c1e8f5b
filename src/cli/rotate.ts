// `pgharden rotate -i inv.yaml [--nodes a,b]` (SPEC §3, §9): re-issue every node's server key and
// certificate under the same CA and switch to them with one validated reload per node, after the
// plan was shown and --yes given. `--new-ca` and `--finish` (CA rotation) are refused until built.
import { preflightAll, type ConnectOptions } from '../core/audit-run.js';
import { toPghardenError, UsageError, type ExitCode } from '../core/errors.js';
import { applyPlanned } from '../core/harden-flow.js';
import { loadInventory } from '../core/inventory.js';
import { expandHome } from '../core/paths.js';
import { planRotation, restoreArchive } from '../core/rotate.js';
import { inventoryPkiDir } from './certs-issue.js';
import { runConfirmed, runFrame } from './harden.js';
import type { CliIo, GlobalOptions } from './io.js';
import { envSecrets } from './secrets.js';
import { renderPlan } from './views/plan-human.js';

export interface RotateFlags {
  inventory: string;
  nodes?: string | undefined;
  newCa?: boolean | undefined;
  finish?: boolean | undefined;
  pkiDir?: string | undefined;
}

export async function rotateCommand(flags: RotateFlags, global: GlobalOptions, io: CliIo): Promise<ExitCode> {
  return runFrame('rotate', global, io, async (frame) => {
    if (flags.newCa === true || flags.finish === true) {
      throw new UsageError(
        'rotate.ca-not-built',
        `${flags.newCa === true ? '--new-ca' : '--finish'}: CA rotation (SPEC §9 phases 1–3) is not in this version`,
        're-issue the leaves under the current CA with `pgharden rotate -i INVENTORY`; nothing was changed',
      );
    }
    const { inventory } = await loadInventory(flags.inventory);
    const pkiDir = flags.pkiDir === undefined ? inventoryPkiDir(inventory, io.env) : expandHome(flags.pkiDir);
    const nodes = flags.nodes
      ?.split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    const connectOptions: ConnectOptions = {
      hostKeys: global.acceptNewHostKeys === true ? 'accept-and-save' : 'reject',
      secrets: envSecrets(io.env),
    };
    const { outcomes, sessions } = await preflightAll(inventory, frame.bus, connectOptions, frame.signal);
    frame.sessions = sessions;
    const p = await planRotation({ inventory, pkiDir, nodes }, outcomes, sessions, frame.signal);
    if (!frame.json) renderPlan(io.stdout, frame.style, p.plan);
    if (global.yes !== true) {
      await restoreArchive(pkiDir, p.archive, p.nodes);
      throw new UsageError(
        'rotate.confirm',
        'the plan above was not confirmed',
        'pass --yes to rotate (nothing was changed, the local PKI included)',
      );
    }
    const planned = {
      ...p,
      sessions,
      inventory,
      inventoryPath: flags.inventory,
      certs: 'import' as const,
      pkiDir,
      connectOptions,
    };
    try {
      return await runConfirmed(planned, 'rotate', frame, global, io, (req) =>
        applyPlanned({
          ...req,
          inventoryPath: flags.inventory,
          certs: 'import',
          pkiDir,
          job: 'rotate',
          archive: p.archive,
        }),
      );
    } catch (err) {
      // Rolled back (exit 4/130) or never started: the nodes serve the old pairs, so the local PKI
      // must say so too. A failed rollback (rollback.failed) leaves it: `rollback RUN_ID` comes next.
      if (toPghardenError(err).code !== 'rollback.failed') await restoreArchive(pkiDir, p.archive, p.nodes);
      throw err;
    }
  });
}
