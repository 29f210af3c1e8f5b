// Entry of the interactive wizard (bare `pgharden` in a real terminal). The first frame is usually
// on screen already (painted by bin, src/screens/first-frame.ts); Ink's first render replaces it with
// the same frame. The engine adapter (ssh2, pg, @peculiar/x509, zod) is imported after it is on screen.
// Ctrl-C is ours (exitOnCtrlC: false): the wizard asks, then aborts. Raw mode is restored on every
// way out, exceptions included.
import { render } from 'ink';
import { ColorContext } from './theme.js';
import { App } from './App.js';
import { WizardController } from '../wizard/controller.js';
import type { ExitCode } from '../core/errors.js';
import type { WizardEngine } from '../wizard/port.js';
import type { FirstFrame } from './first-frame.js';

export interface WizardIo {
  env: NodeJS.ProcessEnv;
  color: boolean;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Painted by bin before Ink loaded: Ink's first render replaces it in one synchronized update. */
  firstFrame?: FirstFrame | undefined;
}

function restoreTerminal(stdin: NodeJS.ReadStream): void {
  if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
}

export async function runWizard(io: WizardIo): Promise<ExitCode> {
  let load: (engine: Promise<WizardEngine>) => void = () => undefined;
  const engine = new Promise<WizardEngine>((resolve) => (load = resolve));
  // An import failure surfaces in the first effect that needs the engine, as an error on screen.
  engine.catch(() => undefined);
  const controller = new WizardController(engine);
  const exitGuard = (): void => restoreTerminal(io.stdin);
  process.once('exit', exitGuard);
  const onSignal = (): void => controller.dispatch({ type: 'interrupt:request' });
  // In raw mode Ctrl-C arrives as a key; SIGINT only when someone sends it (kill -INT).
  process.on('SIGINT', onSignal);
  // A Node warning printed to stderr would land in the middle of Ink's frame and garble it: hold
  // them while the wizard owns the terminal and print them after it.
  const held: string[] = [];
  const warningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const holdWarning = (w: Error): void => void held.push(`${w.name}: ${w.message}`);
  process.on('warning', holdWarning);
  let instance: ReturnType<typeof render> | undefined;
  try {
    const code = await new Promise<ExitCode>((resolve, reject) => {
      if (io.firstFrame !== undefined) io.stdout.write(io.firstFrame.handOff());
      instance = render(
        <ColorContext.Provider value={io.color}>
          <App controller={controller} onExit={resolve} />
        </ColorContext.Provider>,
        { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, exitOnCtrlC: false, patchConsole: false },
      );
      instance.waitUntilExit().catch(reject);
      // After the first frame is out: the heavy half (engine adapter and what it imports).
      setImmediate(() => {
        load(import('../wizard/engine.js').then((m) => m.createEngine(io.env)));
        void controller.start();
      });
    });
    instance?.unmount();
    await instance?.waitUntilExit().catch(() => undefined);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('exit', exitGuard);
    process.off('warning', holdWarning);
    for (const l of warningListeners) process.on('warning', l);
    restoreTerminal(io.stdin);
    for (const w of held) io.stderr.write(`(node) ${w}\n`);
  }
}
