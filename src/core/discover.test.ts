import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { choosePostmaster, DISCOVER_SCRIPT, parseDiscovery, type Postmaster } from './discover.js';

const pm = (dataDir: string, port: number): Postmaster => ({
  pid: 10,
  binDir: '/usr/lib/postgresql/15/bin',
  dataDir,
  port,
  socketDir: '/run/postgresql',
  psqlVersion: 'psql (PostgreSQL) 15.20',
});

describe('discovery script', () => {
  it('is valid sh and runs without a postgres of this user', () => {
    execFileSync('sh', ['-n'], { input: DISCOVER_SCRIPT });
    const out = execFileSync('sh', ['-s'], {
      input: DISCOVER_SCRIPT,
      env: { PATH: process.env['PATH'] },
    }).toString();
    expect(out).toMatch(/^whoami\t\S+\n/);
  });

  it('parses postmaster lines', () => {
    const out =
      'whoami\tpostgres\n' +
      'postmaster\t4479\t/usr/lib/postgresql/15/bin/postgres\t/var/lib/pg/data\t5432\t/run/pg\tpsql (PostgreSQL) 15.20\n';
    expect(parseDiscovery(out)).toEqual({
      whoami: 'postgres',
      postmasters: [
        {
          pid: 4479,
          binDir: '/usr/lib/postgresql/15/bin',
          dataDir: '/var/lib/pg/data',
          port: 5432,
          socketDir: '/run/pg',
          psqlVersion: 'psql (PostgreSQL) 15.20',
        },
      ],
    });
  });
});

describe('choosePostmaster', () => {
  const two = [pm('/a', 5432), pm('/b', 5433)];
  it.each([
    [[pm('/a', 5432)], {}, '/a'],
    [two, { port: 5433 }, '/b'],
    [two, { dataDir: '/a/' }, '/a'],
  ])('%#', (found, want, dataDir) => {
    const r = choosePostmaster(found, want);
    expect('postmaster' in r && r.postmaster.dataDir).toBe(dataDir);
  });

  it.each([
    [[], {}, /no running PostgreSQL server owned by this OS user/],
    [two, {}, /several PostgreSQL servers run here .* set pg\.dataDir or pg\.port/],
    [
      two,
      { port: 6000 },
      /no running PostgreSQL server with port 6000; found \/a \(port 5432\), \/b \(port 5433\)/,
    ],
  ])('problem %#', (found, want, message) => {
    const r = choosePostmaster(found, want);
    expect('problem' in r && r.problem).toMatch(message);
  });
});
