// `pgharden rotate -i inv.yaml [--nodes a,b] [--new-ca | --finish]` (SPEC §3, §9): leaf re-issue
// under the same CA, or the next phase of a CA rotation, after the plan was shown and --yes given.
// The phases and the local PKI's part live in core/rotate.ts; this is the headless view.
import { preflightAll, type ConnectOptions } from '../core/audit-run.js';
import { toPghardenError, UsageError, type ExitCode } from '../core/errors.js';
import { applyPlanned } from '../core/harden-flow.js';
import { loadInventory } from '../core/inventory.js';
import { expandHome, inventoryPkiDir } from '../core/paths.js';
import { planRotation, restorePki, type RotateMode, type RotationKind } from '../core/rotate.js';
import { importDirOf, runConfirmed, runFrame } from './harden.js';
import type { CliIo, GlobalOptions } from './io.js';
import { envSecrets } from './secrets.js';
import { renderPlan } from './views/plan-human.js';

export interface RotateFlags {
  inventory: string;
  nodes?: string | undefined;
  newCa?: boolean | undefined;
  finish?: boolean | undefined;
  pkiDir?: string | undefined;
  certs?: string | undefined;
}

const NEXT: Record<RotationKind, string> = {
  leaves: 'new server certificates are served; the replaced pairs are in the PKI archive',
  'ca-phase1':
    'every node trusts the old and the new CA: give clients the new root.crt (client bundle), then run `pgharden rotate --new-ca` again (phase 2)',
  'ca-phase2':
    'every leaf is under the new CA; when no client uses the old CA any more, run `pgharden rotate --finish`',
  'ca-finish': 'the old CA is gone from every node and from root.crt',
};

export async function rotateCommand(flags: RotateFlags, global: GlobalOptions, io: CliIo): Promise<ExitCode> {
  return runFrame('rotate', global, io, async (frame) => {
    if (flags.newCa === true && flags.finish === true) {
      throw new UsageError('rotate.flags', '--new-ca and --finish are different phases: give one');
    }
    const mode: RotateMode = flags.newCa === true ? 'new-ca' : flags.finish === true ? 'finish' : 'leaves';
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
    const importDir = importDirOf(flags.certs ?? 'generate', 'rotate.certs');
    const p = await planRotation(
      { inventory, pkiDir, nodes, mode, importDir },
      outcomes,
      sessions,
      frame.signal,
    );
    if (!frame.json) renderPlan(io.stdout, frame.style, p.plan);
    if (global.yes !== true) {
      await restorePki(pkiDir, p.snapshot);
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
      const code = await runConfirmed(planned, 'rotate', frame, global, io, (req) =>
        applyPlanned({
          ...req,
          inventoryPath: flags.inventory,
          certs: 'import',
          pkiDir,
          job: 'rotate',
          archive: p.snapshot,
          // Headless and --yes: the plan was read moments ago, nothing waited for a person.
          planJustMade: true,
        }),
      );
      if (!frame.json) io.stderr.write(`  → ${NEXT[p.kind]}\n`);
      return code;
    } catch (err) {
      // Rolled back (exit 4/130) or never started: the nodes serve the old pairs, so the local PKI
      // must say so too. A failed rollback (rollback.failed) leaves it: `rollback RUN_ID` comes next.
      if (toPghardenError(err).code !== 'rollback.failed') await restorePki(pkiDir, p.snapshot);
      throw err;
    }
  });
}
