import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { goSortSlice, goStringLess, tabwriterFormat } from '../../../src/model/envoy/go-compat.js';
import {
  configDumpFromJson,
  describeFilterChainDestination,
  describeFilterChainMatch,
  FilterChain,
  formatListenerTable,
  listenerTable,
  listenerType,
  parseConfigDump,
} from '../../../src/model/envoy/index.js';
import { T, fullDump, listeners, listenersDump, rds, tcpProxy } from './fixtures.js';
import { ORACLE_CASES, randomListenersDump } from './random-listeners.js';

const chain = (raw: object) => new FilterChain(raw as never);
const table = (dump: object, filter = {}) => formatListenerTable(listenerTable(configDumpFromJson(dump, 'x'), filter));

describe('model/envoy listener table (istioctl proxy-config listeners)', () => {
  describe('MATCH column', () => {
    const cases: [string, object, string][] = [
      ['no match at all', {}, 'ALL'],
      ['an empty filter_chain_match', { filter_chain_match: {} }, 'ALL'],
      ['source criteria only (istioctl does not print them)', { filter_chain_match: { source_type: 'SAME_IP_OR_LOOPBACK', source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 8 }] } }, 'ALL'],
      ['one SNI', { filter_chain_match: { server_names: ['music.baidu.com'] } }, 'SNI: music.baidu.com'],
      ['several SNIs', { filter_chain_match: { server_names: ['a.com', '*.b.com'] } }, 'SNI: a.com,*.b.com'],
      ['transport protocol', { filter_chain_match: { transport_protocol: 'tls' } }, 'Trans: tls'],
      ['plain HTTP ALPNs', { filter_chain_match: { application_protocols: ['http/1.0', 'http/1.1', 'h2c'] } }, 'App: HTTP'],
      ['Istio TCP TLS ALPNs', { filter_chain_match: { application_protocols: ['istio-peer-exchange', 'istio'] } }, 'App: TCP TLS'],
      ['Istio HTTP plain ALPNs', { filter_chain_match: { application_protocols: ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] } }, 'App: Istio HTTP Plain'],
      ['HTTP TLS ALPNs', { filter_chain_match: { application_protocols: ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] } }, 'App: HTTP TLS'],
      ['other ALPNs, listed (1.20 shape)', { filter_chain_match: { application_protocols: ['http/1.1', 'h2c'] } }, 'App: http/1.1,h2c'],
      ['destination port only', { filter_chain_match: { destination_port: 15001 } }, 'Addr: *:15001'],
      ['prefix ranges', { filter_chain_match: { prefix_ranges: [{ address_prefix: '10.0.0.1', prefix_len: 32 }, { address_prefix: '::' }] } }, 'Addr: 10.0.0.1/32,::/0'],
      ['prefix ranges and port', { filter_chain_match: { destination_port: 8080, prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }] } }, 'Addr: 0.0.0.0/0:8080'],
      [
        'everything, in istioctl order',
        { filter_chain_match: { destination_port: 9080, prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }], application_protocols: ['istio-peer-exchange', 'istio'], transport_protocol: 'tls', server_names: ['x'] } },
        'SNI: x; Trans: tls; App: TCP TLS; Addr: 0.0.0.0/0:9080',
      ],
      ['camelCase (istioctl -o json)', { filterChainMatch: { destinationPort: 80, transportProtocol: 'raw_buffer' } }, 'Trans: raw_buffer; Addr: *:80'],
    ];
    for (const [name, raw, want] of cases) {
      it(`${name} -> ${want}`, () => expect(describeFilterChainMatch(chain(raw))).to.equal(want));
    }
  });

  describe('DESTINATION column', () => {
    const hcm = (typed: object) => ({ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': T.hcm, ...typed } });
    const inline = (vhs: object[]) => hcm({ route_config: { name: 'r', virtual_hosts: vhs } });
    const cases: [string, object[], string][] = [
      ['RDS', [rds('80')], 'Route: 80'],
      ['HCM without routes', [hcm({})], 'HTTP'],
      ['a cluster name with "Cluster" in it', [tcpProxy('PassthroughCluster')], 'PassthroughCluster'],
      ['an Istio cluster', [tcpProxy('outbound|443||music.baidu.com')], 'Cluster: outbound|443||music.baidu.com'],
      ['weighted clusters (no single cluster)', [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcp, stat_prefix: 's', weighted_clusters: { clusters: [{ name: 'a', weight: 1 }] } } }], 'Cluster: '],
      ['BlackHoleCluster is skipped', [tcpProxy('BlackHoleCluster')], 'Non-HTTP/Non-TCP'],
      ['BlackHoleCluster named only in stat_prefix is skipped too', [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcp, stat_prefix: 'BlackHoleCluster', cluster: 'x' } }], 'Non-HTTP/Non-TCP'],
      ['the filter after a blackhole tcp_proxy wins', [tcpProxy('BlackHoleCluster'), rds('9')], 'Route: 9'],
      ['the first terminal filter wins', [{ name: 'istio.stats' }, tcpProxy('x'), rds('9')], 'Cluster: x'],
      ['filters known only by legacy names are not recognised', [{ name: 'envoy.tcp_proxy', typed_config: { '@type': T.tcp, cluster: 'x' } }], 'Non-HTTP/Non-TCP'],
      ['no filters', [], 'Non-HTTP/Non-TCP'],
      ['match-all inline route to an Istio cluster', [inline([{ domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|9080||' } }] }])], 'Cluster: inbound|9080||'],
      ['match-all inline route to PassthroughCluster', [inline([{ domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] }])], 'PassthroughCluster'],
      ['inline route with a prefix', [inline([{ domains: ['*'], routes: [{ match: { prefix: '/stats/prometheus' }, route: { cluster: 'prometheus_stats' } }] }])], 'Inline Route: /stats/prometheus*'],
      [
        'inline route with domains, paths, regex and path-separated prefix',
        [inline([{ domains: ['a', 'b'], routes: [{ match: { path: '/x' } }, { match: { safe_regex: { regex: '.*' } } }] }, { domains: ['*'], routes: [{ match: { path_separated_prefix: '/p' } }, { match: { prefix: '/', headers: [{ name: 'h' }] } }] }])],
        'Inline Route: a/b /x, regex .*; PathPrefix:/p, /*',
      ],
      ['inline route with a direct response is described, not shortened', [inline([{ domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 502 } }] }])], 'Inline Route: /*'],
      ['an empty inline route config', [hcm({ route_config: {} })], 'Inline Route: '],
    ];
    for (const [name, filters, want] of cases) {
      it(`${name} -> ${want}`, () => expect(describeFilterChainDestination(chain({ filters }))).to.equal(want));
    }
  });

  describe('listener type (--type)', () => {
    it('classifies HTTP, TCP, HTTP+TCP and UNKNOWN like istioctl, counting the default chain', () => {
      const d = configDumpFromJson(fullDump(), 'x');
      expect(listenerType(d.listener('0.0.0.0_80')!)).to.equal('HTTP+TCP');
      expect(listenerType(d.listener('0.0.0.0_443')!)).to.equal('TCP');
      expect(listenerType(d.listener('virtualOutbound')!)).to.equal('TCP');
      expect(listenerType(d.listener('virtualInbound')!)).to.equal('HTTP+TCP');
      const bh = configDumpFromJson(listenersDump([{ name: 'b', address: { socket_address: { address: '0.0.0.0', port_value: 1 } }, filter_chains: [{ filters: [tcpProxy('BlackHoleCluster')] }] }]), 'x');
      expect(listenerType(bh.listeners[0]!)).to.equal('UNKNOWN');
    });
  });

  describe('whole tables (expected output printed by istioctl\'s own code for the same dump)', () => {
    // Expected strings: istioctl's PrintListenerSummary (istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad)
    // run on JSON.stringify(fullDump()), see fixtures/istioctl-oracle/PROVENANCE.md.
    it('prints the fixture dump: listeners by port, chains by destination descending, default chain included', () => {
      expect(table(fullDump())).to.equal(
        [
          'ADDRESSES PORT  MATCH                                           DESTINATION',
          '0.0.0.0   80    Trans: raw_buffer; App: HTTP                    Route: 80',
          '0.0.0.0   80    ALL                                             PassthroughCluster',
          '0.0.0.0   443   ALL                                             Cluster: outbound|443||traefik.cutom-name',
          '0.0.0.0   443   SNI: music.baidu.com                            Cluster: outbound|443||music.baidu.com',
          '0.0.0.0   15001 ALL                                             PassthroughCluster',
          '0.0.0.0   15001 Addr: *:15001                                   Non-HTTP/Non-TCP',
          '0.0.0.0   15006 Addr: 0.0.0.0/0                                 InboundPassthroughClusterIpv4',
          '0.0.0.0   15006 Trans: tls; App: Istio HTTP Plain; Addr: *:9080 Cluster: inbound|9080||',
          '',
        ].join('\n'),
      );
    });

    it('filters like --port, --type and --address', () => {
      expect(table(fullDump(), { port: 443 })).to.equal(
        ['ADDRESSES PORT MATCH                DESTINATION', '0.0.0.0   443  ALL                  Cluster: outbound|443||traefik.cutom-name', '0.0.0.0   443  SNI: music.baidu.com Cluster: outbound|443||music.baidu.com', ''].join('\n'),
      );
      expect(table(fullDump(), { type: 'tcp' }).split('\n').slice(1, -1).map((l) => l.split(/ +/)[1])).to.deep.equal(['443', '443', '15001', '15001']);
      expect(table(fullDump(), { address: '0.0.0.0', port: 80 })).to.equal(
        ['ADDRESSES PORT MATCH                        DESTINATION', '0.0.0.0   80   Trans: raw_buffer; App: HTTP Route: 80', '0.0.0.0   80   ALL                          PassthroughCluster', ''].join('\n'),
      );
      expect(listenerTable(configDumpFromJson(fullDump(), 'x'), { type: 'HTTP+TCP' }).map((r) => r.port)).to.deep.equal([80, 80, 15006, 15006]);
      expect(listenerTable(configDumpFromJson(fullDump(), 'x'), { address: '10.9.9.9' })).to.deep.equal([]);
    });

    it('shows only active and static listeners (not warming or draining)', () => {
      const rows = listenerTable(configDumpFromJson(fullDump(), 'x'));
      expect(rows.filter((r) => r.port === 9999)).to.deep.equal([]);
      expect(rows.filter((r) => r.port === 15001)).to.have.length(2);
    });

    it('exposes the listener and filter chain behind each row (for an OWNER column)', () => {
      const rows = listenerTable(configDumpFromJson(fullDump(), 'x'), { port: 80 });
      expect(rows[1]!.listener.name).to.equal('0.0.0.0_80');
      expect(rows[1]!.filterChain.isDefault).to.equal(true);
      expect(rows[1]!.filterChain.tcpProxy!.cluster).to.equal('PassthroughCluster');
      expect(rows[0]!.filterChain.httpConnectionManager!.rdsRouteConfigName).to.equal('80');
    });

    it('prints additional addresses comma-joined, and matches them with --address', () => {
      const dual = { ...listeners.virtualOutbound, additional_addresses: [{ address: { socket_address: { address: '::', port_value: 15001 } } }] };
      const d = listenersDump([dual]);
      expect(table(d)).to.equal(['ADDRESSES  PORT  MATCH         DESTINATION', '0.0.0.0,:: 15001 ALL           PassthroughCluster', '0.0.0.0,:: 15001 Addr: *:15001 Non-HTTP/Non-TCP', ''].join('\n'));
      expect(listenerTable(configDumpFromJson(d, 'x'), { address: '::' })).to.have.length(2);
      expect(formatListenerTable(listenerTable(configDumpFromJson(d, 'x')), { addressHeader: 'ADDRESS' })).to.equal(
        ['ADDRESS PORT  MATCH         DESTINATION', '0.0.0.0 15001 ALL           PassthroughCluster', '0.0.0.0 15001 Addr: *:15001 Non-HTTP/Non-TCP', ''].join('\n'),
      );
    });

    it('lists dynamic listeners before static ones before sorting, and prints just the header when nothing matches', () => {
      const s = { ...listeners.http80, name: 'static-80' };
      const rows = listenerTable(configDumpFromJson(listenersDump([listeners.http80], [s]), 'x'));
      expect(rows.map((r) => r.listener.state)).to.deep.equal(['active', 'active', 'static', 'static']);
      expect(formatListenerTable([])).to.equal('ADDRESSES PORT MATCH DESTINATION\n');
    });

    for (const c of ORACLE_CASES) {
      it(`reproduces istioctl's order of ties exactly: ${c.name} (${c.listeners} listeners, up to ${c.maxChains} chains each)`, () => {
        const want = readFileSync(new URL(`./fixtures/istioctl-oracle/${c.name}.txt`, import.meta.url), 'utf8');
        const got = formatListenerTable(listenerTable(parseConfigDump(JSON.stringify(randomListenersDump(c.seed, c)), c.name)));
        expect(got).to.equal(want);
      });
    }
  });

  describe('Go compatibility', () => {
    it('compares strings like Go (UTF-8 byte order), not like JavaScript (UTF-16)', () => {
      expect(goStringLess('a', 'b')).to.equal(true);
      expect(goStringLess('ab', 'a')).to.equal(false);
      expect(goStringLess('a', 'ab')).to.equal(true);
      expect('\u{1D518}' < '\uFB01').to.equal(true); // JavaScript
      expect(goStringLess('\u{1D518}', '\uFB01')).to.equal(false); // Go: U+1D518 > U+FB01
      expect(goStringLess('\uFB01', '\u{1D518}')).to.equal(true);
    });

    it('leaves ties in the order Go\'s sort.Slice leaves them (vector printed by Go 1.26 sort.Slice)', () => {
      const keys = Array.from({ length: 60 }, (_, j) => (j * 7) % 4);
      const items = keys.map((k, i) => ({ k, i }));
      goSortSlice(items, (a, b) => a.k < b.k);
      expect(items.map((x) => x.i)).to.deep.equal([
        52, 48, 56, 32, 4, 24, 28, 8, 16, 36, 0, 20, 12, 40, 44, 7, 15, 43, 47, 19, 11, 39, 51, 23, 55, 35, 3, 27, 59, 31, 30, 6, 26, 58, 34, 2, 22, 54, 38, 50,
        18, 10, 42, 46, 14, 45, 17, 13, 41, 49, 21, 9, 29, 53, 37, 5, 25, 57, 33, 1,
      ]);
    });

    it('sorts (ignoring tie order) like Array.prototype.sort for any input', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), (xs) => {
          const a = [...xs];
          goSortSlice(a, (x, y) => x < y);
          expect(a).to.deep.equal([...xs].sort((x, y) => x - y));
        }),
        { numRuns: 300 },
      );
    });

    it('is insertion sort (stable) up to 12 elements', () => {
      const items = [3, 1, 3, 1, 2, 3, 1].map((k, i) => ({ k, i }));
      goSortSlice(items, (a, b) => a.k < b.k);
      expect(items.map((x) => x.i)).to.deep.equal([1, 3, 6, 4, 0, 2, 5]);
    });

    it('aligns like text/tabwriter(minwidth 0, tabwidth 8, padding 1, " ", 0) (expected strings printed by Go 1.26)', () => {
      expect(tabwriterFormat('a\tbb\tc\nccc\td\te\n')).to.equal('a   bb c\nccc d  e\n');
      // The last cell of a line is not aligned; widths count runes, not bytes.
      expect(tabwriterFormat('ü\tx\nab\ty\n')).to.equal('ü  x\nab y\n');
      // A line without a tab ends the column block (tabwriter flushes there).
      expect(tabwriterFormat('aaaa\tb\nline\nc\td\n')).to.equal('aaaa b\nline\nc d\n');
      // Lines with fewer cells do not take part in later columns.
      expect(tabwriterFormat('a\tb\tc\nxx\ty\nlong\tlonger\tz\n')).to.equal('a    b c\nxx   y\nlong longer z\n');
      expect(tabwriterFormat('')).to.equal('');
      expect(tabwriterFormat('no newline\tat end')).to.equal('no newline at end');
    });
  });
});
