import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { ruleToSave } from '../../../src/model/iptables/format.js';
import { type NatTable, parseNatTable } from '../../../src/model/iptables/parse.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/iptables/${name}`, import.meta.url), 'utf8');

/** Every rule of a table as iptables-save lines, chain by chain: the form the tests compare. */
function rules(table: NatTable, chain?: string): string[] {
  const chains = chain ? [table.chains.get(chain)!] : [...table.chains.values()];
  return chains.flatMap((c) => c.rules.map(ruleToSave));
}

/** The seed 001 table as iptables-save lines (what all three fixtures must parse to). */
const SEED_ISTIO_OUTPUT = [
  '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN',
  '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
  '-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN',
  '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN',
  '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT',
  '-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN',
  '-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN',
  '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
  '-A ISTIO_OUTPUT -d 10.33.0.0/16 -j ISTIO_REDIRECT',
  '-A ISTIO_OUTPUT -d 10.32.128.0/20 -j ISTIO_REDIRECT',
  '-A ISTIO_OUTPUT -j RETURN',
];
const SEED_ISTIO_INBOUND = [15008, 22, 15090, 15021, 15020]
  .map((p) => `-A ISTIO_INBOUND -p tcp -m tcp --dport ${p} -j RETURN`)
  .concat('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');

