import type { Dispatch, WizardState } from '../wizard/state.js';

/** Every screen: renders state, dispatches intents; `active` is false while a prompt has the keyboard. */
export interface ScreenProps {
  state: WizardState;
  dispatch: Dispatch;
  active: boolean;
}
