import chalk from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { ColorContext } from './theme.js';
import { feed, TextField, type TextFieldProps } from './TextField.js';
import { KEY, tick } from './test-harness.js';

afterEach(cleanup);

async function field(props: Partial<TextFieldProps> = {}) {
  const submitted: string[] = [];
  const r = render(
    <ColorContext.Provider value={false}>
      <TextField onSubmit={(v) => submitted.push(v)} {...props} />
    </ColorContext.Provider>,
  );
  await tick();
  return {
    ...r,
    submitted,
    frame: (): string => r.lastFrame() ?? '',
    /** Each argument is ONE stdin write (one chunk, as a paste arrives). */
    write: async (...chunks: string[]): Promise<void> => {
      for (const c of chunks) {
        r.stdin.write(c);
        await tick();
      }
    },
  };
}

describe('TextField', () => {
  it('a paste of `path⏎` in one chunk submits the path (not an empty or stale value)', async () => {
    const f = await field({ placeholder: 'inventory.yaml' });
    await f.write('/tmp/inv.yaml\r');
    expect(f.submitted).toEqual(['/tmp/inv.yaml']);
  });

  it('typed characters, then Enter', async () => {
    const f = await field();
    await f.write('a', 'b', 'c');
    expect(f.frame()).toContain('abc');
    await f.write(KEY.enter);
    expect(f.submitted).toEqual(['abc']);
  });

  it('backspace (DEL and ^H), Ctrl-U clears, left/right move the cursor', async () => {
    const f = await field();
    await f.write('abcd', '\u007F', '\b');
    expect(f.frame()).toContain('ab');
    expect(f.frame()).not.toContain('abc');
    await f.write('\u0015');
    expect(f.frame()).not.toContain('ab');
    await f.write('xz', KEY.left, 'y', KEY.right, '!', KEY.enter);
    expect(f.submitted).toEqual(['xyz!']);
  });

  it('bracketed paste markers are stripped, whole or split by the terminal parser', async () => {
    const f = await field();
    await f.write('\u001B[200~/etc/pki\u001B[201~\r');
    expect(f.submitted).toEqual(['/etc/pki']);
    cleanup();
    const g = await field();
    await g.write('\u001B[200~', 'b.yaml', '\u001B[201~', KEY.enter);
    expect(g.submitted).toEqual(['b.yaml']);
  });

  it('shows the placeholder while empty and the default value otherwise', async () => {
    expect((await field({ placeholder: '~/pki/prod' })).frame()).toContain('~/pki/prod');
    cleanup();
    const f = await field({ defaultValue: 'main.yaml' });
    expect(f.frame()).toContain('main.yaml');
    await f.write(KEY.enter);
    expect(f.submitted).toEqual(['main.yaml']);
  });

  it('mask: no frame ever shows the secret, only •; the field is empty after submit', async () => {
    const f = await field({ mask: true, placeholder: 'passphrase' });
    await f.write('s3cr', 'et-pw');
    expect(f.frame()).toContain('•••••••••');
    await f.write('\u007F', 'W\r');
    expect(f.submitted).toEqual(['s3cret-pW']);
    expect(f.frame()).toContain('passphrase'); // emptied
    for (const frame of f.frames) {
      for (const part of ['s3cr', 'et-pw', 's3cret', 'pW']) expect(frame).not.toContain(part);
    }
  });

  it('Esc, arrows up/down and Ctrl-C are not text', async () => {
    const f = await field();
    await f.write('a', KEY.escape, KEY.up, KEY.down, KEY.ctrlC, KEY.enter);
    expect(f.submitted).toEqual(['a']);
  });

  it('inactive: ignores keys', async () => {
    const f = await field({ active: false });
    await f.write('abc\r');
    expect(f.submitted).toEqual([]);
  });

  it('multiline: a pasted block keeps its lines; Enter on an empty line submits', async () => {
    const f = await field({ multiline: true });
    await f.write('pg1 127.0.1.11 primary\rpg2 127.0.1.12\r');
    expect(f.submitted).toEqual([]);
    expect(f.frame()).toContain('pg1 127.0.1.11 primary');
    expect(f.frame()).toContain('pg2 127.0.1.12');
    await f.write('pg3', KEY.enter, KEY.enter);
    expect(f.submitted).toEqual(['pg1 127.0.1.11 primary\npg2 127.0.1.12\npg3']);
  });
});

describe('feed', () => {
  it('stops at the first Enter of a chunk and returns what came before it', () => {
    const b = { chars: [] as string[], cursor: 0 };
    expect(feed(b, 'ab\u007Fc\rignored', false)).toBe('ac');
  });
});

describe('TextField and NO_COLOR', () => {
  const level = chalk.level;
  afterEach(() => {
    chalk.level = level;
  });

  it('without colour: no escape codes even where chalk could; a cursor inside the text is a bar', async () => {
    chalk.level = 1;
    const f = await field();
    await f.write('abc', KEY.left);
    expect(f.frame()).toContain('ab|c');
    expect(f.frames.join('')).not.toContain('\u001B[');
  });

  it('with colour: the cursor is the inverse character', async () => {
    chalk.level = 1;
    const submitted: string[] = [];
    const r = render(<TextField onSubmit={(v) => submitted.push(v)} />);
    await tick();
    r.stdin.write('abc');
    await tick();
    r.stdin.write(KEY.left);
    await tick();
    expect(r.lastFrame()).toContain('ab\u001B[7mc\u001B[27m');
  });
});
