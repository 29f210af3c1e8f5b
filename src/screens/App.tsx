// Binds the controller to the view; reports the exit code once the controller sets it.
import { useEffect } from 'react';
import type { ExitCode } from '../core/errors.js';
import type { WizardController } from '../wizard/controller.js';
import { useWizard } from './use-wizard.js';
import { WizardView } from './WizardView.js';

export function App({
  controller,
  onExit,
}: {
  controller: WizardController;
  onExit: (code: ExitCode) => void;
}) {
  const state = useWizard(controller);
  useEffect(() => {
    if (state.exitCode !== undefined) onExit(state.exitCode);
  }, [state.exitCode, onExit]);
  return <WizardView state={state} dispatch={controller.dispatch} />;
}
