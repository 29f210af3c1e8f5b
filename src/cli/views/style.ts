import { styleText } from 'node:util';
import type { Severity } from '../../core/severity.js';

type Format = Parameters<typeof styleText>[0];

export interface Style {
  (format: Format, text: string): string;
}

/** styleText, or identity when colour is off (NO_COLOR, --no-color, not a TTY). */
export function makeStyle(color: boolean): Style {
  return color ? (format, text) => styleText(format, text) : (_format, text) => text;
}

export const SEVERITY_FORMAT: Record<Severity, Format> = {
  critical: ['bold', 'red'],
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'gray',
};
