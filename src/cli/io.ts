// What a command handler may touch of the outside world; bin passes the real ones, tests fakes.
import type { FirstFrame } from '../screens/first-frame.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  stdinTTY: boolean;
  stdoutTTY: boolean;
  /** The real terminal, for the wizard (bin passes process.stdin/stdout); absent in tests. */
  terminal?:
    | {
        stdin: NodeJS.ReadStream;
        stdout: NodeJS.WriteStream;
        stderr: NodeJS.WriteStream;
        /** The welcome screen bin already painted without Ink (src/screens/first-frame.ts). */
        firstFrame?: FirstFrame | undefined;
      }
    | undefined;
}

export interface GlobalOptions {
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
  stateDir?: string;
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  secrets?: string;
}
