// The bin. Static imports here are the only code compiled before the first wizard frame: a bare
// `pgharden` in a terminal paints the welcome screen first (src/screens/first-frame.ts), then loads the
// CLI (commander, ~2 ms) and, through it, Ink and the engine from their own chunks (scripts/build.mjs).
import { paintFirstFrame } from '../src/screens/first-frame.js';

const argv = process.argv.slice(2);
const firstFrame =
  argv.length === 0
    ? paintFirstFrame({ env: process.env, stdin: process.stdin, stdout: process.stdout })
    : undefined;
const { main } = await import('../src/cli/main.js');
const code = await main(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdinTTY: process.stdin.isTTY === true,
  stdoutTTY: process.stdout.isTTY === true,
  terminal: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, firstFrame },
});
// Set, don't call process.exit(): stdout must drain (the --json summary is the last line).
process.exitCode = code;
