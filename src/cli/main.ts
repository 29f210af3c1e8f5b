// Command-line surface (SPEC §3). Thin: parse flags, call the engine, pick a view, return an exit code.
import { Command, CommanderError, Option } from 'commander';
import { report } from './report-error.js';
import type { CliIo, GlobalOptions } from './io.js';
import type { HardenFlags as HardenFlagsShape } from './harden.js';
import type { RotateFlags as RotateFlagsShape } from './rotate.js';
import { detectMode } from '../core/terminal.js';
import { UsageError, type ExitCode } from '../core/errors.js';
import { REVOCATION_REASONS } from '../pki/revocation-reasons.js';

export const VERSION = '0.1.0';

/** Repeatable option (`--host a --host b`); not variadic, so it cannot swallow positional FILEs. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function buildProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const program = new Command('pgharden')
    .description(
      'Harden the connections of a PostgreSQL cluster over SSH: TLS everywhere, SCRAM or certificate auth, safe pg_hba.conf, and proof that it worked.',
    )
    .version(VERSION)
    .option('--json', 'print one JSON event per line; the last line is a summary')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .option('--verbose', 'more detail on stderr')
    .option('--state-dir <dir>', 'where run journals and reports go (default $XDG_STATE_HOME/pgharden)')
    .option('--yes', 'do not ask; take the plan as shown')
    .option('--accept-new-host-keys', 'trust unknown SSH host keys on first use and save them to known_hosts')
    .option('--secrets <file>', 'YAML map role → password (must be mode 0600)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError('(run pgharden --help for usage)');

  program
    .command('audit')
    .description(
      'read-only: connect to every node, report findings with severity and the fix pgharden would apply',
    )
    .requiredOption('-i, --inventory <file>', 'inventory YAML (SPEC §5)')
    .action(async (opts: { inventory: string }, cmd: Command) => {
      const { auditCommand } = await import('./audit.js');
      setExit(
        await auditCommand({
          inventoryPath: opts.inventory,
          global: cmd.optsWithGlobals<GlobalOptions>(),
          io,
        }),
      );
    });

  program
    .command('verify')
    .description(
      'prove the hardening live: SQL checks on every node, TLS/auth probes from here and from each peer (exit 3 on any failure)',
    )
    .requiredOption('-i, --inventory <file>', 'inventory YAML (SPEC §5)')
    .action(async (opts: { inventory: string }, cmd: Command) => {
      const { verifyCommand } = await import('./verify.js');
      setExit(
        await verifyCommand({
          inventoryPath: opts.inventory,
          global: cmd.optsWithGlobals<GlobalOptions>(),
          io,
        }),
      );
    });

  const hardenFlags = (cmd: Command): Command =>
    cmd
      .requiredOption('-i, --inventory <file>', 'inventory YAML (SPEC §5)')
      .addOption(
        new Option('--auth <mode>', 'client and replication auth').choices(['scram', 'cert', 'scram+cert']),
      )
      .option(
        '--certs <source>',
        'generate (issue or keep in the cluster PKI dir) or import:DIR',
        'generate',
      );
  hardenFlags(program.command('plan'))
    .description(
      'preflight every node and show what apply would change: ordered steps, file diffs, SQL, reloads',
    )
    .option('-o, --out <file>', 'save the plan as JSON for `apply --plan`')
    .action(async (opts: Record<string, string>, cmd: Command) => {
      const { planCommand } = await import('./harden.js');
      setExit(
        await planCommand(opts as unknown as HardenFlagsShape, cmd.optsWithGlobals<GlobalOptions>(), io),
      );
    });
  hardenFlags(program.command('apply'))
    .description(
      'apply the plan node by node with backups, journal and automatic rollback (--yes to confirm)',
    )
    .option('--plan <file>', 'apply exactly this saved plan; refused when the cluster changed since')
    .action(async (opts: Record<string, string>, cmd: Command) => {
      const { applyCommand } = await import('./harden.js');
      setExit(
        await applyCommand(opts as unknown as HardenFlagsShape, cmd.optsWithGlobals<GlobalOptions>(), io),
      );
    });

  program
    .command('rotate')
    .description(
      "re-issue every node's server key and certificate under the same CA and switch with one reload per node (--yes to confirm)",
    )
    .requiredOption('-i, --inventory <file>', 'inventory YAML')
    .option('--nodes <names>', 'only these nodes (comma-separated inventory names)')
    .option(
      '--certs <source>',
      'generate (issue under the cluster CA) or import:DIR (DIR/<node>.crt/.key, linted first)',
      'generate',
    )
    .option(
      '--pki-dir <dir>',
      "the cluster PKI directory (default: the inventory's pki.dir or the state dir)",
    )
    .option(
      '--new-ca',
      'CA rotation: phase 1 (trust old + new CA everywhere), run again for phase 2 (every leaf under the new CA)',
    )
    .option('--finish', 'CA rotation, last phase: remove the old CA everywhere')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { rotateCommand } = await import('./rotate.js');
      setExit(
        await rotateCommand(opts as unknown as RotateFlagsShape, cmd.optsWithGlobals<GlobalOptions>(), io),
      );
    });

  program
    .command('rollback')
    .description(
      'undo a finished run from its journal: restore every file it changed, reload, check each node answers',
    )
    .argument('<run-id>', 'the run id apply printed (also the directory name under <state-dir>/runs)')
    .option('-i, --inventory <file>', 'inventory (default: the one the run used)')
    .action(async (runId: string, opts: { inventory?: string }, cmd: Command) => {
      const { rollbackCommand } = await import('./rollback.js');
      setExit(await rollbackCommand(runId, opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });

  program
    .command('resume')
    .description(
      'continue an interrupted run under its id: skip what it finished, undo its half-done steps, run the rest (--yes to confirm)',
    )
    .argument('<run-id>', 'the run id apply printed (also the directory name under <state-dir>/runs)')
    .option('-i, --inventory <file>', 'inventory (default: the one the run used)')
    .action(async (runId: string, opts: { inventory?: string }, cmd: Command) => {
      const { resumeCommand } = await import('./resume.js');
      setExit(await resumeCommand(runId, opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });

  program
    .command('init')
    .description('write an inventory from flags or from ~/.ssh/config')
    .option('-o, --out <file>', 'where to write it', 'inventory.yaml')
    .option('--cluster <name>', 'cluster name', 'main')
    .addOption(
      new Option('--topology <topology>', 'cluster topology')
        .choices(['streaming', 'pg_auto_failover', 'pgpool', 'pgdog', 'pgd'])
        .default('streaming'),
    )
    .option('--network <cidr...>', 'CIDRs that hba rules allow (clients, peers)')
    .option(
      '--node <spec...>',
      'a node as NAME=HOST[:ROLE]; repeatable (the first is the primary unless roles are given)',
    )
    .option(
      '--from-ssh-config [pattern]',
      'take nodes from the Host entries of ~/.ssh/config (optionally matching a glob)',
    )
    .option('--ssh-config <file>', 'ssh config to read (default ~/.ssh/config)')
    .option('--from-pg-autoctl <host>', 'read a pg_auto_failover formation from its monitor')
    .option('--ssh-user <user>', 'SSH login user for every node')
    .option('--identity-file <file>', 'SSH private key for every node')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against')
    .option('--os-user <user>', 'PostgreSQL OS user on the nodes', 'postgres')
    .option('--force', 'overwrite an existing file')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { initCommand } = await import('./init.js');
      setExit(await initCommand(opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });

  const certs = program
    .command('certs')
    .description('the cluster CA and its certificates: issue, inspect, lint, revoke (SPEC §6)');
  certs
    .command('issue')
    .description(
      'create (or reuse) the CA and issue a server certificate per node and client certificates per role',
    )
    .requiredOption('-i, --inventory <file>', 'inventory YAML')
    .option('--out <dir>', 'output directory (default: the cluster PKI dir)')
    .option('--client <role>', 'also issue a client certificate for ROLE (repeatable)', collect, [])
    .addOption(
      new Option('--key-type <type>', 'key algorithm')
        .choices(['p256', 'p384', 'rsa3072', 'rsa4096'])
        .default('p256'),
    )
    .option('--days <n>', 'validity of leaf certificates in days', '365')
    .option(
      '--ca-passphrase-file <file>',
      'encrypt a new CA key (or decrypt the existing one) with this passphrase',
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { certsIssueCommand } = await import('./certs-issue.js');
      setExit(await certsIssueCommand(opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });
  certs
    .command('inspect')
    .description(
      'show certificates: subject, SANs, key, signature, validity, issuer, serial, fingerprint, EKU',
    )
    .argument('<files...>', 'PEM certificate or chain files')
    .action(async (files: string[], _opts: Record<string, unknown>, cmd: Command) => {
      const { certsInspectCommand } = await import('./certs-inspect.js');
      setExit(await certsInspectCommand(files, cmd.optsWithGlobals<GlobalOptions>(), io));
    });
  certs
    .command('lint')
    .description('check certificates against the rules of SPEC §6; exit 3 when any finding is an error')
    .argument('<files...>', 'PEM certificate or chain files')
    .addOption(
      new Option('--profile <profile>', 'rule set')
        .choices(['postgres', 'rustls', 'pgdog', 'fips'])
        .default('postgres'),
    )
    .option('--ca <file>', 'CA certificate(s) the chain must verify to')
    .option('--key <file>', 'private key that must match the certificate')
    .option('--host <name>', 'name or IP that clients use with sslmode=verify-full (repeatable)', collect, [])
    .option('--passphrase-file <file>', 'passphrase of an encrypted key')
    .action(async (files: string[], opts: Record<string, unknown>, cmd: Command) => {
      const { certsLintCommand } = await import('./certs-lint.js');
      setExit(await certsLintCommand(files, opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });
  certs
    .command('revoke')
    .description("add a certificate to the CA's CRL")
    .argument('<target>', 'certificate file, or a node/role name in the PKI directory')
    .option('-i, --inventory <file>', 'inventory (its cluster PKI dir holds the CA)')
    .option('--dir <dir>', 'PKI directory holding root.crt/root.key')
    .addOption(
      new Option('--reason <reason>', 'revocation reason').choices(REVOCATION_REASONS).default('unspecified'),
    )
    .option('--ca-passphrase-file <file>', 'passphrase of an encrypted CA key')
    .action(async (target: string, opts: Record<string, unknown>, cmd: Command) => {
      const { certsRevokeCommand } = await import('./certs-revoke.js');
      setExit(await certsRevokeCommand(target, opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });
  certs
    .command('crl')
    .description("print the CA's certificate revocation list")
    .option('-i, --inventory <file>', 'inventory (its cluster PKI dir holds the CA)')
    .option('--dir <dir>', 'PKI directory holding root.crt and root.crl')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { certsCrlCommand } = await import('./certs-revoke.js');
      setExit(await certsCrlCommand(opts, cmd.optsWithGlobals<GlobalOptions>(), io));
    });

  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit (bin sets process.exitCode). */
export async function main(argv: string[], io: CliIo): Promise<ExitCode> {
  let code: ExitCode = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    const mode = detectMode(io.env, io, {});
    if (mode.ui === 'wizard' && io.terminal !== undefined) {
      // Before Ink (and chalk) load: @inkjs/ui's colours follow FORCE_COLOR, ours follow mode.color.
      if (!mode.color) io.env['FORCE_COLOR'] = '0';
      const { runWizard } = await import('../screens/run-wizard.js');
      return runWizard({ env: io.env, color: mode.color, ...io.terminal });
    }
    program.outputHelp({ error: true });
    io.stderr.write(`\nNo command given and no wizard (${mode.why ?? 'no terminal'}): pass a command.\n`);
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return 0;
      }
      return 2;
    }
    return report(err, io.stderr);
  }
  return code;
}

export function usageError(message: string, hint?: string): UsageError {
  return new UsageError('usage', message, hint);
}
