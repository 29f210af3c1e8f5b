// Headless machine view: one JSON object per line on stdout; the last line is the summary.
import type { EngineEvent } from '../../core/events.js';
import { scrubSecrets } from '../../core/redact.js';

/** One `--json` line: the shape every headless view uses. Known secret values are scrubbed. */
export function jsonLine(out: NodeJS.WritableStream, obj: object, secrets: Iterable<string> = []): void {
  out.write(`${scrubSecrets(JSON.stringify({ v: 1, ts: new Date().toISOString(), ...obj }), secrets)}\n`);
}

export function jsonLinesView(out: NodeJS.WritableStream, secrets: () => Iterable<string> = () => []) {
  return {
    onEvent: (event: EngineEvent): void => jsonLine(out, event, secrets()),
    summary: (summary: { command: string; exitCode: number; [key: string]: unknown }): void =>
      jsonLine(out, { type: 'summary', ...summary }, secrets()),
  };
}
