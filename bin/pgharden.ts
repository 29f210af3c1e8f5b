import { main } from '../src/cli/main.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdinTTY: process.stdin.isTTY === true,
  stdoutTTY: process.stdout.isTTY === true,
  terminal: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
});
// Set, don't call process.exit(): stdout must drain (the --json summary is the last line).
process.exitCode = code;
