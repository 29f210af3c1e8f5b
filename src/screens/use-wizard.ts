// The one React binding of the wizard controller: re-render when its state object changes.
import { useSyncExternalStore } from 'react';
import type { WizardController } from '../wizard/controller.js';
import type { WizardState } from '../wizard/state.js';

export function useWizard(controller: WizardController): WizardState {
  return useSyncExternalStore(controller.subscribe, controller.getState, controller.getState);
}
