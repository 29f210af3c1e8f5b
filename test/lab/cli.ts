// `npm run lab -- up streaming|pg_auto_failover|pgpool [--nodes N]`, `down [VARIANT|all]`, `status`, `demo`.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { execa } from 'execa';
import { passwordEnvVar } from '../../src/verify/credentials.js';
import { installPackages } from './install.js';
import { down, downAll, isUp, readLab, up } from './lab.js';
import { VARIANTS, isVariant } from './paths.js';
import type { LabVariant } from './types.js';

const USAGE = `usage: tsx test/lab/cli.ts <command>
  up streaming|pg_auto_failover|pgpool [--nodes N]   fresh lab (streaming: N = 2..9, default 3)
  down [VARIANT|all]                                 stop by pid and remove (default: all)
  status                                             JSON: every variant, up or not, with its paths
  demo                                               install, up streaming, run \`pgharden audit\` on it,
                                                     then (in a terminal) the wizard on it`;

class UsageError extends Error {}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function variantArg(arg: string | undefined): LabVariant {
  if (arg === undefined || !isVariant(arg)) throw new UsageError(`expected one of ${VARIANTS.join(', ')}`);
  return arg;
}

function nodesFlag(args: string[]): number | undefined {
  const i = args.indexOf('--nodes');
  if (i === -1) return undefined;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n)) throw new UsageError('--nodes needs a number');
  return n;
}

async function status(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const v of VARIANTS) {
    const lab = await readLab(v);
    out[v] =
      lab === undefined
        ? { up: false }
        : {
            up: await isUp(v),
            upMs: lab.upMs,
            inventory: lab.inventoryPath,
            identityFile: lab.identityFile,
            knownHosts: lab.knownHostsPath,
            secrets: lab.secretsPath,
            nodes: lab.nodes.map((n) => ({ name: n.name, host: n.host, role: n.role, osUser: n.osUser })),
            poolers: lab.poolers.map((p) => ({ name: p.name, host: p.host, port: p.port, osUser: p.osUser })),
          };
  }
  return out;
}

/** The wizard needs a person: both ends a terminal, not CI, not a dumb terminal. */
function interactive(): boolean {
  return (
    process.stdin.isTTY === true &&
    process.stdout.isTTY === true &&
    process.env['CI'] !== 'true' &&
    process.env['TERM'] !== 'dumb'
  );
}

async function demo(): Promise<number> {
  const bin = 'dist/pgharden.mjs';
  if (!existsSync(bin)) throw new UsageError(`${bin} is missing: run \`npm run demo\` (it builds first)`);
  await installPackages({ log: say });
  const lab = await up('streaming', { log: say });
  say(
    `lab: ${lab.nodes.length}-node streaming cluster up (deliberately insecure). ` +
      `Inventory ${lab.inventoryPath}, key ${lab.identityFile}, known_hosts ${lab.knownHostsPath}, secrets ${lab.secretsPath}`,
  );
  say(`lab: running node ${bin} audit -i ${lab.inventoryPath}`);
  const r = await execa('node', [bin, 'audit', '-i', lab.inventoryPath], { stdio: 'inherit', reject: false });
  // Exit 3 is the audit doing its job on a deliberately insecure lab: the demo succeeded.
  if (r.exitCode === 3 && interactive()) {
    // A person at a terminal: walk them through hardening this lab in the wizard. It starts in the
    // lab's operator directory, where it finds the inventory; the lab's passwords go in through the
    // environment (never argv) so the md5 → SCRAM reset needs no typing.
    say('lab: starting the wizard on this lab (Ctrl-C to leave; the lab stays up)');
    const env = Object.fromEntries(
      Object.entries(lab.passwords).map(([role, pw]) => [passwordEnvVar(role), pw]),
    );
    const w = await execa('node', [resolve(bin)], {
      stdio: 'inherit',
      reject: false,
      cwd: dirname(lab.inventoryPath),
      env,
    });
    return w.exitCode ?? 1;
  }
  if (r.exitCode === 3) {
    say(
      'lab: audit exit 3 = findings of high severity, as expected for this lab. ' +
        `Next: node ${bin} audit -i ${lab.inventoryPath} --json, or node ${bin} certs issue -i ${lab.inventoryPath}. ` +
        '`npm run lab -- down all` removes the lab.',
    );
    return 0;
  }
  return r.exitCode ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  switch (command) {
    case 'up': {
      const variant = variantArg(rest[0]);
      const nodes = nodesFlag(rest);
      const lab = await up(variant, { ...(nodes === undefined ? {} : { nodes }), log: say });
      process.stdout.write(
        `${JSON.stringify({ variant, inventory: lab.inventoryPath, nodes: lab.nodes.length })}\n`,
      );
      return 0;
    }
    case 'down': {
      const which = rest[0] ?? 'all';
      if (which === 'all') await downAll();
      else await down(variantArg(which));
      return 0;
    }
    case 'status':
      process.stdout.write(`${JSON.stringify(await status(), null, 2)}\n`);
      return 0;
    case 'demo':
      return demo();
    default:
      throw new UsageError(command === '' ? 'no command' : `unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      say(`lab: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      say(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    }
  },
);
