// Bring the real lab up once for all e2e files (they run serially) and tear it down after.
// PGHARDEN_LAB_REUSE=1 keeps a running lab between runs while developing.
import { installPackages } from '../lab/install.js';
import { down, isUp, up } from '../lab/lab.js';

export default async function setup(): Promise<() => Promise<void>> {
  const reuse = process.env['PGHARDEN_LAB_REUSE'] === '1';
  if (!(reuse && (await isUp('streaming')))) {
    await installPackages();
    const started = performance.now();
    await up('streaming');
    console.log(`lab streaming up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return async () => {
    if (!reuse) await down('streaming');
  };
}
