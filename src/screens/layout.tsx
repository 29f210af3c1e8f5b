// Two layout pieces so narrow terminals wrap deliberately: continuation lines stay under their text,
// never under a mark or back at column 0.
import { useEffect, useState, type ReactNode } from 'react';
import { Box, Text, useStdout } from 'ink';

type Wrap = 'wrap' | 'truncate-end' | 'truncate-middle';

/** A mark (✓ ✗ ! ❯ …) in its own column, and text that wraps (or is cut) beside it. */
export function Marked({
  mark,
  children,
  wrap = 'wrap',
  width,
}: {
  mark: ReactNode;
  children: ReactNode;
  wrap?: Wrap;
  /** Width of the mark column (default: the mark plus one space). */
  width?: number;
}) {
  return (
    <Box>
      <Box flexShrink={0} {...(width === undefined ? { marginRight: 1 } : { width })}>
        {typeof mark === 'string' ? <Text>{mark}</Text> : mark}
      </Box>
      <Text wrap={wrap}>{children}</Text>
    </Box>
  );
}

/** Text indented by `by` columns, its wrapped lines too. */
export function Indented({ by, children, wrap = 'wrap' }: { by: number; children: ReactNode; wrap?: Wrap }) {
  return (
    <Box paddingLeft={by}>
      <Text wrap={wrap}>{children}</Text>
    </Box>
  );
}

/** The terminal's width, following resizes (Ink itself only re-lays out; this re-renders). */
export function useColumns(): number {
  const { stdout } = useStdout();
  const [columns, setColumns] = useState(stdout.columns || 80);
  useEffect(() => {
    const resized = (): void => setColumns(stdout.columns || 80);
    stdout.on('resize', resized);
    resized();
    return () => {
      stdout.off('resize', resized);
    };
  }, [stdout]);
  return columns;
}