describe('model/iptables/parse', () => {
  describe('the seed 001 table in every format reads the same', () => {
    const cases: Array<[string, string, string]> = [
      ['iptables -t nat -L -v (seed lines 160-203)', 'seed-001-nat-L-v.txt', 'iptables-list'],
      ['iptables-save -c (reconstructed)', 'seed-001-nat.iptables-save', 'iptables-save'],
      ['istio-init log of the 1.10 era (restore input, then iptables-save)', 'istio-init-1.10.log', 'iptables-save'],
    ];
    for (const [title, file, format] of cases) {
      it(title, function () {
        const t = parseNatTable(fixture(file));
        expect(t.format).to.equal(format);
        expect(t.family).to.equal('ipv4');
        expect([...t.chains.keys()]).to.have.members(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'ISTIO_INBOUND', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT', 'ISTIO_REDIRECT']);
        expect(rules(t, 'ISTIO_OUTPUT')).to.deep.equal(SEED_ISTIO_OUTPUT);
        expect(rules(t, 'ISTIO_INBOUND')).to.deep.equal(SEED_ISTIO_INBOUND);
        expect(rules(t, 'ISTIO_IN_REDIRECT')).to.deep.equal(['-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006']);
        expect(rules(t, 'ISTIO_REDIRECT')).to.deep.equal(['-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001']);
        expect(rules(t, 'PREROUTING')).to.deep.equal(['-A PREROUTING -p tcp -j ISTIO_INBOUND']);
        expect(rules(t, 'OUTPUT')).to.deep.equal(['-A OUTPUT -p tcp -j ISTIO_OUTPUT']);
        expect(t.chains.get('OUTPUT')!.policy).to.equal('ACCEPT');
        expect(t.unparsed).to.deep.equal([]);
      });
    }

    it('keeps what a rule says in typed fields, and its position and source line', function () {
      const t = parseNatTable(fixture('seed-001-nat-L-v.txt'));
      const out = t.chains.get('ISTIO_OUTPUT')!.rules;
      expect(out[0]).to.include({ chain: 'ISTIO_OUTPUT', target: 'RETURN', position: 1, lineNumber: 3 + 189 - 159 });
      expect(out[0]!.source).to.deep.equal({ cidr: '127.0.0.6/32', negated: false });
      expect(out[0]!.out).to.deep.equal({ value: 'lo', negated: false });
      expect(out[1]!.destination).to.deep.equal({ cidr: '127.0.0.1/32', negated: true, host: 'localhost' });
      expect(out[1]!.matches.uidOwner).to.deep.equal({ value: '1337', negated: false });
      expect(out[2]!.matches.uidOwner).to.deep.equal({ value: '1337', negated: true });
      expect(out[3]!.counters).to.deep.equal({ packets: 1846, bytes: 111000, approximate: true });
      expect(out[1]!.raw).to.match(/ISTIO_IN_REDIRECT\s+all\s+--\s+any\s+lo\s+anywhere\s+!localhost\s+owner UID match 1337/);
      const redirect = t.chains.get('ISTIO_IN_REDIRECT')!.rules[0]!;
      expect(redirect.redirectPorts).to.deep.equal({ from: 15006, to: 15006 });
      expect(t.chains.get('ISTIO_IN_REDIRECT')!.references).to.equal(3);
      expect(t.chains.get('PREROUTING')!.policyCounters).to.deep.equal({ packets: 49, bytes: 2940 });
      const save = parseNatTable(fixture('seed-001-nat.iptables-save'));
      expect(save.chains.get('ISTIO_OUTPUT')!.rules[3]!.counters).to.deep.equal({ packets: 1846, bytes: 111000 });
      expect(save.chains.get('ISTIO_INBOUND')!.rules[1]!.matches.dport).to.deep.equal({ ranges: [[22, 22]], negated: false, text: '22' });
    });

    it('in an istio-init log, says it used the iptables-save dump over the restore input', function () {
      const t = parseNatTable(fixture('istio-init-1.10.log'));
      expect(t.notes.join('\n')).to.match(/iptables-save dump at line \d+/);
      // The *mangle dump after it is another table, not mixed in.
      expect(t.chains.has('FORWARD')).to.equal(false);
    });
  });

  describe('good inputs', function () {
    const good: Array<{ title: string; text: string; format: string; expect: (t: NatTable) => void }> = [
      {
        title: 'iptables -t nat -S',
        text: ['-P PREROUTING ACCEPT', '-P OUTPUT ACCEPT', '-N ISTIO_OUTPUT', '-A OUTPUT -p tcp -j ISTIO_OUTPUT', '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN'].join('\n'),
        format: 'iptables-commands',
        expect: (t) => {
          expect(t.chains.get('PREROUTING')!.policy).to.equal('ACCEPT');
          expect(rules(t)).to.deep.equal(['-A OUTPUT -p tcp -j ISTIO_OUTPUT', '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN']);
        },
      },
      {
        title: 'istio-init without restore format: one iptables command per line; other tables and ip6tables ignored',
        text: [
          'iptables -t nat -N ISTIO_OUTPUT',
          'iptables -t nat -A OUTPUT -p tcp -j ISTIO_OUTPUT',
          'iptables -t nat -A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
          'iptables -t mangle -A PREROUTING -p tcp -j ISTIO_DIVERT',
          'iptables -A INPUT -j ACCEPT',
          'ip6tables -t nat -A ISTIO_OUTPUT -o lo -s ::6/128 -j RETURN',
          'iptables -t nat -A ISTIO_IN_REDIRECT -p tcp -j NFLOG --nflog-prefix "InboundCapture" --nflog-group 1337',
        ].join('\n'),
        format: 'iptables-commands',
        expect: (t) => {
          expect(rules(t)).to.deep.equal([
            '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
            '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
            '-A ISTIO_IN_REDIRECT -p tcp -j NFLOG --nflog-prefix InboundCapture --nflog-group 1337',
          ]);
        },
      },
      {
        title: 'a current istio-init log: timestamps, levels, restore input, then the iptables-save dump in "Command output"',
        text: [
          '2024-05-02T10:00:00.000000Z\tinfo\tIstio iptables environment:',
          'ENVOY_PORT=',
          '2024-05-02T10:00:00.000100Z\tinfo\tRunning iptables-restore with the following input:',
          '* nat',
          '-N ISTIO_OUTPUT',
          '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
          '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN',
          'COMMIT',
          '2024-05-02T10:00:00.000200Z\tinfo\tRunning command (with wait lock): iptables-restore --noflush --wait=30',
          '2024-05-02T10:00:00.000300Z\tinfo\tRunning ip6tables-restore with the following input:',
          '* nat',
          '-N ISTIO_OUTPUT',
          '-A ISTIO_OUTPUT -o lo -s ::6/128 -j RETURN',
          'COMMIT',
          '2024-05-02T10:00:00.000400Z\tinfo\tRunning command (without lock): iptables-save ',
          '2024-05-02T10:00:00.000500Z\tinfo\tCommand output: ',
          '# Generated by iptables-save v1.8.9 on Thu May  2 10:00:00 2024',
          '*nat',
          ':PREROUTING ACCEPT [0:0]',
          ':OUTPUT ACCEPT [0:0]',
          ':ISTIO_OUTPUT - [0:0]',
          '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
          '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN',
          '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
          'COMMIT',
        ].join('\n'),
        format: 'iptables-save',
        expect: (t) => {
          expect(rules(t, 'ISTIO_OUTPUT')).to.deep.equal(['-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN', '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN']);
        },
      },
      {
        title: 'restore input alone (dry run): no policies, says so',
        text: ['Running iptables-restore with the following input:', '* nat', '-N ISTIO_REDIRECT', '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001', 'COMMIT'].join('\n'),
        format: 'iptables-restore',
        expect: (t) => {
          expect(t.notes.join(' ')).to.match(/policies are not in it/);
          expect(t.chains.get('ISTIO_REDIRECT')!.rules[0]!.redirectPorts).to.deep.equal({ from: 15001, to: 15001 });
        },
      },
      {
        title: '--log_as_json lines carry the dump in "msg"',
        text: [
          '{"level":"info","time":"2024-05-02T10:00:00Z","msg":"Running iptables-restore with the following input:\\n* nat\\n-N ISTIO_OUTPUT\\n-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN\\nCOMMIT\\n"}',
        ].join('\n'),
        format: 'iptables-restore',
        expect: (t) => expect(rules(t)).to.deep.equal(['-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN']),
      },
      {
        title: 'kubectl logs --prefix and a stern-style prefix',
        text: ['[pod/web-1/istio-init] *nat', '[pod/web-1/istio-init] :OUTPUT ACCEPT [0:0]', 'web-1 istio-init -A OUTPUT -p tcp -j ISTIO_OUTPUT', 'web-1 istio-init COMMIT'].join('\n'),
        format: 'iptables-save',
        expect: (t) => expect(rules(t)).to.deep.equal(['-A OUTPUT -p tcp -j ISTIO_OUTPUT']),
      },
      {
        title: '-I inserts, unknown options are kept verbatim, quoted comments are one value',
        text: [
          '*nat',
          ':ISTIO_INBOUND - [0:0]',
          '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
          '-I ISTIO_INBOUND 1 -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "keep established" -j RETURN',
          '-A ISTIO_INBOUND -p tcp --frobnicate 7 -j RETURN',
          'COMMIT',
        ].join('\n'),
        format: 'iptables-save',
        expect: (t) => {
          const r = t.chains.get('ISTIO_INBOUND')!.rules;
          expect(r.map((x) => x.target)).to.deep.equal(['RETURN', 'ISTIO_IN_REDIRECT', 'RETURN']);
          expect(r.map((x) => x.position)).to.deep.equal([1, 2, 3]);
          expect(r[0]!.matches.other).to.deep.equal(['--ctstate RELATED,ESTABLISHED']);
          expect(r[0]!.matches.comment).to.equal('keep established');
          expect(r[2]!.matches.other).to.deep.equal(['--frobnicate 7']);
        },
      },
      {
        title: 'iptables -t nat -L -n --line-numbers -v',
        text: [
          'Chain ISTIO_OUTPUT (1 references)',
          'num   pkts bytes target     prot opt in     out     source               destination',
          '1        0     0 RETURN     all  --  *      lo      127.0.0.6            0.0.0.0/0',
          '2        0     0 ISTIO_IN_REDIRECT  all  --  *      lo      0.0.0.0/0           !127.0.0.1            owner UID match 1337',
          '3        0     0 ISTIO_IN_REDIRECT  tcp  --  *      lo      0.0.0.0/0           !127.0.0.1            tcp dpt:!15008 owner UID match 1337',
          '4        0     0            all  --  *      *       10.0.0.0/8           0.0.0.0/0',
        ].join('\n'),
        format: 'iptables-list',
        expect: (t) => {
          const r = t.chains.get('ISTIO_OUTPUT')!.rules;
          expect(r.map(ruleToSave)).to.deep.equal([
            '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN',
            '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
            '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
            '-A ISTIO_OUTPUT -s 10.0.0.0/8',
          ]);
          expect(r[3]!.target).to.equal(undefined);
        },
      },
      {
        title: 'iptables -t nat -L without -v: no interface columns, marked as unknown',
        text: [
          'Chain ISTIO_OUTPUT (1 references)',
          'target     prot opt source               destination',
          'LOG        all  --  anywhere             anywhere             LOG level warning prefix "ISTIO_OUTPUT[1]: "',
          'RETURN     all  --  127.0.0.6            anywhere',
          'ISTIO_IN_REDIRECT  all  --  anywhere            !localhost            owner UID match 1337',
        ].join('\n'),
        format: 'iptables-list',
        expect: (t) => {
          const r = t.chains.get('ISTIO_OUTPUT')!.rules;
          expect(r.every((x) => !x.interfacesShown)).to.equal(true);
          expect(r[0]!.targetOptions).to.deep.equal(['LOG level warning prefix "ISTIO_OUTPUT[1]: "']);
          expect(r[0]!.matches.other).to.deep.equal([]);
          expect(t.notes.join(' ')).to.match(/no in\/out columns/);
        },
      },
      {
        title: 'an ip6tables dump is picked with family ipv6',
        text: ['# Generated by ip6tables-save v1.8.4', '*nat', ':OUTPUT ACCEPT [0:0]', '-A OUTPUT -o lo -s ::6/128 -j RETURN', 'COMMIT'].join('\n'),
        format: 'iptables-save',
        expect: () => undefined,
      },
    ];
    for (const g of good) {
      it(g.title, function () {
        const family = g.text.includes('ip6tables-save') ? 'ipv6' : 'ipv4';
        const t = parseNatTable(g.text, { family });
        expect(t.format).to.equal(g.format);
        g.expect(t);
      });
    }
  });

  describe('bad inputs are a ParseError that says what was wrong', function () {
    const bad: Array<[string, unknown, RegExp]> = [
      ['empty', '', /no iptables nat rules/],
      ['prose', 'the pod has no iptables output, sorry\nsecond line', /no iptables nat rules/],
      ['only a filter table', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT', /no nat table in the input \(found: filter\)/],
      ['only an ip6tables nat table when ipv4 is asked', '# Generated by ip6tables-save v1.8.4\n*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j RETURN\nCOMMIT', /no ipv4 nat table/],
      ['not text', 42, /expected text, got number/],
      ['null', null, /expected text, got null/],
      ['a listing header with no chain', ' pkts bytes target     prot opt in     out     source               destination', /no iptables nat rules/],
    ];
    for (const [title, input, message] of bad) {
      it(title, function () {
        expect(() => parseNatTable(input, { what: 'istio-init log of web-1' }))
          .to.throw(ParseError)
          .with.property('message')
          .that.matches(message);
      });
    }
    it('names the input in the message', function () {
      expect(() => parseNatTable('', { what: 'istio-init log of web-1' })).to.throw(/^istio-init log of web-1: /);
    });
  });

  describe('properties', function () {
    const onlyParseError = (input: string): void => {
      try {
        parseNatTable(input);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    };
    it('arbitrary text never throws anything but ParseError', function () {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), onlyParseError), { numRuns: 500 });
    });
    it('iptables-looking garbage never throws anything but ParseError', function () {
      const token = fc.constantFrom('*nat', '* nat', 'COMMIT', ':OUTPUT', 'ACCEPT', '[1:2]', '-A', '-I', '-N', '-P', '-j', '-g', '-s', '-d', '!', '-o', 'lo', '-p', 'tcp', '--dport', '--to-ports', 'REDIRECT', 'RETURN', 'ISTIO_OUTPUT', '127.0.0.1/32', '::1/128', '10.0.0.0/255.0.0.0', '1:2', 'ssh', '0x1', '"q', "'", 'Chain', '(policy', '(1 references)', 'pkts', 'bytes', 'target', 'prot', 'opt', 'source', 'destination', '--', 'anywhere', '!localhost', 'owner', 'UID', 'match', 'redir', 'ports', 'dpt:', 'iptables', '-t', '{"msg":"x"}', '2024-01-01T00:00:00Z');
      const line = fc.array(token, { maxLength: 12 }).map((t) => t.join(' '));
      fc.assert(fc.property(fc.array(line, { maxLength: 30 }).map((l) => l.join('\n')), onlyParseError), { numRuns: 1000 });
    });
    it('every rule of a parsed save round-trips through ruleToSave', function () {
      const t = parseNatTable(fixture('seed-001-nat.iptables-save'));
      const again = parseNatTable(['*nat', ...rules(t), 'COMMIT'].join('\n'));
      expect(rules(again)).to.deep.equal(rules(t));
    });
  });
});
