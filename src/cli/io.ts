// What a command handler may touch of the outside world; bin passes the real ones, tests fakes.
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  stdinTTY: boolean;
  stdoutTTY: boolean;
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
