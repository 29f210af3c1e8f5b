// `pgharden resume RUN_ID` (SPEC §3, §10): continue a run that ended with neither `run:done` nor
// `rollback:done` (its process was killed, or its own rollback failed). Inventory, auth mode and
// certificate source come from the run's `run:meta`; preflight runs again with fresh sessions; the
// plan of what is left is shown and needs --yes, as for apply. Exit codes as apply.
import { resolve } from 'node:path';
import { assertSameSchedule, remainingPlan } from '../core/engine/resume.js';
import { UsageError, type ExitCode } from '../core/errors.js';
import { expandHome, stateDir } from '../core/paths.js';
import { resumeSetup, runResumed } from '../core/resume-flow.js';
import { preparePlan, runConfirmed, runFrame, type HardenFlags } from './harden.js';
import type { CliIo, GlobalOptions } from './io.js';
import { renderPlan } from './views/plan-human.js';

export async function resumeCommand(
  runId: string,
  opts: { inventory?: string },
  global: GlobalOptions,
  io: CliIo,
): Promise<ExitCode> {
  return runFrame('resume', global, io, async (frame) => {
    // Unknown, finished or rolled-back runs are refused here, before any connection.
    const setup = await resumeSetup(stateDir(io.env, global.stateDir), runId, opts.inventory);
    const { state } = setup;
    const flags: HardenFlags = {
      inventory: setup.inventory,
      ...(setup.auth === undefined ? {} : { auth: setup.auth }),
      certs: setup.certs === 'import' ? `import:${setup.pkiDir}` : 'generate',
    };
    const p = await preparePlan(flags, global, io, frame.bus, frame.signal, {
      runId,
      pkiDir: setup.pkiDir,
      generatedBefore: setup.generatedBefore,
    });
    frame.sessions = p.sessions;
    assertSameSchedule(state, p.run.phases);
    if (!frame.json) {
      renderPlan(io.stdout, frame.style, remainingPlan(p.plan, state));
      for (const node of state.order) {
        for (const s of state.nodes[node]?.interrupted ?? []) {
          io.stdout.write(
            `${frame.style('yellow', '↺')} ${node} ${s.id} was interrupted: it is undone from its backups first, then run again\n`,
          );
        }
      }
    }
    if (global.yes !== true) {
      throw new UsageError(
        'resume.confirm',
        `the rest of run ${runId} was not confirmed`,
        'pass --yes to continue it (nothing was changed)',
      );
    }
    return runConfirmed(p, 'resume', frame, global, io, (req) =>
      runResumed(
        req,
        state,
        opts.inventory === undefined ? undefined : { inventory: resolve(expandHome(opts.inventory)) },
      ),
    );
  });
}
