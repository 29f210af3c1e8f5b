// Colour for our own text, off under NO_COLOR / --no-color (the wizard also sets FORCE_COLOR=0 before
// Ink loads, so @inkjs/ui's components follow). Tones, not raw colours, so screens stay consistent.
import { createContext, useContext, type ReactNode } from 'react';
import { Text } from 'ink';

export const ColorContext = createContext(true);

export type ToneName = 'ok' | 'bad' | 'warn' | 'dim' | 'accent' | 'title';

const COLORS: Record<ToneName, { color?: string; dimColor?: boolean; bold?: boolean }> = {
  ok: { color: 'green' },
  bad: { color: 'red' },
  warn: { color: 'yellow' },
  dim: { dimColor: true },
  accent: { color: 'cyan' },
  title: { bold: true },
};

export function Tone({
  tone,
  children,
  wrap,
}: {
  tone: ToneName;
  children: ReactNode;
  wrap?: 'truncate-end';
}) {
  const color = useContext(ColorContext);
  const style = COLORS[tone];
  // Without colour, keep bold (not a colour) and drop the rest: the marks (✓ ✗ !) carry the meaning.
  const props = color ? style : { bold: style.bold };
  return (
    <Text {...props} {...(wrap ? { wrap } : {})}>
      {children}
    </Text>
  );
}

export const MARK = { ok: '✓', bad: '✗', warn: '!', wait: '·', undo: '↺' } as const;
