// Keys every screen shares: Esc (and q outside text entry) goes back, ? toggles help.
import { useInput } from 'ink';
import type { Dispatch } from '../wizard/state.js';

export function useScreenKeys(dispatch: Dispatch, active: boolean, textEntry = false): void {
  useInput(
    (input, key) => {
      if (key.escape || (!textEntry && input === 'q')) dispatch({ type: 'back' });
      else if (!textEntry && input === '?') dispatch({ type: 'help:toggle' });
    },
    { isActive: active },
  );
}
