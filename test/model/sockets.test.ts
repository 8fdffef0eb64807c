import { expect } from 'chai';
import fc from 'fast-check';
import { ParseError } from '../../src/errors.js';
import { type ListeningSocket, parseListeningSockets, whoListensOn } from '../../src/model/sockets.js';

/*
 * Fixtures are written for these tests in the exact layouts the tools print. What an Istio sidecar
 * listens on, and who, follows Istio's "Application Requirements -> Ports used by Istio"
 * (istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio: 15000 Envoy admin, pod-local;
 * 15001 outbound; 15004 debug, pod-local; 15006 inbound; 15020 merged Prometheus telemetry (pilot-agent);
 * 15021 health checks; 15090 Envoy Prometheus) and the shape of public outputs from real sidecars:
 * `ss -tanp` in confidential-containers/cloud-api-adaptor#87 (envoy twice on 15001/15090, 127.0.0.1:15000
 * envoy, 127.0.0.1:15004 pilot-agent), `netstat -anlp` in istio/istio#20062, `netstat -a` without -n in
 * istio/istio#54781 (`localhost:15053`, `[::]:15001`), `ss -tulpn` with a Netid column in istio/istio#52260,
 * and `netstat -ntlp` outputs in public notes showing `tcp6 ... :::15020 ... 1/pilot-agent`.
 * The app here is the seed 001 kind: a Go server that binds 127.0.0.1:8080 only.
 */

const SS_LTNP = `State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN 0      4096       127.0.0.1:15000      0.0.0.0:*     users:(("envoy",pid=18,fd=18))
LISTEN 0      4096         0.0.0.0:15001      0.0.0.0:*     users:(("envoy",pid=18,fd=34))
LISTEN 0      4096         0.0.0.0:15001      0.0.0.0:*     users:(("envoy",pid=18,fd=33))
LISTEN 0      4096       127.0.0.1:15004      0.0.0.0:*     users:(("pilot-agent",pid=1,fd=15))
LISTEN 0      4096         0.0.0.0:15006      0.0.0.0:*     users:(("envoy",pid=18,fd=36))
LISTEN 0      4096         0.0.0.0:15021      0.0.0.0:*     users:(("envoy",pid=18,fd=23))
LISTEN 0      4096         0.0.0.0:15090      0.0.0.0:*     users:(("envoy",pid=18,fd=21))
LISTEN 0      4096       127.0.0.1:8080       0.0.0.0:*
LISTEN 0      4096               *:15020            *:*     users:(("pilot-agent",pid=1,fd=8))
`;

const NETSTAT_NATPW = `Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0 127.0.0.1:15000         0.0.0.0:*               LISTEN      18/envoy
tcp        0      0 0.0.0.0:15001           0.0.0.0:*               LISTEN      18/envoy
tcp        0      0 127.0.0.1:15004         0.0.0.0:*               LISTEN      1/pilot-agent
tcp        0      0 0.0.0.0:15006           0.0.0.0:*               LISTEN      18/envoy
tcp        0      0 0.0.0.0:15021           0.0.0.0:*               LISTEN      18/envoy
tcp        0      0 0.0.0.0:15090           0.0.0.0:*               LISTEN      18/envoy
tcp        0      0 10.0.0.5:8080           0.0.0.0:*               LISTEN      -
tcp        0      0 10.0.0.5:41884          10.96.0.20:15012        ESTABLISHED 1/pilot-agent
tcp        0      0 127.0.0.1:35304         127.0.0.1:15000         ESTABLISHED 1/pilot-agent
tcp6       0      0 :::15020                :::*                    LISTEN      1/pilot-agent
tcp6       0      0 127.0.0.1:15020         127.0.0.1:35542         ESTABLISHED 1/pilot-agent
udp        0      0 127.0.0.1:15053         0.0.0.0:*                           1/pilot-agent
raw        0      0 0.0.0.0:255             0.0.0.0:*               7           -
Active UNIX domain sockets (servers and established)
Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path
unix  2      [ ACC ]     STREAM     LISTENING     77285    1/pilot-agent        ./etc/istio/proxy/XDS
`;

