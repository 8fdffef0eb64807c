/**
 * A deterministic generator of listener dumps that stress istioctl's table:
 * many filter chains with equal DESTINATION and many listeners with equal
 * port/address/type, so the order of ties (Go's unstable sort.Slice) shows.
 * The expected tables in fixtures/istioctl-oracle/ were printed for these
 * exact dumps by istioctl's own code (see fixtures/istioctl-oracle/PROVENANCE.md).
 * Shapes follow Envoy's v3 Listener API; values are invented.
 */
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

export function randomListenersDump(seed: number, opts: { listeners: number; maxChains: number }): Record<string, unknown> {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const n = (k: number) => Math.floor(rnd() * k);
  const pick = <V>(a: readonly V[]): V => a[n(a.length)]!;
  const clusters = ['PassthroughCluster', 'BlackHoleCluster', 'InboundPassthroughClusterIpv4', 'outbound|443||a.com', 'inbound|8080||', 'x'];
  const filter = () => {
    const k = n(4);
    if (k === 0) return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP, stat_prefix: 's', cluster: pick(clusters) } };
    if (k === 1) return { name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, stat_prefix: 's', rds: { route_config_name: pick(['80', '443']) } } };
    if (k === 2) {
      return {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: { '@type': HCM, stat_prefix: 's', route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: pick(['/', '/a']) }, route: { cluster: pick(clusters) } }] }] } },
      };
    }
    return { name: 'istio.metadata_exchange' };
  };
  const chain = (i: number) => {
    const m: Record<string, unknown> = {};
    if (rnd() < 0.5) m.destination_port = pick([80, 443, 8080]);
    if (rnd() < 0.3) m.server_names = [pick(['a.com', '*.b.com'])];
    if (rnd() < 0.5) m.transport_protocol = pick(['tls', 'raw_buffer']);
    if (rnd() < 0.3) m.application_protocols = pick([['http/1.0', 'http/1.1', 'h2c'], ['istio-peer-exchange', 'istio'], ['h2']]);
    if (rnd() < 0.3) m.prefix_ranges = [{ address_prefix: pick(['0.0.0.0', '10.0.0.0']), prefix_len: pick([0, 8]) }];
    return { name: `chain-${i}`, filter_chain_match: m, filters: [filter()] };
  };
  const listener = (i: number) => {
    const port = pick([80, 443, 15001]);
    const l: Record<string, unknown> = {
      '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
      name: `l${i}`,
      address: { socket_address: { address: pick(['0.0.0.0', '10.0.0.1']), port_value: port } },
      filter_chains: Array.from({ length: n(opts.maxChains + 1) }, (_, c) => chain(c)),
    };
    if (rnd() < 0.3) l.default_filter_chain = { name: 'default', filters: [filter()] };
    return l;
  };
  return {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        dynamic_listeners: Array.from({ length: opts.listeners }, (_, i) => ({ name: `l${i}`, active_state: { listener: listener(i) } })),
      },
    ],
  };
}

/** The cases whose istioctl output is stored in fixtures/istioctl-oracle/<name>.txt. */
export const ORACLE_CASES: readonly { name: string; seed: number; listeners: number; maxChains: number }[] = [
  { name: 'many-chains', seed: 7, listeners: 2, maxChains: 90 },
  { name: 'many-listeners', seed: 11, listeners: 60, maxChains: 3 },
  { name: 'mixed', seed: 23, listeners: 12, maxChains: 30 },
];
