// Our own text input. @inkjs/ui's TextInput submits the last *rendered* value, so a paste of `path⏎`
// that arrives as one chunk submits an empty or stale string. Here the text lives in a ref updated
// synchronously for every character of a chunk: an Enter inside the chunk submits what came before it.
// A masked field (secrets) renders `•` only, and its text is nowhere but in that ref: not in React
// state, not in props, and it is dropped on submit.
import { useContext, useReducer, useRef } from 'react';
import { Box, Text, useInput } from 'ink';
import { ColorContext, Tone } from './theme.js';

export interface TextFieldProps {
  onSubmit: (value: string) => void;
  /** Keys go to the field only while active (a prompt over the screen takes them). */
  active?: boolean | undefined;
  placeholder?: string | undefined;
  /** Starting text (not for masked fields). */
  defaultValue?: string | undefined;
  /** Render every character as `•`; the text never leaves the field except through onSubmit. */
  mask?: boolean | undefined;
  /**
   * Several lines: Enter (or a newline inside a paste) starts a new line; Enter on an empty line
   * submits the lines before it.
   */
  multiline?: boolean | undefined;
  /** Shown before the text (then a space), e.g. `›`. */
  prompt?: string | undefined;
}

interface Buffer {
  /** Code points, so a cursor never splits a surrogate pair. */
  chars: string[];
  cursor: number;
}

// Bracketed paste markers, whole (when a terminal sends them inside text) or as Ink parses them (ESC
// split off: the marker arrives as its own event `[200~`).
// eslint-disable-next-line no-control-regex -- ESC is what a paste marker starts with
const PASTE_MARKERS = /\u001B\[20[01]~/g;
const PASTE_EVENT = /^\[20[01]~$/;

export const MASK_CHAR = '•';

/** Apply one chunk of typed or pasted text to the buffer; returns the text submitted, if any. */
export function feed(buf: Buffer, chunk: string, multiline: boolean): string | undefined {
  for (const ch of chunk.replace(PASTE_MARKERS, '')) {
    if (ch === '\r' || ch === '\n') {
      if (!multiline) return buf.chars.join('');
      const line = currentLine(buf);
      if (line.trim() === '') return buf.chars.join('').replace(/\n+$/, '');
      insert(buf, '\n');
    } else if (ch === '\u007F' || ch === '\b') {
      backspace(buf);
    } else if (ch === '\u0015') {
      clear(buf);
    } else if (ch === '\t') {
      insert(buf, ' ');
    } else if (ch >= ' ') {
      insert(buf, ch);
    } // other control characters are dropped
  }
  return undefined;
}

function insert(buf: Buffer, ch: string): void {
  buf.chars.splice(buf.cursor, 0, ch);
  buf.cursor += 1;
}

function backspace(buf: Buffer): void {
  if (buf.cursor === 0) return;
  buf.chars.splice(buf.cursor - 1, 1);
  buf.cursor -= 1;
}

function clear(buf: Buffer): void {
  buf.chars = [];
  buf.cursor = 0;
}

function currentLine(buf: Buffer): string {
  const before = buf.chars.slice(0, buf.cursor).join('');
  return before.slice(before.lastIndexOf('\n') + 1);
}

export function TextField({
  onSubmit,
  active = true,
  placeholder,
  defaultValue,
  mask = false,
  multiline = false,
  prompt = '›',
}: TextFieldProps) {
  const initial = mask ? [] : [...(defaultValue ?? '')];
  const buf = useRef<Buffer>({ chars: initial, cursor: initial.length });
  // Re-render after a change; the text itself is read from the ref.
  const [, rerender] = useReducer((n: number) => n + 1, 0);

  useInput(
    (input, key) => {
      const b = buf.current;
      let submitted: string | undefined;
      if (key.ctrl) {
        if (input === 'u') clear(b);
        else if (input === 'a' && !multiline) b.cursor = 0;
        else if (input === 'e') b.cursor = b.chars.length;
        else return; // Ctrl-C and the rest belong to the wizard
      } else if (key.return) {
        submitted = feed(b, '\r', multiline);
      } else if (key.backspace || key.delete) {
        // Ink reports the Backspace key (DEL, 0x7f) as `delete`; both erase before the cursor.
        backspace(b);
      } else if (key.leftArrow || key.rightArrow || key.home || key.end) {
        // A multi-line field edits at its end only.
        if (multiline) return;
        if (key.leftArrow) b.cursor = Math.max(0, b.cursor - 1);
        else if (key.rightArrow) b.cursor = Math.min(b.chars.length, b.cursor + 1);
        else b.cursor = key.home ? 0 : b.chars.length;
      } else if (
        key.escape ||
        key.upArrow ||
        key.downArrow ||
        key.tab ||
        key.pageUp ||
        key.pageDown ||
        PASTE_EVENT.test(input)
      ) {
        return; // Esc is the screen's (back); paste markers carry no text
      } else {
        submitted = feed(b, input, multiline);
      }
      if (submitted !== undefined) {
        if (mask) clear(b); // the secret goes to onSubmit and nowhere else
        onSubmit(submitted);
      }
      rerender();
    },
    { isActive: active },
  );

  const color = useContext(ColorContext);
  const { chars, cursor } = buf.current;
  const shown = mask ? chars.map(() => MASK_CHAR) : chars;
  // The prompt in its own column: long text is cut or wrapped beside it, never over it.
  const head = (
    <Box flexShrink={0} marginRight={1}>
      <Text>{prompt}</Text>
    </Box>
  );
  if (shown.length === 0) {
    return (
      <Box>
        {head}
        {active && color ? <Text inverse> </Text> : null}
        {placeholder !== undefined ? <Tone tone="dim">{placeholder}</Tone> : null}
      </Box>
    );
  }
  if (multiline) {
    const lines = shown.join('').split('\n');
    return (
      <Box>
        {head}
        <Box flexDirection="column">
          {lines.map((line, i) => (
            <Text key={i} wrap="truncate-start">
              {line}
              {i === lines.length - 1 && active && color ? <Text inverse> </Text> : null}
            </Text>
          ))}
        </Box>
      </Box>
    );
  }
  const before = shown.slice(0, cursor).join('');
  const at = shown[cursor];
  const after = shown.slice(cursor + 1).join('');
  // Without colour (NO_COLOR: no inverse video either) a cursor inside the text is a bar before the
  // character it is on; at the end the text's end says where it is.
  const caret = !active ? (
    (at ?? '')
  ) : color ? (
    <Text inverse>{at ?? ' '}</Text>
  ) : at === undefined ? (
    ''
  ) : (
    `|${at}`
  );
  return (
    <Box>
      {head}
      {/* Long text keeps its end (where one types) in view on narrow terminals. */}
      <Text wrap="truncate-start">
        {before}
        {caret}
        {after}
      </Text>
    </Box>
  );
}
