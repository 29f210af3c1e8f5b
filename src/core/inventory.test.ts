import { describe, expect, it } from 'vitest';
import { InventoryError, parseInventory } from './inventory.js';
import { parseCidr } from './inventory-schema.js';

const good = `cluster: prod-main
topology: streaming
network: [10.0.0.0/24]
auth: scram
ssh: { user: admin, identityFile: ~/.ssh/id_ed25519, sudo: true }
nodes:
  - name: pg1
    host: 10.0.0.11
    names: [pg1.internal]
    role: primary
    pg: { port: 5432, osUser: postgres, dataDir: /var/lib/postgresql/15/main }
  - name: pg2
    host: 10.0.0.12
    role: standby
roles:
  - { name: replicator, kind: replication }
  - { name: app, kind: client }
`;

function issuesOf(text: string): { line: number; field: string; message: string }[] {
  try {
    parseInventory(text, 'inv.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).exitCode).toBe(2);
    return (err as InventoryError).issues.map(({ line, field, message }) => ({ line, field, message }));
  }
  throw new Error('expected the inventory to be rejected');
}

describe('parseInventory', () => {
  it('accepts the SPEC §5 example and expands ~ in paths', () => {
    const inv = parseInventory(good, '/tmp/inv.yaml');
    expect(inv.nodes.map((n) => n.name)).toEqual(['pg1', 'pg2']);
    expect(inv.ssh?.identityFile).toMatch(/^\/.*\/\.ssh\/id_ed25519$/);
  });

  it('accepts tls.dir as an absolute path on the nodes', () => {
    const inv = parseInventory(
      good.replace('auth: scram', 'auth: scram\ntls: { dir: /etc/pgharden-tls }'),
      'i',
    );
    expect(inv.tls?.dir).toBe('/etc/pgharden-tls');
  });

  it.each([
    [
      'relative tls.dir',
      good.replace('auth: scram', 'auth: scram\ntls: { dir: pgharden-tls }'),
      5,
      'tls.dir',
      /absolute path/,
    ],
    [
      'tls.dir with ..',
      good.replace('auth: scram', 'auth: scram\ntls: { dir: /srv/../etc }'),
      5,
      'tls.dir',
      /"\.\."/,
    ],
    [
      'bad YAML',
      good.replace('network: [10.0.0.0/24]', 'network: [10.0.0.0/24'),
      4,
      '',
      /YAML: Flow sequence/,
    ],
    [
      'unknown topology',
      good.replace('topology: streaming', 'topology: patroni'),
      2,
      'topology',
      /unknown topology .*pg_auto_failover/,
    ],
    [
      'duplicate node names',
      good.replace('name: pg2', 'name: pg1'),
      12,
      'nodes[1].name',
      /duplicate node name "pg1"/,
    ],
    ['missing host', good.replace('    host: 10.0.0.12\n', ''), 12, 'nodes[1].host', /required/],
    ['bad CIDR', good.replace('10.0.0.0/24', '10.0.0.0/33'), 3, 'network[0]', /not a CIDR/],
    ['unknown key', good.replace('    role: standby', '    rol: standby'), 14, 'nodes[1].rol', /unknown key/],
    ['bad auth', good.replace('auth: scram', 'auth: md5'), 4, 'auth', /scram/],
    [
      'two primaries',
      good.replace('role: standby', 'role: primary'),
      6,
      'nodes',
      /2 nodes say role: primary/,
    ],
    [
      'pgpool without pooler',
      good.replace('topology: streaming', 'topology: pgpool'),
      2,
      'topology',
      /poolers/,
    ],
    [
      'port out of range',
      good.replace('port: 5432', 'port: 70000'),
      11,
      'nodes[0].pg.port',
      /65535|too big/i,
    ],
  ])('%s → file:line:field', (_name, text, line, field, message) => {
    const issues = issuesOf(text);
    expect(issues[0]).toMatchObject({ line, field });
    expect(issues[0]?.message).toMatch(message);
  });

  it('names the file in the message', () => {
    expect(() => parseInventory('cluster: x\n', 'some/inv.yaml')).toThrow(
      /some\/inv\.yaml:1:1: topology: required/,
    );
  });

  it('rejects a document that is not a mapping', () => {
    expect(issuesOf('- a\n- b\n')[0]?.message).toMatch(/mapping/);
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/24', true],
    ['127.0.0.0/8', true],
    ['10.0.0.1', true],
    ['fd00::/64', true],
    ['10.0.0.0/33', false],
    ['10.0.0/24', false],
    ['10.0.0.0/2x', false],
    ['fd00::/129', false],
    ['all', false],
  ])('%s → %s', (text, ok) => {
    expect(parseCidr(text) !== undefined).toBe(ok);
  });
});
