import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../core/inventory.js';
import { parseNodeFlag } from './init.js';
import { main } from './main.js';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: '', err: '' };
  stdout.on('data', (c: Buffer) => (chunks.out += c.toString()));
  stderr.on('data', (c: Buffer) => (chunks.err += c.toString()));
  const code = await main(argv, { stdout, stderr, env, stdinTTY: false, stdoutTTY: false });
  return { code, ...chunks };
}

describe('exit codes of the CLI surface', () => {
  it.each([
    [['--help'], 0],
    [['--version'], 0],
    [[], 2],
    [['frobnicate'], 2],
    [['audit'], 2],
    [['audit', '-i', '/nonexistent/inv.yaml'], 2],
    [['init', '--node', 'bad'], 2],
  ])('%j → %i', async (argv, code) => {
    expect((await run(argv)).code).toBe(code);
  });

  it('bare pgharden without a TTY prints help and says why there is no wizard', async () => {
    const r = await run([]);
    expect(r.err).toMatch(/Usage: pgharden/);
    expect(r.err).toMatch(/not a TTY/);
  });

  it.each([
    [{ CI: 'true' }, /\(CI\)/],
    [{ TERM: 'dumb' }, /\(TERM=dumb\)/],
  ])('bare pgharden in a TTY with %j stays headless: help, exit 2', async (env, why) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await main([], { stdout, stderr, env, stdinTTY: true, stdoutTTY: true });
    expect(code).toBe(2);
    expect(err).toMatch(/Usage: pgharden/);
    expect(err).toMatch(why);
  });

  it('a missing inventory file is a clear usage error', async () => {
    const r = await run(['audit', '-i', '/nonexistent/inv.yaml']);
    expect(r.err).toMatch(/cannot read inventory \/nonexistent\/inv\.yaml: no such file/);
  });

  it('--json prints a summary line even for bad input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgh-cli-'));
    await writeFile(join(dir, 'inv.yaml'), 'cluster: x\ntopology: nope\n');
    const r = await run(['audit', '--json', '-i', join(dir, 'inv.yaml')]);
    expect(r.code).toBe(2);
    const last = JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({
      type: 'summary',
      command: 'audit',
      exitCode: 2,
      error: { code: 'inventory.invalid' },
    });
  });
});

describe('pgharden init', () => {
  it.each([
    ['pg1=10.0.0.11', { name: 'pg1', host: '10.0.0.11' }],
    ['pg2=10.0.0.12:standby', { name: 'pg2', host: '10.0.0.12', role: 'standby' }],
    ['v6=[fd00::1]:primary', { name: 'v6', host: 'fd00::1', role: 'primary' }],
  ])('--node %s', (spec, expected) => {
    expect(parseNodeFlag(spec)).toEqual(expected);
  });

  it('writes an inventory that loads, and refuses to overwrite it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgh-init-'));
    const out = join(dir, 'inv.yaml');
    const args = [
      'init',
      '-o',
      out,
      '--cluster',
      'prod',
      '--network',
      '10.0.0.0/24',
      '--node',
      'pg1=10.0.0.11',
      '--node',
      'pg2=10.0.0.12',
    ];
    expect((await run(args)).code).toBe(0);
    const inv = parseInventory(await readFile(out, 'utf8'), out);
    expect(inv.nodes.map((n) => [n.name, n.role])).toEqual([
      ['pg1', 'primary'],
      ['pg2', 'standby'],
    ]);
    const again = await run(args);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/exists.*\n.*--force/);
  });

  it('takes nodes from an ssh config, keeping the alias as host so the config applies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgh-init-'));
    const config = join(dir, 'config');
    await writeFile(
      config,
      'Host db-*\n  User admin\nHost db-1\n  HostName 10.0.0.11\nHost db-2\n  HostName 10.0.0.12\nHost web\n  HostName 10.0.1.1\n',
    );
    const out = join(dir, 'inv.yaml');
    const r = await run([
      'init',
      '-o',
      out,
      '--network',
      '10.0.0.0/24',
      '--from-ssh-config',
      'db-*',
      '--ssh-config',
      config,
    ]);
    expect(r.code).toBe(0);
    const inv = parseInventory(await readFile(out, 'utf8'), out);
    expect(inv.nodes.map((n) => n.host)).toEqual(['db-1', 'db-2']);
  });
});
