import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandTokens, listSshConfigHosts, parseJumpSpec, resolveTarget } from './ssh-config.js';

const env = { HOME: '/home/op' };
const dir = mkdtempSync(join(tmpdir(), 'pgh-sshcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { env, localUser: 'op', cwd: '/work' };

const CONFIG = `
# operator's config
Host pg1
  HostName 10.0.0.11
  User admin
  Port 2201
  IdentityFile ~/.ssh/pg_%h_%r
  IdentityFile %d/keys/%u-%%.key
  UserKnownHostsFile ~/.ssh/kh_cluster ~/.ssh/kh_other
  ConnectTimeout 7

Host pg2 pg3
  HostName %h.internal
  ProxyJump admin@bastion:2222

Host pg4
  HostName 10.0.0.14
  ProxyJump jump1,ops@jump2

Host pg5
  HostName 10.0.0.15
  ProxyJump none

Host bastion
  HostName 198.51.100.7
  IdentityFile ~/.ssh/bastion_key

Host jump2
  HostName 198.51.100.8

Host *.example.com !bad.example.com
  User wildcard

Host *
  User fallback
  IdentityFile ~/.ssh/id_default
`;

describe('resolveTarget', () => {
  it('takes HostName, User, Port, IdentityFile (tokens, ~), UserKnownHostsFile, ConnectTimeout', () => {
    const t = resolveTarget({ node: 'n1', host: 'pg1' }, { ...base, configText: CONFIG });
    expect(t).toMatchObject({
      node: 'n1',
      host: '10.0.0.11',
      user: 'admin',
      port: 2201,
      knownHostsPath: '/home/op/.ssh/kh_cluster',
      readyTimeoutMs: 7000,
      proxyJump: undefined,
    });
    // Host * adds its IdentityFile after the specific ones, as ssh does.
    expect(t.identityFiles).toEqual([
      '/home/op/.ssh/pg_10.0.0.11_admin',
      '/home/op/keys/op-%.key',
      '/home/op/.ssh/id_default',
    ]);
  });

  it('explicit inventory values win over ssh config', () => {
    const t = resolveTarget(
      {
        node: 'n1',
        host: 'pg1',
        user: 'postgres',
        port: 22,
        identityFile: '~/.ssh/inv_key',
        knownHosts: 'kh/inventory',
        timeoutMs: 1500,
      },
      { ...base, configText: CONFIG },
    );
    expect(t).toMatchObject({
      host: '10.0.0.11',
      user: 'postgres',
      port: 22,
      identityFiles: ['/home/op/.ssh/inv_key'],
      knownHostsPath: '/work/kh/inventory',
      readyTimeoutMs: 1500,
    });
  });

  it('defaults: port 22, OS user, ~/.ssh/known_hosts, 20 s, no key files', () => {
    const t = resolveTarget({ node: 'x', host: '10.9.9.9' }, { ...base, configText: '' });
    expect(t).toEqual({
      node: 'x',
      host: '10.9.9.9',
      port: 22,
      user: 'op',
      identityFiles: [],
      knownHostsPath: '/home/op/.ssh/known_hosts',
      proxyJump: undefined,
      readyTimeoutMs: 20000,
    });
  });

  it('wildcards and negation in Host patterns; first value wins', () => {
    expect(resolveTarget({ node: 'a', host: 'db.example.com' }, { ...base, configText: CONFIG }).user).toBe(
      'wildcard',
    );
    expect(resolveTarget({ node: 'b', host: 'bad.example.com' }, { ...base, configText: CONFIG }).user).toBe(
      'fallback',
    );
  });

  it('ProxyJump user@host:port: the jump host is resolved through the config too', () => {
    const t = resolveTarget({ node: 'n2', host: 'pg2' }, { ...base, configText: CONFIG });
    expect(t.host).toBe('pg2.internal');
    expect(t.proxyJump).toMatchObject({
      node: 'n2 (jump bastion)',
      host: '198.51.100.7',
      user: 'admin',
      port: 2222,
      identityFiles: ['/home/op/.ssh/bastion_key', '/home/op/.ssh/id_default'],
      proxyJump: undefined,
    });
  });

  it('a chain a,b reaches b through a, and the target through b', () => {
    const t = resolveTarget({ node: 'n4', host: 'pg4' }, { ...base, configText: CONFIG });
    expect(t.proxyJump?.host).toBe('198.51.100.8');
    expect(t.proxyJump?.user).toBe('ops');
    expect(t.proxyJump?.proxyJump?.host).toBe('jump1');
    expect(t.proxyJump?.proxyJump?.user).toBe('fallback');
    expect(t.proxyJump?.proxyJump?.proxyJump).toBeUndefined();
  });

  it('ProxyJump none, and an inventory proxyJump overriding the config', () => {
    expect(
      resolveTarget({ node: 'n5', host: 'pg5' }, { ...base, configText: CONFIG }).proxyJump,
    ).toBeUndefined();
    const t = resolveTarget(
      { node: 'n2', host: 'pg2', proxyJump: 'root@10.1.1.1' },
      { ...base, configText: CONFIG },
    );
    expect(t.proxyJump).toMatchObject({ host: '10.1.1.1', user: 'root', port: 22 });
    const none = resolveTarget(
      { node: 'n2', host: 'pg2', proxyJump: 'none' },
      { ...base, configText: CONFIG },
    );
    expect(none.proxyJump).toBeUndefined();
  });

  it('the inventory key and known_hosts apply to a jump host that has none of its own', () => {
    const t = resolveTarget(
      {
        node: 'n',
        host: '10.0.0.1',
        identityFile: '/keys/inv',
        knownHosts: '/kh/inv',
        proxyJump: 'j@10.0.0.254',
      },
      { ...base, configText: '' },
    );
    expect(t.proxyJump).toMatchObject({ identityFiles: ['/keys/inv'], knownHostsPath: '/kh/inv', user: 'j' });
  });

  it('reads the config from configPath; a missing file is an empty config', () => {
    const path = join(dir, 'config');
    writeFileSync(path, 'Host a\n  HostName 192.0.2.1\n  Port 2022\n');
    expect(resolveTarget({ node: 'a', host: 'a' }, { ...base, configPath: path })).toMatchObject({
      host: '192.0.2.1',
      port: 2022,
    });
    expect(resolveTarget({ node: 'a', host: 'a' }, { ...base, configPath: join(dir, 'missing') }).host).toBe(
      'a',
    );
  });

  it('refuses a bad port from the config', () => {
    expect(() =>
      resolveTarget({ node: 'a', host: 'a' }, { ...base, configText: 'Host a\n Port nope\n' }),
    ).toThrow(/bad SSH port/);
  });
});

describe('parseJumpSpec / expandTokens', () => {
  it.each([
    ['bastion', { host: 'bastion' }],
    ['admin@bastion', { host: 'bastion', user: 'admin' }],
    ['admin@bastion:2222', { host: 'bastion', user: 'admin', port: 2222 }],
    ['ssh://u@h:22', { host: 'h', user: 'u', port: 22 }],
    ['[2001:db8::1]:2200', { host: '2001:db8::1', port: 2200 }],
  ])('%s', (spec, expected) => {
    expect(parseJumpSpec(spec)).toEqual(expected);
  });

  it('rejects an out-of-range port', () => {
    expect(() => parseJumpSpec('h:70000')).toThrow(/bad ProxyJump/);
  });

  it('expands %d %h %n %p %r %u %% and leaves unknown tokens', () => {
    const t = { home: '/h', host: '10.0.0.1', alias: 'pg1', port: 22, user: 'r', localUser: 'l' };
    expect(expandTokens('%d/%h/%n/%p/%r/%u/%%/%x', t)).toBe('/h/10.0.0.1/pg1/22/r/l/%/%x');
  });
});

describe('listSshConfigHosts', () => {
  it('lists concrete aliases only, with what ssh would use for them', () => {
    expect(listSshConfigHosts(CONFIG)).toEqual([
      { alias: 'pg1', hostName: '10.0.0.11', user: 'admin', port: 2201 },
      { alias: 'pg2', hostName: 'pg2.internal', user: 'fallback', port: undefined },
      { alias: 'pg3', hostName: 'pg3.internal', user: 'fallback', port: undefined },
      { alias: 'pg4', hostName: '10.0.0.14', user: 'fallback', port: undefined },
      { alias: 'pg5', hostName: '10.0.0.15', user: 'fallback', port: undefined },
      { alias: 'bastion', hostName: '198.51.100.7', user: 'fallback', port: undefined },
      { alias: 'jump2', hostName: '198.51.100.8', user: 'fallback', port: undefined },
    ]);
  });
});