// 15000=3A98 15001=3A99 15006=3A9E 15020=3AAC 15021=3AAD 15090=3AF2 8080=1F90; 10.0.0.5 = 0500000A (little-endian words)
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:3A98 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1337        0 28231 1 0000000000000000 100 0 0 10 0
   1: 00000000:3A99 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1337        0 28240 1 0000000000000000 100 0 0 10 0
   2: 00000000:3A9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1337        0 28241 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 29001 1 0000000000000000 100 0 0 10 0
   4: 0500000A:A3DC 1400600A:3AAC 01 00000000:00000000 02:000A7B2C 00000000  1337        0 28250 2 0000000000000000 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:3AAC 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1337        0 28230 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 29002 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 29003 1 0000000000000000 100 0 0 10 0
`;

type Row = Pick<ListeningSocket, 'address' | 'port' | 'family' | 'loopbackOnly' | 'wildcard'> & { process?: string; pid?: number; uid?: number };
const rows = (s: ListeningSocket[]): Row[] =>
  s.map((x) => {
    const r: Row = { address: x.address, port: x.port, family: x.family, loopbackOnly: x.loopbackOnly, wildcard: x.wildcard };
    if (x.process !== undefined) r.process = x.process;
    if (x.pid !== undefined) r.pid = x.pid;
    if (x.uid !== undefined) r.uid = x.uid;
    return r;
  });

describe('model/sockets', () => {
  describe('parseListeningSockets: good inputs', function () {
    it('ss -ltnp with its header: envoy, pilot-agent and an app on 127.0.0.1', function () {
      const s = parseListeningSockets(SS_LTNP);
      expect(s).to.have.length(9);
      expect(rows(s)[0]).to.deep.equal({ address: '127.0.0.1', port: 15000, family: 'ipv4', loopbackOnly: true, wildcard: false, process: 'envoy', pid: 18 });
      expect(rows(s)[7]).to.deep.equal({ address: '127.0.0.1', port: 8080, family: 'ipv4', loopbackOnly: true, wildcard: false });
      expect(rows(s)[8]).to.deep.equal({ address: '::', port: 15020, family: 'ipv6', loopbackOnly: false, wildcard: true, process: 'pilot-agent', pid: 1 });
      expect(s.every((x) => x.source === 'ss')).to.equal(true);
      expect(s[7]!.lineNumber).to.equal(9);
    });

    it('netstat -natpw: only LISTEN tcp rows; udp, raw, ESTABLISHED and unix sockets are left out', function () {
      const s = parseListeningSockets(NETSTAT_NATPW);
      expect(s.map((x) => `${x.address}:${x.port}/${x.process ?? '-'}`)).to.deep.equal([
        '127.0.0.1:15000/envoy',
        '0.0.0.0:15001/envoy',
        '127.0.0.1:15004/pilot-agent',
        '0.0.0.0:15006/envoy',
        '0.0.0.0:15021/envoy',
        '0.0.0.0:15090/envoy',
        '10.0.0.5:8080/-',
        ':::15020/pilot-agent',
      ]);
      expect(s[7]).to.include({ family: 'ipv6', wildcard: true, pid: 1 });
    });

    it('/proc/net/tcp and /proc/net/tcp6 concatenated: hex, little-endian words, st 0A only, uid kept', function () {
      const s = parseListeningSockets(PROC_NET_TCP);
      expect(rows(s)).to.deep.equal([
        { address: '127.0.0.1', port: 15000, family: 'ipv4', loopbackOnly: true, wildcard: false, uid: 1337 },
        { address: '0.0.0.0', port: 15001, family: 'ipv4', loopbackOnly: false, wildcard: true, uid: 1337 },
        { address: '0.0.0.0', port: 15006, family: 'ipv4', loopbackOnly: false, wildcard: true, uid: 1337 },
        { address: '127.0.0.1', port: 8080, family: 'ipv4', loopbackOnly: true, wildcard: false, uid: 1000 },
        { address: '::', port: 15020, family: 'ipv6', loopbackOnly: false, wildcard: true, uid: 1337 },
        { address: '::1', port: 8081, family: 'ipv6', loopbackOnly: true, wildcard: false, uid: 1000 },
        { address: '::ffff:127.0.0.1', port: 8082, family: 'ipv6', loopbackOnly: true, wildcard: false, uid: 1000 },
      ]);
    });

    const more: Array<[string, string, string[]]> = [
      ['ss -ltnH (no header, no process)', 'LISTEN 0 4096 0.0.0.0:15021 0.0.0.0:*\nLISTEN 0 4096 [::]:8080 [::]:*\nLISTEN 0 128 [::1]:9090 [::]:*', ['0.0.0.0:15021 wildcard', ':::8080 wildcard', '::1:9090 loopback']],
      [
        'ss -tulpn with a Netid column: udp rows left out',
        'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nudp   UNCONN 0      0          127.0.0.1:15053      0.0.0.0:*     users:(("pilot-agent",pid=1,fd=9))\ntcp   LISTEN 0      1024         0.0.0.0:15008      0.0.0.0:*     users:(("envoy",pid=15,fd=39))',
        ['0.0.0.0:15008 wildcard'],
      ],
      ['ss -tan: ESTAB rows left out', 'State  Recv-Q Send-Q Local Address:Port Peer Address:Port\nESTAB  0      0          10.0.0.5:41884  10.96.0.20:15012\nLISTEN 0      511          0.0.0.0:80         0.0.0.0:*', ['0.0.0.0:80 wildcard']],
      ['ss with a scope interface', 'LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*', ['127.0.0.53:53 loopback']],
      [
        'netstat -a without -n: localhost and [::] names',
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp        0      0 localhost:15053         0.0.0.0:*               LISTEN\ntcp6       0      0 [::]:15001              [::]:*                  LISTEN\ntcp6       0      0 localhost:15053         [::]:*                  LISTEN',
        ['127.0.0.1:15053 loopback', ':::15001 wildcard', '::1:15053 loopback'],
      ],
      ['netstat -ltn with nothing listening', 'Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State', []],
      ['netstat without -n showing a host name it cannot resolve here', 'tcp        0      0 productpage-v1-6d8:9080 0.0.0.0:*               LISTEN', ['productpage-v1-6d8:9080 specific']],
    ];
    for (const [title, text, expected] of more) {
      it(title, function () {
        const s = parseListeningSockets(text);
        expect(s.map((x) => `${x.address}:${x.port} ${x.wildcard ? 'wildcard' : x.loopbackOnly ? 'loopback' : 'specific'}`)).to.deep.equal(expected);
      });
    }
  });

  describe('parseListeningSockets: bad inputs', function () {
    const bad: Array<[string, unknown, RegExp]> = [
      ['empty', '', /no ss, netstat or \/proc\/net\/tcp output found/],
      ['prose', 'kubectl: error: container istio-proxy not found', /no ss, netstat/],
      ['not text', { lines: [] }, /expected text, got object/],
      ['ss row with a bad port', 'LISTEN 0 4096 0.0.0.0:99999 0.0.0.0:*', /no ss, netstat/],
    ];
    for (const [title, input, message] of bad) {
      it(title, function () {
        expect(() => parseListeningSockets(input, 'netstat of web-1'))
          .to.throw(ParseError)
          .with.property('message')
          .that.matches(message);
      });
    }
    it('arbitrary text is a list or a ParseError, never anything else', function () {
      const token = fc.constantFrom('LISTEN', 'ESTAB', 'tcp', 'tcp6', 'udp', '0', '4096', '0.0.0.0:15001', '[::]:80', '*:1', ':::15020', '127.0.0.1%lo:53', 'users:(("envoy",pid=1,fd=2))', '1/envoy', '-', '0A', '0:', '0100007F:3A98', '00000000:0000', 'sl', 'local_address', 'rem_address', 'st', 'Proto', 'Recv-Q', 'Send-Q', 'Local', 'Address', 'State');
      const line = fc.oneof(fc.string({ maxLength: 60 }), fc.array(token, { maxLength: 10 }).map((t) => t.join(' ')));
      fc.assert(
        fc.property(fc.array(line, { maxLength: 20 }), (ls) => {
          try {
            const s = parseListeningSockets(ls.join('\n'));
            for (const x of s) expect(x.port).to.be.within(0, 65535);
          } catch (e) {
            if (!(e instanceof ParseError)) throw e;
          }
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('whoListensOn', function () {
    const sockets = (lines: string): ListeningSocket[] => parseListeningSockets(lines);
    type Case = { title: string; text: string; port: number; podIp?: string; expected: { wildcard: boolean; podIp?: string; loopbackOnly: boolean; otherAddresses: string[]; reachableAtPodIp: boolean; reachableAtLocalhost: boolean; count: number } };
    const cases: Case[] = [
      { title: 'the seed 001 app: 127.0.0.1 only -> fine before 1.10, unreachable from 1.10', text: SS_LTNP, port: 8080, expected: { wildcard: false, loopbackOnly: true, otherAddresses: [], reachableAtPodIp: false, reachableAtLocalhost: true, count: 1 } },
      { title: 'the fix, ":8080": wildcard -> reachable both ways', text: 'LISTEN 0 4096 *:8080 *:*', port: 8080, expected: { wildcard: true, loopbackOnly: false, otherAddresses: [], reachableAtPodIp: true, reachableAtLocalhost: true, count: 1 } },
      { title: 'bound to the pod IP -> 1.10+ works, pre-1.10 forwarding to 127.0.0.1 would not', text: NETSTAT_NATPW, port: 8080, podIp: '10.0.0.5', expected: { wildcard: false, podIp: '10.0.0.5', loopbackOnly: false, otherAddresses: [], reachableAtPodIp: true, reachableAtLocalhost: false, count: 1 } },
      { title: 'a specific address with no pod IP given is taken as the pod IP', text: NETSTAT_NATPW, port: 8080, expected: { wildcard: false, podIp: '10.0.0.5', loopbackOnly: false, otherAddresses: [], reachableAtPodIp: true, reachableAtLocalhost: false, count: 1 } },
      { title: 'bound to another address than the pod IP', text: NETSTAT_NATPW, port: 8080, podIp: '10.0.0.9', expected: { wildcard: false, loopbackOnly: false, otherAddresses: ['10.0.0.5'], reachableAtPodIp: false, reachableAtLocalhost: false, count: 1 } },
      { title: 'bound to 127.0.0.2: loopback, but not where pre-1.10 Envoy connects', text: 'LISTEN 0 10 127.0.0.2:8080 0.0.0.0:*', port: 8080, expected: { wildcard: false, loopbackOnly: true, otherAddresses: [], reachableAtPodIp: false, reachableAtLocalhost: false, count: 1 } },
      { title: 'bound to ::ffff:127.0.0.1 counts as 127.0.0.1', text: PROC_NET_TCP, port: 8082, expected: { wildcard: false, loopbackOnly: true, otherAddresses: [], reachableAtPodIp: false, reachableAtLocalhost: true, count: 1 } },
      { title: 'nobody on the port', text: SS_LTNP, port: 9999, expected: { wildcard: false, loopbackOnly: false, otherAddresses: [], reachableAtPodIp: false, reachableAtLocalhost: false, count: 0 } },
      { title: 'Envoy admin 15000 is pod-local by design', text: SS_LTNP, port: 15000, expected: { wildcard: false, loopbackOnly: true, otherAddresses: [], reachableAtPodIp: false, reachableAtLocalhost: true, count: 1 } },
      { title: 'Envoy outbound 15001 on every address (two sockets, one per listener socket Envoy opened)', text: SS_LTNP, port: 15001, expected: { wildcard: true, loopbackOnly: false, otherAddresses: [], reachableAtPodIp: true, reachableAtLocalhost: true, count: 2 } },
    ];
    for (const c of cases) {
      it(c.title, function () {
        const w = whoListensOn(sockets(c.text), c.port, c.podIp ? { podIp: c.podIp } : {});
        const { count, ...rest } = c.expected;
        expect(w.sockets).to.have.length(count);
        expect({ wildcard: w.wildcard, ...(w.podIp !== undefined ? { podIp: w.podIp } : {}), loopbackOnly: w.loopbackOnly, otherAddresses: w.otherAddresses, reachableAtPodIp: w.reachableAtPodIp, reachableAtLocalhost: w.reachableAtLocalhost }).to.deep.equal(rest);
      });
    }
  });
});
