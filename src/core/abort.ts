// The abort controller of one run or operation. Its one signal is shared by every remote command
// (all nodes side by side, each exec listening for an abort), so more than Node's default 10 abort
// listeners is normal; Node's warning about it would land on stderr, which scripts read and which
// the wizard's Ink frame shares.
import { setMaxListeners } from 'node:events';

export function runAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(1000, controller.signal);
  return controller;
}
