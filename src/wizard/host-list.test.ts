import { describe, expect, it } from 'vitest';
import { parseHostList } from './host-list.js';

describe('parseHostList', () => {
  it('name host role, host:port, bare hosts, IPv6, comments and blank lines', () => {
    const r = parseHostList(
      [
        '# lab',
        'pg1 127.0.1.11 primary',
        'pg2, 127.0.1.12:2222, standby',
        '',
        'db3.example.com',
        '[fd00::5]:22 standby',
        'fd00::6',
        'pg7 127.0.1.17  # trailing comment',
      ].join('\r\n'),
    );
    expect(r.errors).toEqual([]);
    expect(r.nodes).toEqual([
      { name: 'pg1', host: '127.0.1.11', role: 'primary' },
      { name: 'pg2', host: '127.0.1.12', port: 2222, role: 'standby' },
      { name: 'db3.example.com', host: 'db3.example.com' },
      { name: 'fd00--5', host: 'fd00::5', port: 22, role: 'standby' },
      { name: 'fd00--6', host: 'fd00::6' },
      { name: 'pg7', host: '127.0.1.17' },
    ]);
  });

  it('one clear error per bad line; the good lines still parse', () => {
    const r = parseHostList(
      [
        'pg1 127.0.1.11 primary',
        'pg2 127.0.1.12:70000',
        'pg3 10.0.0.3 primary',
        'pg1 10.0.0.4',
        'a b c d',
        '-bad 10.0.0.5',
        'fd00::1:22:x:y:z:2222:1',
        '[nope]:22',
        'pg9 host:',
      ].join('\n'),
    );
    expect(r.nodes.map((n) => n.name)).toEqual(['pg1']);
    expect(r.errors.map((e) => `${e.line}: ${e.message}`)).toEqual([
      '2: port 70000 is not a number from 1 to 65535',
      '3: a second primary (line 1 has one)',
      '4: node name pg1 is already on line 1',
      '5: expected [name] host[:port] [primary|standby], got 4 words',
      '6: node name -bad must be letters, digits, ".", "_" and "-"',
      '7: fd00::1:22:x:y:z:2222:1: write an IPv6 address with a port as [address]:port',
      '8: nope in [ ] is not an IPv6 address',
      '9: no port after ":" in host:',
    ]);
  });

  it('nothing pasted is an error too', () => {
    expect(parseHostList('\n# only a comment\n').errors).toMatchObject([{ message: /no hosts/ }]);
  });
});
