import { expect } from 'chai';
import { Listener } from '../../../src/model/envoy/listeners.js';
import { RouteConfig } from '../../../src/model/envoy/routes.js';
import { selectFilterChain, type ConnectionProperties } from '../../../src/model/outbound/filter-chain-match.js';
import { selectRoute, selectVirtualHost } from '../../../src/model/outbound/http-route.js';

const tcp = (cluster: string) => ({ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: cluster, cluster } });
const chain = (name: string, match?: Record<string, unknown>) => ({ name, ...(match ? { filter_chain_match: match } : {}), filters: [tcp(name)] });
function listener(chains: object[], defaultChain?: string): Listener {
  return new Listener({
    name: '0.0.0.0_443',
    address: { socket_address: { address: '0.0.0.0', port_value: 443 } },
    filter_chains: chains,
    ...(defaultChain ? { default_filter_chain: { name: defaultChain, filters: [tcp(defaultChain)] } } : {}),
  }, 'active');
}
const tls = (sni: string, extra: Partial<ConnectionProperties> = {}): ConnectionProperties => ({
  destinationPort: 443, serverName: sni, transportProtocol: 'tls', applicationProtocols: ['h2', 'http/1.1'], ...extra,
});

/** Envoy's FilterChainMatch rules, one row each: chains, connection, the chain Envoy picks (or null: closed). */
const cases: Array<{ name: string; chains: object[]; defaultChain?: string; conn: ConnectionProperties; picks: string | null }> = [
  { name: 'exact SNI beats a chain without server_names', chains: [chain('catch-all'), chain('music', { server_names: ['music.baidu.com'] })], conn: tls('music.baidu.com'), picks: 'music' },
  { name: 'a chain without criteria takes an SNI nobody claims', chains: [chain('music', { server_names: ['music.baidu.com'] }), chain('catch-all')], conn: tls('baidu.com'), picks: 'catch-all' },
  { name: 'exact SNI beats a wildcard', chains: [chain('wild', { server_names: ['*.baidu.com'] }), chain('exact', { server_names: ['www.baidu.com'] })], conn: tls('www.baidu.com'), picks: 'exact' },
  { name: 'the longest wildcard wins', chains: [chain('com', { server_names: ['*.com'] }), chain('baidu', { server_names: ['*.baidu.com'] })], conn: tls('music.baidu.com'), picks: 'baidu' },
  { name: 'a wildcard does not match the bare domain', chains: [chain('wild', { server_names: ['*.baidu.com'] })], defaultChain: 'default', conn: tls('baidu.com'), picks: 'default' },
  { name: 'nothing matches and no default chain: closed', chains: [chain('music', { server_names: ['music.baidu.com'] })], conn: tls('baidu.com'), picks: null },
  { name: 'the default chain when nothing matches', chains: [chain('music', { server_names: ['music.baidu.com'] })], defaultChain: 'PassthroughCluster', conn: tls('baidu.com'), picks: 'PassthroughCluster' },
  { name: 'destination port decides first', chains: [chain('blackhole', { destination_port: 15001 }), chain('any')], conn: { ...tls(''), destinationPort: 15001 }, picks: 'blackhole' },
  { name: 'longest destination prefix wins', chains: [chain('wide', { prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 8 }] }), chain('narrow', { prefix_ranges: [{ address_prefix: '10.96.0.0', prefix_len: 16 }] }), chain('none')], conn: tls('', { destinationIp: '10.96.1.2' }), picks: 'narrow' },
  { name: 'an unknown (external) IP only matches chains without ranges', chains: [chain('vip', { prefix_ranges: [{ address_prefix: '10.96.1.2', prefix_len: 32 }] }), chain('none')], conn: tls(''), picks: 'none' },
  {
    name: 'no backtracking: the SNI winner fails transport, the default chain takes it',
    chains: [chain('sni-raw', { server_names: ['a.example'], transport_protocol: 'raw_buffer' }), chain('any-tls', { transport_protocol: 'tls' })],
    defaultChain: 'default', conn: tls('a.example'), picks: 'default',
  },
  { name: 'transport protocol: exact beats unset', chains: [chain('unset'), chain('raw', { transport_protocol: 'raw_buffer' })], conn: { destinationPort: 80, serverName: '', transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1'] }, picks: 'raw' },
  {
    name: 'application protocols: plaintext HTTP takes the HCM chain, TLS the default',
    chains: [chain('hcm', { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] })], defaultChain: 'passthrough',
    conn: tls('www.google.com'), picks: 'passthrough',
  },
  {
    name: 'application protocols: http/1.1 matches the HCM chain',
    chains: [chain('hcm', { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] })], defaultChain: 'passthrough',
    conn: { destinationPort: 443, serverName: '', transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1'] }, picks: 'hcm',
  },
];

describe('outbound: Envoy filter-chain selection', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = selectFilterChain(listener(c.chains, c.defaultChain), c.conn);
      expect(result.chain?.name ?? null, JSON.stringify(result.steps)).to.equal(c.picks);
      if (c.picks === null) expect(result.noMatch).to.match(/no matching filter chain/);
    });
  }

  it('says when two chains tie on every criterion (Envoy would reject the listener)', () => {
    const result = selectFilterChain(listener([chain('a'), chain('b')]), tls('x'));
    expect(result.ambiguous).to.equal(true);
    expect(result.notes.join()).to.match(/duplicate matches/);
  });
});

describe('outbound: virtual host and route selection', () => {
  const config = new RouteConfig({
    name: '80',
    virtual_hosts: [
      { name: 'any', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, direct_response: { status: 502 } }] },
      { name: 'suffix', domains: ['*.example.com'], routes: [{ name: 's', match: { prefix: '/' }, route: { cluster: 'suffix' } }] },
      { name: 'prefix', domains: ['api.*'], routes: [{ name: 'p', match: { prefix: '/' }, route: { cluster: 'prefix' } }] },
      { name: 'exact', domains: ['httpbin.org', 'httpbin.org:80'], routes: [{ name: 'ip', match: { path: '/ip' }, route: { cluster: 'ip' } }, { name: 'rest', match: { prefix: '/' }, route: { cluster: 'rest' } }] },
    ],
  }, 'dynamic');
  const rows: Array<[string, string]> = [['httpbin.org', 'exact'], ['HTTPBIN.org', 'exact'], ['www.example.com', 'suffix'], ['api.foo', 'prefix'], ['other.net', 'any'], ['example.com', 'any']];
  for (const [host, vh] of rows) {
    it(`Host ${host} -> virtual host ${vh}`, () => expect(selectVirtualHost(config, host).virtualHost?.name).to.equal(vh));
  }
  it('routes in order, first match wins', () => {
    const vh = selectVirtualHost(config, 'httpbin.org').virtualHost!;
    expect(selectRoute(vh, '/ip').route?.name).to.equal('ip');
    expect(selectRoute(vh, '/headers').route?.name).to.equal('rest');
  });
  it('ignores the port only when ignore_port_in_host_matching is set', () => {
    expect(selectVirtualHost(config, 'www.example.com:8080').virtualHost?.name).to.equal('any');
    const ignoring = new RouteConfig({ ...config.raw, ignore_port_in_host_matching: true }, 'dynamic');
    expect(selectVirtualHost(ignoring, 'www.example.com:8080').virtualHost?.name).to.equal('suffix');
  });
});
