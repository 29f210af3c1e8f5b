// The lab's state files: started.json (appended to while `up` runs) and lab.json (the finished Lab + pids).
import { readFile, rename } from 'node:fs/promises';
import { operatorPaths } from './paths.js';
import { writeOwned, type TrackedPid } from './proc.js';
import type { Lab, LabVariant } from './types.js';

/** What `down` needs to undo: processes started and addresses assigned. */
export interface Started {
  pids: TrackedPid[];
  addresses: string[];
}

/** lab.json: the public Lab plus what the lab started. */
export interface LabState extends Lab {
  pids: TrackedPid[];
  addresses: string[];
  upMs: number;
  startedAt: string;
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeOwned(tmp, `${JSON.stringify(value, null, 2)}\n`, 0o600);
  await rename(tmp, path);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Records each started process / assigned address at once, so a failed or killed `up` can be undone. */
export class StartedRecorder {
  readonly started: Started = { pids: [], addresses: [] };
  readonly #path: string;
  #writing: Promise<void> = Promise.resolve();

  constructor(variant: LabVariant) {
    this.#path = operatorPaths(variant).startedJson;
  }

  async pid(p: TrackedPid): Promise<void> {
    this.started.pids.push(p);
    await this.flush();
  }

  async address(a: string): Promise<void> {
    this.started.addresses.push(a);
    await this.flush();
  }

  /** Serialised writes: concurrent node bring-ups record in any order. */
  flush(): Promise<void> {
    const snapshot = JSON.parse(JSON.stringify(this.started)) as Started;
    this.#writing = this.#writing.then(() => writeJsonAtomic(this.#path, snapshot));
    return this.#writing;
  }
}

export async function readStarted(variant: LabVariant): Promise<Started | undefined> {
  return readJson<Started>(operatorPaths(variant).startedJson);
}

export async function writeLabState(state: LabState): Promise<void> {
  await writeJsonAtomic(operatorPaths(state.variant).labJson, state);
}

export async function readLabState(variant: LabVariant): Promise<LabState | undefined> {
  return readJson<LabState>(operatorPaths(variant).labJson);
}
