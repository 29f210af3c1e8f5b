// A small vertical menu: ↑/↓ (or j/k) to move, Enter to choose. Unlike @inkjs/ui's Select it fires on
// every Enter (also for the same item twice) and can show disabled items with a note.
import { useRef, useState } from 'react';
import { Box, useInput } from 'ink';
import { Indented, Marked } from './layout.js';
import { Tone } from './theme.js';

export interface MenuItem<T extends string> {
  value: T;
  label: string;
  /** One line under the label. */
  note?: string | undefined;
  /** Shown dimmed with the note; choosing it still fires (the reducer explains why not). */
  dim?: boolean | undefined;
}

export function Menu<T extends string>({
  items,
  onChoose,
  active = true,
  initial = 0,
}: {
  items: readonly MenuItem<T>[];
  onChoose: (value: T) => void;
  active?: boolean;
  /** Where the cursor starts (coming back to a menu: the item left from). */
  initial?: number;
}) {
  const [cursor, setCursorState] = useState(initial);
  // Keys can arrive in one chunk (↓↓⏎ typed ahead or pasted): Enter must see the moves before it.
  const at = useRef(initial);
  const setCursor = (next: number): void => {
    at.current = next;
    setCursorState(next);
  };
  useInput(
    (input, key) => {
      if (key.downArrow || input === 'j') setCursor(Math.min(items.length - 1, at.current + 1));
      else if (key.upArrow || input === 'k') setCursor(Math.max(0, at.current - 1));
      else if (key.return) {
        const item = items[at.current];
        if (item !== undefined) onChoose(item.value);
      }
    },
    { isActive: active },
  );
  return (
    <Box flexDirection="column">
      {items.map((item, i) => (
        <Box key={item.value} flexDirection="column">
          <Marked width={2} mark={i === cursor ? <Tone tone="accent">❯ </Tone> : ''}>
            {item.dim ? <Tone tone="dim">{item.label}</Tone> : item.label}
          </Marked>
          {item.note ? (
            <Indented by={4}>
              <Tone tone="dim">{item.note}</Tone>
            </Indented>
          ) : null}
        </Box>
      ))}
    </Box>
  );
}
