// The painted first frame must be exactly what Ink renders for the initial state: otherwise the hand-off
// would visibly change the screen. Checked in colour and without, at the widths where bin paints it.
import chalk from 'chalk';
import { renderToString } from 'ink';
import { afterEach, describe, expect, it } from 'vitest';
import { initialState } from '../wizard/state.js';
import { firstFrameLines, paintFirstFrame } from './first-frame.js';
import { ColorContext } from './theme.js';
import { WizardView } from './WizardView.js';

const inkFrame = (color: boolean, columns: number): string =>
  renderToString(
    <ColorContext.Provider value={color}>
      <WizardView state={initialState()} dispatch={() => undefined} />
    </ColorContext.Provider>,
    { columns },
  );

const level = chalk.level;
afterEach(() => {
  chalk.level = level;
});

describe('first frame painted without Ink', () => {
  for (const columns of [74, 80, 100, 200]) {
    it(`equals Ink's welcome screen at ${columns} columns, in colour`, () => {
      chalk.level = 1;
      expect(firstFrameLines(true).join('\n')).toBe(inkFrame(true, columns));
    });
    it(`equals Ink's welcome screen at ${columns} columns, without colour`, () => {
      chalk.level = 0;
      expect(firstFrameLines(false).join('\n')).toBe(inkFrame(false, columns));
    });
  }

  // 74 columns: the widest line (the first note) fits exactly.
  const terminal = (columns: number, rows: number, env: NodeJS.ProcessEnv = { TERM: 'xterm' }) => {
    const written: string[] = [];
    const raw: boolean[] = [];
    const state = { isTTY: true, isRaw: false };
    const stdin = Object.assign(state, {
      setRawMode: (on: boolean) => {
        raw.push(on);
        state.isRaw = on;
        return stdin;
      },
    }) as unknown as NodeJS.ReadStream;
    const stdout = {
      isTTY: true,
      columns,
      rows,
      write: (s: string) => written.push(s) > 0,
    } as unknown as NodeJS.WriteStream;
    return { env, stdin, stdout, written, raw };
  };

  it('paints in a terminal wide and tall enough, in raw mode, and hands off with an erase', () => {
    const t = terminal(80, 24);
    const frame = paintFirstFrame(t);
    expect(frame?.lines).toBe(11);
    expect(t.raw).toEqual([true]);
    expect(t.written.join('')).toContain('What do you want to do?');
    expect(frame?.handOff()).toBe('\u001B[?2026h\u001B[11A\r\u001B[J');
  });

  it('paints nothing where Ink would wrap or scroll, or where there is no wizard', () => {
    for (const t of [
      terminal(73, 24),
      terminal(80, 11),
      terminal(80, 24, { TERM: 'dumb' }),
      terminal(80, 24, { CI: 'true', TERM: 'xterm' }),
    ]) {
      expect(paintFirstFrame(t)).toBeUndefined();
      expect(t.written).toEqual([]);
      expect(t.raw).toEqual([]);
    }
  });
});
