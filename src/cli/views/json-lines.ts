// Headless machine view: one JSON object per line on stdout; the last line is the summary.
import type { EngineEvent } from '../../core/events.js';
import { scrubSecrets } from '../../core/redact.js';

export function jsonLinesView(out: NodeJS.WritableStream, secrets: () => Iterable<string> = () => []) {
  const write = (obj: object): void => {
    out.write(`${scrubSecrets(JSON.stringify({ v: 1, ts: new Date().toISOString(), ...obj }), secrets())}\n`);
  };
  return {
    onEvent: (event: EngineEvent): void => write(event),
    summary: (summary: { command: string; exitCode: number; [key: string]: unknown }): void =>
      write({ type: 'summary', ...summary }),
  };
}
