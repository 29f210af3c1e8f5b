import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../events.js';
import { parsePausePoint, pauseBeforeApply, PAUSE_ENV } from './pause-point.js';

describe('parsePausePoint', () => {
  it.each([
    ['pg1:tls.enable-ssl', { node: 'pg1', step: 'tls.enable-ssl' }],
    [undefined, undefined],
    ['', undefined],
    ['pg1', undefined],
    [':tls.reload', undefined],
    ['pg1:', undefined],
  ])('%s', (value, want) => {
    expect(parsePausePoint(value)).toEqual(want);
  });
});

describe('pauseBeforeApply', () => {
  const env = { [PAUSE_ENV]: 'pg3:tls.reload' };

  it('is inert for another node or step: returns at once, says nothing', async () => {
    const events: EngineEvent[] = [];
    const signal = new AbortController().signal;
    await pauseBeforeApply('pg1', 'tls.reload', (e) => events.push(e), signal, env);
    await pauseBeforeApply('pg3', 'tls.enable-ssl', (e) => events.push(e), signal, env);
    await pauseBeforeApply('pg3', 'tls.reload', (e) => events.push(e), signal, {});
    expect(events).toEqual([]);
  });

  it('at its step: says test:paused, then waits for SIGUSR2', async () => {
    const events: EngineEvent[] = [];
    let resumed = false;
    const paused = pauseBeforeApply(
      'pg3',
      'tls.reload',
      (e) => {
        events.push(e);
        // Sent the way the matrix sends it: on seeing the event.
        setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 30);
      },
      new AbortController().signal,
      env,
    ).then(() => (resumed = true));
    expect(events).toEqual([{ type: 'test:paused', node: 'pg3', step: 'tls.reload' }]);
    await new Promise((r) => setTimeout(r, 10));
    expect(resumed).toBe(false);
    await paused;
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('an abort ends the wait too', async () => {
    const ac = new AbortController();
    const paused = pauseBeforeApply('pg3', 'tls.reload', () => ac.abort(), ac.signal, env);
    await paused;
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
