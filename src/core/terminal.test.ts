import { describe, expect, it } from 'vitest';
import { detectMode } from './terminal.js';

const tty = { stdinTTY: true, stdoutTTY: true };

describe('detectMode', () => {
  it.each([
    ['TTY', {}, tty, {}, 'wizard', true, undefined],
    ['--json', {}, tty, { json: true }, 'headless', false, '--json'],
    ['stdin not a TTY', {}, { stdinTTY: false, stdoutTTY: true }, {}, 'headless', true, 'not a TTY'],
    ['stdout piped', {}, { stdinTTY: true, stdoutTTY: false }, {}, 'headless', false, 'not a TTY'],
    ['CI=true', { CI: 'true' }, tty, {}, 'headless', true, 'CI'],
    ['CI=0 is not CI', { CI: '0' }, tty, {}, 'wizard', true, undefined],
    ['TERM=dumb', { TERM: 'dumb' }, tty, {}, 'headless', false, 'TERM=dumb'],
    ['NO_COLOR', { NO_COLOR: '1' }, tty, {}, 'wizard', false, undefined],
    ['empty NO_COLOR is ignored', { NO_COLOR: '' }, tty, {}, 'wizard', true, undefined],
    ['--no-color', {}, tty, { color: false }, 'wizard', false, undefined],
    [
      'FORCE_COLOR into a pipe',
      { FORCE_COLOR: '1' },
      { stdinTTY: false, stdoutTTY: false },
      {},
      'headless',
      true,
      'not a TTY',
    ],
  ] as const)('%s', (_name, env, io, flags, ui, color, why) => {
    expect(detectMode(env, io, flags)).toEqual({ ui, color, why });
  });
});
