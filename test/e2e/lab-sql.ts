// Reading a lab node the way the operator's DBA would: psql over its socket as its OS user. Used by
// the e2e files that harden the lab and check what changed.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Lab, LabNode } from '../lab/types.js';

export function sql(node: LabNode, query: string): string {
  return execFileSync(
    'runuser',
    [
      '-u',
      node.osUser,
      '--',
      `${node.binDir}/psql`,
      '-XAtq',
      '-h',
      node.socketDir,
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      query,
    ],
    { encoding: 'utf8' },
  ).trim();
}

export const primaryOf = (lab: Lab): LabNode => lab.nodes.find((n) => n.role === 'primary') as LabNode;

/** The files a hardening run edits on every node: they must come back byte for byte. */
export const confFiles = (lab: Lab): string[] =>
  lab.nodes.flatMap((n) =>
    ['postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf'].map((f) => join(n.dataDir, f)),
  );

/** Standbys streaming from the primary, after waiting up to 10 s (a rollback reconnects them). */
export async function streamingStandbys(lab: Lab): Promise<string> {
  const want = String(lab.nodes.filter((n) => n.role === 'standby').length);
  let n = '';
  for (let i = 0; i < 100 && n !== want; i++) {
    n = sql(primaryOf(lab), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
    if (n !== want) await new Promise((r) => setTimeout(r, 100));
  }
  return n;
}

/** The lab inventory with its PKI directory set, written into `dir`. */
export async function labInventory(lab: Lab, dir: string, name: string, pkiDir: string): Promise<string> {
  const inv = parse(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  inv['pki'] = { dir: pkiDir };
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, stringify(inv));
  return path;
}

/** `apply --yes --json` of a lab inventory with the lab's secrets file, as the e2e files run it. */
export function labApplyArgs(lab: Lab, inventory: string, stateDir: string, auth = 'scram'): string[] {
  return [
    'apply',
    '-i',
    inventory,
    '--auth',
    auth,
    '--secrets',
    lab.secretsPath,
    '--yes',
    '--state-dir',
    stateDir,
    '--json',
  ];
}
