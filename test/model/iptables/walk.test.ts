import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { type NatTable, parseNatTable } from '../../../src/model/iptables/parse.js';
import { type Packet, type PacketWalk, formatWalk, parsePacketSpec, walkPacket } from '../../../src/model/iptables/walk.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/iptables/${name}`, import.meta.url), 'utf8');

/** Which rules matched, as "CHAIN#n", in order: the walk in one line. */
const matched = (w: PacketWalk): string[] => w.steps.filter((s) => s.matched && s.rule).map((s) => `${s.rule!.chain}#${s.rule!.position}`);

/** The table without ISTIO_OUTPUT's first rule (`-o lo -s 127.0.0.6/32 -j RETURN`). */
function withoutRule127006(t: NatTable): NatTable {
  const chains = new Map(t.chains);
  const out = t.chains.get('ISTIO_OUTPUT')!;
  chains.set('ISTIO_OUTPUT', { ...out, rules: out.rules.slice(1).map((r, i) => ({ ...r, position: i + 1 })) });
  return { ...t, chains };
}

// The seed does not give the pod IP; 10.0.0.5 stands in for it (outside the service CIDRs 10.33.0.0/16, 10.32.128.0/20).
const POD_IP = '10.0.0.5';

describe('model/iptables/walk', () => {
  for (const file of ['seed-001-nat-L-v.txt', 'seed-001-nat.iptables-save', 'istio-init-1.10.log']) {
    describe(`the three cases seed 001 walks by hand (${file})`, function () {
      const table = parseNatTable(fixture(file));

      it('Istio 1.9: Envoy forwards to 127.0.0.1 -> ISTIO_OUTPUT rule 4 (owner UID 1337) RETURNs; reaches the app', function () {
        const w = walkPacket(table, parsePacketSpec('src=127.0.0.1 dst=127.0.0.1:8080 uid=1337 gid=1337 out=lo'), { hook: 'OUTPUT' });
        expect(matched(w)).to.deep.equal(['OUTPUT#1', 'ISTIO_OUTPUT#4']);
        expect(w.verdict).to.include({ kind: 'RETURN', chain: 'OUTPUT', policy: 'ACCEPT', policyAssumed: false });
        expect(w.verdict.kind === 'RETURN' && w.verdict.returnedBy.position).to.equal(4);
        expect(w.loop).to.equal(false);
        expect(w.path).to.deep.equal(['OUTPUT', 'ISTIO_OUTPUT']);
      });

      it('Istio 1.10: Envoy forwards to the pod IP from 127.0.0.6 -> ISTIO_OUTPUT rule 1 RETURNs; reaches the app', function () {
        const w = walkPacket(table, parsePacketSpec(`src=127.0.0.6 dst=${POD_IP}:8080 uid=1337 gid=1337 out=lo`), { hook: 'OUTPUT' });
        expect(matched(w)).to.deep.equal(['OUTPUT#1', 'ISTIO_OUTPUT#1']);
        expect(w.verdict.kind).to.equal('RETURN');
        expect(w.verdict.kind === 'RETURN' && w.verdict.returnedBy.position).to.equal(1);
        expect(w.loop).to.equal(false);
      });

      it('Istio 1.10 from 127.0.0.1: rule 1 does not match, rule 2 sends it to ISTIO_IN_REDIRECT -> 15006: a loop', function () {
        const w = walkPacket(table, parsePacketSpec(`src=127.0.0.1 dst=${POD_IP}:8080 uid=1337 gid=1337 out=lo`), { hook: 'OUTPUT' });
        expect(matched(w)).to.deep.equal(['OUTPUT#1', 'ISTIO_OUTPUT#2', 'ISTIO_IN_REDIRECT#1']);
        expect(w.steps.find((s) => s.rule?.chain === 'ISTIO_OUTPUT' && s.rule.position === 1)!.why).to.equal('source 127.0.0.1 is not in 127.0.0.6/32');
        expect(w.verdict).to.include({ kind: 'REDIRECT', port: 15006, chain: 'ISTIO_IN_REDIRECT', position: 1 });
        expect(w.loop).to.equal(true);
        expect(w.loopReason).to.match(/uid 1337.*15006/);
        expect(w.path).to.deep.equal(['OUTPUT', 'ISTIO_OUTPUT', 'ISTIO_IN_REDIRECT']);
      });

      it('Istio 1.10 without the 127.0.0.6 rule: even 127.0.0.6 loops back to 15006', function () {
        const w = walkPacket(withoutRule127006(table), parsePacketSpec(`src=127.0.0.6 dst=${POD_IP}:8080 uid=1337 out=lo`), { hook: 'OUTPUT' });
        expect(w.verdict).to.include({ kind: 'REDIRECT', port: 15006 });
        expect(w.loop).to.equal(true);
      });
    });
  }

  describe('the rest of the seed table', function () {
    const table = parseNatTable(fixture('seed-001-nat.iptables-save'));
    const cases: Array<{ title: string; spec: string; hook: 'PREROUTING' | 'OUTPUT'; matched: string[]; verdict: Record<string, unknown>; loop?: boolean }> = [
      {
        title: 'a request from another pod: PREROUTING -> ISTIO_INBOUND -> ISTIO_IN_REDIRECT -> 15006 (not a loop)',
        spec: `src=10.1.2.3 dst=${POD_IP}:8080 in=eth0`,
        hook: 'PREROUTING',
        matched: ['PREROUTING#1', 'ISTIO_INBOUND#6', 'ISTIO_IN_REDIRECT#1'],
        verdict: { kind: 'REDIRECT', port: 15006 },
      },
      {
        title: 'the kubelet probing 15021: ISTIO_INBOUND rule 4 RETURNs',
        spec: `src=10.1.2.1 dst=${POD_IP}:15021 in=eth0`,
        hook: 'PREROUTING',
        matched: ['PREROUTING#1', 'ISTIO_INBOUND#4'],
        verdict: { kind: 'RETURN', chain: 'PREROUTING' },
      },
      {
        title: 'ssh (22) is never captured',
        spec: `src=10.1.2.1 dst=${POD_IP}:22 in=eth0`,
        hook: 'PREROUTING',
        matched: ['PREROUTING#1', 'ISTIO_INBOUND#2'],
        verdict: { kind: 'RETURN' },
      },
      {
        title: 'the app calling a Service VIP: ISTIO_REDIRECT -> 15001',
        spec: 'src=10.0.0.5 dst=10.33.4.5:80 uid=1000 gid=1000 out=eth0',
        hook: 'OUTPUT',
        matched: ['OUTPUT#1', 'ISTIO_OUTPUT#9', 'ISTIO_REDIRECT#1'],
        verdict: { kind: 'REDIRECT', port: 15001 },
        loop: false,
      },
      {
        title: 'the app calling outside the service CIDRs: last rule RETURNs',
        spec: 'src=10.0.0.5 dst=8.8.8.8:443 uid=1000 gid=1000 out=eth0',
        hook: 'OUTPUT',
        matched: ['OUTPUT#1', 'ISTIO_OUTPUT#11'],
        verdict: { kind: 'RETURN' },
      },
      {
        title: 'the app calling another container on localhost: rule 3 (! owner UID 1337 on lo) RETURNs',
        spec: 'src=127.0.0.1 dst=127.0.0.1:15000 uid=1000 gid=1000',
        hook: 'OUTPUT',
        matched: ['OUTPUT#1', 'ISTIO_OUTPUT#3'],
        verdict: { kind: 'RETURN' },
      },
      {
        title: 'Envoy calling another pod: rule 4 RETURNs (the proxy is never captured on eth0)',
        spec: 'src=10.0.0.5 dst=10.33.4.5:80 uid=1337 gid=1337 out=eth0',
        hook: 'OUTPUT',
        matched: ['OUTPUT#1', 'ISTIO_OUTPUT#4'],
        verdict: { kind: 'RETURN' },
      },
      {
        title: 'UDP is not captured at all (PREROUTING/OUTPUT jump only for tcp)',
        spec: 'src=10.0.0.5 dst=10.33.0.10:53 proto=udp uid=1000 out=eth0',
        hook: 'OUTPUT',
        matched: [],
        verdict: { kind: 'ACCEPT', by: 'policy' },
      },
    ];
    for (const c of cases) {
      it(c.title, function () {
        const w = walkPacket(table, parsePacketSpec(c.spec), { hook: c.hook });
        expect(matched(w)).to.deep.equal(c.matched);
        expect(w.verdict).to.include(c.verdict);
        expect(w.loop).to.equal(c.loop ?? false);
      });
    }

    it('a packet whose uid is not given: owner rules are treated as not matching, and the walk says so', function () {
      const w = walkPacket(table, { src: '127.0.0.1', dst: POD_IP, dport: 8080, outInterface: 'lo' }, { hook: 'OUTPUT' });
      const step = w.steps.find((s) => s.rule?.position === 2 && s.rule.chain === 'ISTIO_OUTPUT')!;
      expect(step.matched).to.equal(false);
      expect(step.assumed).to.equal(true);
      expect(step.why).to.match(/uid is not given/);
    });

    it('infers out=lo for a loopback destination and records the assumption', function () {
      const w = walkPacket(table, { src: '127.0.0.1', dst: '127.0.0.1', dport: 8080, uid: 1337 }, { hook: 'OUTPUT' });
      expect(w.assumptions.join(' ')).to.match(/out interface taken as lo/);
    });
  });

  describe('tables that cannot be walked to the end, and policies not in the input', function () {
    it('a jump cycle is UNRESOLVED, not an endless walk', function () {
      const t = parseNatTable('*nat\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A OUTPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT');
      const w = walkPacket(t, { src: '10.0.0.5', dst: '10.0.0.6', dport: 80 }, { hook: 'OUTPUT' });
      expect(w.verdict).to.deep.equal({ kind: 'UNRESOLVED', reason: 'jump loop: OUTPUT -> A -> B -> A' });
    });
    it('restore input has no policies: ACCEPT is assumed and said', function () {
      const t = parseNatTable('* nat\n-A OUTPUT -p tcp -j RETURN\nCOMMIT');
      const w = walkPacket(t, { src: '10.0.0.5', dst: '10.0.0.6', dport: 80 }, { hook: 'OUTPUT' });
      expect(w.verdict).to.include({ kind: 'RETURN', policyAssumed: true });
      expect(w.assumptions.join(' ')).to.match(/OUTPUT policy taken as ACCEPT/);
    });
    it('a match it cannot evaluate is assumed not to match, and marked', function () {
      const t = parseNatTable('*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A PREROUTING -p tcp -j REDIRECT --to-ports 15006\nCOMMIT');
      const w = walkPacket(t, { src: '10.0.0.9', dst: '10.0.0.5', dport: 80, inInterface: 'eth0' }, { hook: 'PREROUTING' });
      expect(w.steps[0]).to.include({ matched: false, assumed: true });
      expect(w.verdict).to.include({ kind: 'REDIRECT', port: 15006 });
    });
    it('REDIRECT without --to-ports keeps the destination port', function () {
      const t = parseNatTable('*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j REDIRECT\nCOMMIT');
      const w = walkPacket(t, { src: '10.0.0.9', dst: '10.0.0.5', dport: 8080 }, { hook: 'PREROUTING' });
      expect(w.verdict).to.include({ kind: 'REDIRECT', port: 8080 });
    });
  });

  describe('any parsed table', function () {
    it('walking never throws and always ends in a verdict (random tables built from Istio-like rules)', function () {
      const chainName = fc.constantFrom('PREROUTING', 'OUTPUT', 'ISTIO_INBOUND', 'ISTIO_OUTPUT', 'ISTIO_REDIRECT', 'ISTIO_IN_REDIRECT', 'X');
      const match = fc.constantFrom('', '-p tcp', '-p udp', '-o lo', '! -o lo', '-i eth0', '-s 127.0.0.6/32', '! -d 127.0.0.1/32', '-d 10.0.0.0/8', '-m owner --uid-owner 1337', '-m owner ! --gid-owner 1337', '-p tcp --dport 15008', '-p tcp ! --dport 53', '-m conntrack --ctstate NEW', '-p tcp -m multiport --dports 80,443:445');
      const target = fc.oneof(chainName.map((c) => `-j ${c}`), chainName.map((c) => `-g ${c}`), fc.constantFrom('-j RETURN', '-j ACCEPT', '-j DROP', '-j REDIRECT --to-ports 15001', '-j REDIRECT', '-j DNAT --to-destination 10.0.0.1:80', '-j LOG', '-j MYSTERY', ''));
      const rule = fc.tuple(chainName, match, match, target).map(([c, m1, m2, t]) => `-A ${c} ${m1} ${m2} ${t}`);
      fc.assert(
        fc.property(fc.array(rule, { maxLength: 25 }), fc.constantFrom('PREROUTING', 'OUTPUT') as fc.Arbitrary<'PREROUTING' | 'OUTPUT'>, fc.option(fc.constantFrom(0, 1337)), (rules, hook, uid) => {
          const t = parseNatTable(['*nat', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ...rules, 'COMMIT'].join('\n'));
          const w = walkPacket(t, { src: '127.0.0.1', dst: '10.0.0.5', dport: 8080, outInterface: 'lo', inInterface: 'eth0', ...(uid !== null ? { uid } : {}) }, { hook });
          expect(['REDIRECT', 'DNAT', 'RETURN', 'ACCEPT', 'DROP', 'UNRESOLVED']).to.include(w.verdict.kind);
          expect(formatWalk(w)).to.be.a('string');
        }),
        { numRuns: 1000 },
      );
    });
    it('-g from a builtin chain: the policy applies when the target chain ends', function () {
      const t = parseNatTable('*nat\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n-A OUTPUT -g A\n-A OUTPUT -j REDIRECT --to-ports 15001\n-A A -j RETURN\nCOMMIT');
      const w = walkPacket(t, { src: '10.0.0.5', dst: '10.0.0.6', dport: 80 }, { hook: 'OUTPUT' });
      expect(w.verdict.kind).to.equal('RETURN');
    });
  });

  describe('formatWalk', function () {
    it('prints every rule looked at, why, and the verdict', function () {
      const table = parseNatTable(fixture('seed-001-nat-L-v.txt'));
      const text = formatWalk(walkPacket(table, parsePacketSpec(`src=127.0.0.1 dst=${POD_IP}:8080 uid=1337 out=lo`), { hook: 'OUTPUT' }));
      expect(text).to.equal(
        [
          `packet src=127.0.0.1 dst=${POD_IP}:8080 uid=1337 out=lo at OUTPUT`,
          '  match OUTPUT #1  -A OUTPUT -p tcp -j ISTIO_OUTPUT',
          '        tcp -> jump to ISTIO_OUTPUT',
          '  no    ISTIO_OUTPUT #1  -A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN',
          '        source 127.0.0.1 is not in 127.0.0.6/32',
          '  match ISTIO_OUTPUT #2  -A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
          `        out lo, destination ${POD_IP} not in 127.0.0.1/32, uid 1337 is 1337 -> jump to ISTIO_IN_REDIRECT`,
          '  match ISTIO_IN_REDIRECT #1  -A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
          '        tcp -> REDIRECT to port 15006',
          'verdict: REDIRECT to port 15006 (ISTIO_IN_REDIRECT rule 1)',
          "LOOP: a packet the proxy itself sends (uid 1337) is redirected back to Envoy on 15006 by ISTIO_IN_REDIRECT rule 1: Envoy's forwarded connection comes back into Envoy (an iptables loop). This is only intended for the proxy calling its own pod through a Service VIP (app -> Envoy -> Envoy -> app).",
          '',
        ].join('\n'),
      );
    });
  });

  describe('parsePacketSpec', function () {
    const good: Array<[string, Packet]> = [
      ['src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo', { src: '127.0.0.6', dst: '10.0.0.5', dport: 8080, uid: 1337, outInterface: 'lo' }],
      ['src=10.1.2.3:43210 dst=10.0.0.5 dport=15021 in=eth0 proto=TCP', { src: '10.1.2.3', sport: 43210, dst: '10.0.0.5', dport: 15021, inInterface: 'eth0', proto: 'tcp' }],
      ['src=localhost dst=[::1]:15000 gid=1337', { src: '127.0.0.1', dst: '::1', dport: 15000, gid: 1337 }],
      ['  src=::6   dst=fd00::5:8080  ', { src: '::6', dst: 'fd00::5:8080' }],
    ];
    for (const [spec, packet] of good) it(`reads "${spec}"`, () => expect(parsePacketSpec(spec)).to.deep.equal(packet));

    const bad: Array<[string, RegExp]> = [
      ['', /needs at least src= and dst=/],
      ['src=127.0.0.1', /needs at least src= and dst=/],
      ['src=127.0.0.1 dst=pod:8080', /dst "pod" is not an IP address/],
      ['src=127.0.0.1 dst=10.0.0.5:99999', /not a port/],
      ['src=127.0.0.1 dst=10.0.0.5 uid=root', /uid "root" is not a numeric id/],
      ['src=127.0.0.1 dst=10.0.0.5 colour=red', /unknown field "colour"/],
      ['src=127.0.0.1 dst=10.0.0.5 src=127.0.0.6', /given twice/],
      ['src=127.0.0.1 dst=10.0.0.5:80 dport=81', /disagree/],
      ['src=127.0.0.1 dst=10.0.0.5 proto=gre', /proto "gre"/],
      ['src=127.0.0.1 dst=10.0.0.5 out=', /has no value/],
      ['127.0.0.1 -> 10.0.0.5', /is not key=value/],
    ];
    for (const [spec, message] of bad) {
      it(`rejects "${spec}"`, () =>
        expect(() => parsePacketSpec(spec))
          .to.throw(ParseError)
          .with.property('message')
          .that.matches(message));
    }
    it('arbitrary text is a Packet or a ParseError, never anything else', function () {
      const word = fc.oneof(fc.string({ maxLength: 12 }), fc.tuple(fc.constantFrom('src', 'dst', 'dport', 'sport', 'uid', 'gid', 'in', 'out', 'proto', 'x'), fc.string({ maxLength: 20 })).map(([k, v]) => `${k}=${v}`));
      fc.assert(
        fc.property(fc.array(word, { maxLength: 8 }), (words) => {
          try {
            parsePacketSpec(words.join(' '));
          } catch (e) {
            if (!(e instanceof ParseError)) throw e;
          }
        }),
        { numRuns: 1000 },
      );
    });
    it('walking any parsed packet through the seed table ends in a verdict', function () {
      const table = parseNatTable(fixture('seed-001-nat.iptables-save'));
      const ip = fc.oneof(fc.ipV4(), fc.constantFrom('127.0.0.1', '127.0.0.6', '10.33.0.1', '10.32.130.9'));
      fc.assert(
        fc.property(ip, ip, fc.integer({ min: 1, max: 65535 }), fc.option(fc.constantFrom(0, 1000, 1337)), fc.constantFrom('lo', 'eth0', undefined), fc.constantFrom('PREROUTING', 'OUTPUT') as fc.Arbitrary<'PREROUTING' | 'OUTPUT'>, (src, dst, dport, uid, out, hook) => {
          const w = walkPacket(table, { src, dst, dport, ...(uid !== null ? { uid } : {}), ...(out ? { outInterface: out } : {}) }, { hook });
          expect(['REDIRECT', 'RETURN', 'ACCEPT']).to.include(w.verdict.kind);
          if (w.loop) expect(uid).to.equal(1337);
        }),
        { numRuns: 500 },
      );
    });
  });
});
