// The only contract between the engine and its views (Ink screens, plain text, --json lines).
// Plain JSON-safe data: no callbacks, no Error objects, never a secret.
import type { Severity } from './severity.js';

export interface Finding {
  /** Stable id, e.g. `ssl.off`, `hba.md5`. Scripts match on it. */
  id: string;
  severity: Severity;
  /** Node or pooler name; `cluster` for findings about the whole cluster. */
  node: string;
  message: string;
  /** What pgharden would do about it (the step that fixes it). */
  fix: string;
  /** Where it was seen, e.g. `/etc/postgresql/15/main/pg_hba.conf:92`. */
  where?: string | undefined;
}

export type EngineEvent =
  | { type: 'run:started'; command: string; cluster: string; nodes: string[] }
  | { type: 'node:connecting'; node: string; host: string; port: number }
  | { type: 'node:connected'; node: string; hostKey: string; keyType: string; ms: number }
  | { type: 'node:failed'; node: string; error: { code: string; message: string; hint?: string | undefined } }
  | { type: 'preflight:done'; node: string; ms: number; summary: string }
  | { type: 'finding'; finding: Finding }
  | { type: 'step:started'; node: string; step: string }
  | { type: 'step:output'; node: string; step: string; line: string }
  | {
      type: 'step:done';
      node: string;
      step: string;
      ms: number;
      /** already-done: check() found nothing to do; done-before-resume: the run did it before it was resumed. */
      skipped?: 'already-done' | 'done-before-resume';
    }
  | { type: 'step:failed'; node: string; step: string; error: { message: string; hint?: string | undefined } }
  | { type: 'verify:row'; node: string; check: string; ok: boolean; value: string }
  | { type: 'rollback:started'; node: string; steps: string[]; reason: string }
  | { type: 'rollback:step'; node: string; step: string; ok: boolean }
  | { type: 'rollback:done'; node: string; ms: number }
  | {
      type: 'rollback:failed';
      node: string;
      error: { code: string; message: string; hint?: string | undefined };
    }
  | { type: 'node:disconnected'; node: string; error: { code: string; message: string } }
  | { type: 'warning'; node?: string | undefined; message: string }
  /** Only with PGHARDEN_TEST_PAUSE_AT (engine/pause-point.ts): the run waits for SIGUSR2. */
  | { type: 'test:paused'; node: string; step: string };

export type EngineListener = (event: EngineEvent) => void;

export interface EventSource {
  subscribe(listener: EngineListener): () => void;
}

/**
 * An event bus that queues events emitted before the first subscriber and drains them to it, so
 * nothing the engine says before a view mounts is lost.
 */
export class EventBus implements EventSource {
  readonly #listeners = new Set<EngineListener>();
  #queue: EngineEvent[] | undefined = [];

  emit(event: EngineEvent): void {
    if (this.#queue !== undefined) {
      this.#queue.push(event);
      return;
    }
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(listener: EngineListener): () => void {
    this.#listeners.add(listener);
    const queued = this.#queue;
    if (queued !== undefined) {
      this.#queue = undefined;
      for (const event of queued) listener(event);
    }
    return () => this.#listeners.delete(listener);
  }
}
