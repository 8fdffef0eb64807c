/**
 * A synthetic sidecar config dump for N services, for benchmarks. Each
 * service gets what Istio 1.20 generates for a Kubernetes Service with one
 * HTTP port (shapes modelled on the real istio-1.20.8 dump in
 * ../shared/data/real-config-dumps/): an EDS cluster with Istio's auto-mTLS
 * transport_socket_matches, a per-VIP listener with an HTTP chain (RDS) and a
 * tcp_proxy default chain, a route config with one virtual host, and EDS
 * endpoints (`?include_eds`).
 */
export function syntheticConfigDump(services: number): string {
  const clusters: unknown[] = [];
  const listeners: unknown[] = [];
  const routes: unknown[] = [];
  const endpoints: unknown[] = [];
  for (let i = 0; i < services; i++) {
    const namespace = `ns-${i % 50}`;
    const name = `svc-${i}`;
    const host = `${name}.${namespace}.svc.cluster.local`;
    const port = 8000 + (i % 100);
    const clusterName = `outbound|${port}||${host}`;
    const vip = `10.${96 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    clusters.push({ version_info: '2026-01-01T00:00:00Z/41', cluster: cluster(clusterName, host, namespace, name) });
    listeners.push({ name: `${vip}_${port}`, active_state: { version_info: '2026-01-01T00:00:00Z/41', listener: listener(vip, port, host, clusterName, namespace) } });
    routes.push({ version_info: '2026-01-01T00:00:00Z/41', route_config: routeConfig(`${host}:${port}`, host, port, clusterName) });
    endpoints.push({ endpoint_config: loadAssignment(clusterName, i) });
  }
  return JSON.stringify({
    configs: [
      { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: 'sidecar~10.1.0.5~bench-0.bench~bench.svc.cluster.local', cluster: 'bench.bench', metadata: { ISTIO_VERSION: '1.20.8', NAMESPACE: 'bench', NAME: 'bench-0' }, user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 28, patch: 5 } } } } },
      { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: '2026-01-01T00:00:00Z/41', static_clusters: [], dynamic_active_clusters: clusters },
      { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: '2026-01-01T00:00:00Z/41', static_listeners: [], dynamic_listeners: listeners },
      { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: routes },
      { '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', dynamic_endpoint_configs: endpoints },
    ],
  });
}

const SDS = (name: string) => ({ name, sds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], set_node_on_first_message_only: true, transport_api_version: 'V3' }, initial_fetch_timeout: '0s', resource_api_version: 'V3' } });

function cluster(clusterName: string, host: string, namespace: string, name: string) {
  return {
    '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    name: clusterName,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' }, service_name: clusterName },
    connect_timeout: '10s',
    lb_policy: 'LEAST_REQUEST',
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true }] },
    metadata: { filter_metadata: { istio: { services: [{ namespace, name, host }] } } },
    common_lb_config: { locality_weighted_lb_config: {} },
    typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} } } },
    filters: [{ name: 'istio.metadata_exchange', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value: { protocol: 'istio-peer-exchange', enable_discovery: true } } }],
    transport_socket_matches: [
      {
        name: 'tlsMode-istio', match: { tlsMode: 'istio' },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            common_tls_context: {
              tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
              alpn_protocols: ['istio-peer-exchange', 'istio'],
              tls_certificate_sds_secret_configs: [SDS('default')],
              combined_validation_context: { default_validation_context: { match_subject_alt_names: [{ exact: `spiffe://cluster.local/ns/${namespace}/sa/default` }] }, validation_context_sds_secret_config: SDS('ROOTCA') },
            },
            sni: clusterName.replace(/^outbound\|(\d+)\|\|/, 'outbound_.$1_._.'),
          },
        },
      },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } } },
    ],
  };
}

// The HTTP filters of an Istio 1.20 outbound HTTP chain, as in the real dump.
const HTTP_FILTERS = [
  { name: 'istio.metadata_exchange', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/io.istio.http.peer_metadata.Config', value: { upstream_discovery: [{ istio_headers: {} }, { workload_discovery: {} }], upstream_propagation: [{ istio_headers: {} }] } } },
  { name: 'envoy.filters.http.grpc_stats', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig', emit_filter_state: true, stats_for_all_methods: false } },
  { name: 'istio.alpn', typed_config: { '@type': 'type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig', alpn_override: [{ alpn_override: ['istio-http/1.0', 'istio', 'http/1.0'] }, { upstream_protocol: 'HTTP11', alpn_override: ['istio-http/1.1', 'istio', 'http/1.1'] }, { upstream_protocol: 'HTTP2', alpn_override: ['istio-h2', 'istio', 'h2'] }] } },
  { name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
  { name: 'envoy.filters.http.cors', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' } },
  { name: 'istio.stats', typed_config: { '@type': 'type.googleapis.com/stats.PluginConfig' } },
  { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
];

function listener(vip: string, port: number, host: string, clusterName: string, namespace: string) {
  const tag = (name: string, value: string) => ({ tag: name, literal: { value } });
  return {
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    name: `${vip}_${port}`,
    address: { socket_address: { address: vip, port_value: port } },
    filter_chains: [{
      filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] },
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: `outbound_${vip}_${port}`,
          rds: { config_source: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' }, route_config_name: `${host}:${port}` },
          http_filters: HTTP_FILTERS,
          tracing: {
            client_sampling: { value: 100 }, random_sampling: { value: 100 }, overall_sampling: { value: 100 },
            custom_tags: [
              ...['allow', 'deny'].flatMap((kind) => ['name', 'result'].map((what) => ({
                tag: `istio.authorization.dry_run.${kind}_policy.${what}`,
                metadata: { kind: { request: {} }, metadata_key: { key: 'envoy.filters.http.rbac', path: [{ key: `istio_dry_run_${kind}_shadow_${what === 'name' ? 'effective_policy_id' : 'engine_result'}` }] } },
              }))),
              tag('istio.canonical_revision', 'latest'), tag('istio.canonical_service', host.split('.')[0]), tag('istio.mesh_id', 'cluster.local'), tag('istio.namespace', namespace),
            ],
          },
          request_id_extension: { typed_config: { '@type': 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig', use_request_id_for_trace_sampling: true } },
          use_remote_address: false,
          upgrade_configs: [{ upgrade_type: 'websocket' }],
          stream_idle_timeout: '0s',
          normalize_path: true,
          path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
        },
      }],
    }],
    listener_filters: [
      { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } },
      { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' } },
    ],
    listener_filters_timeout: '0s',
    traffic_direction: 'OUTBOUND',
    continue_on_listener_filters_timeout: true,
    default_filter_chain: {
      filters: [
        { name: 'istio.stats', typed_config: { '@type': 'type.googleapis.com/stats.PluginConfig' } },
        { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: clusterName, cluster: clusterName } },
      ],
    },
    bind_to_port: false,
  };
}

function routeConfig(name: string, host: string, port: number, clusterName: string) {
  const short = host.split('.').slice(0, 2).join('.');
  return {
    '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
    name,
    virtual_hosts: [{
      name,
      domains: [host, `${short}.svc`, short, host.split('.')[0]].flatMap((d) => [d, `${d}:${port}`]),
      routes: [{ match: { prefix: '/' }, route: { cluster: clusterName, timeout: '0s', retry_policy: { retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2 }, max_grpc_timeout: '0s' }, decorator: { operation: `${host}:${port}/*` }, name: 'default' }],
      include_request_attempt_count: true,
    }],
    validate_clusters: false,
  };
}

function loadAssignment(clusterName: string, i: number) {
  const ep = (n: number) => ({ endpoint: { address: { socket_address: { address: `10.1.${Math.floor(i / 250) % 250}.${(i % 250) + n}`, port_value: 8080 } }, health_check_config: {} }, health_status: 'HEALTHY', metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } }, load_balancing_weight: 1 });
  return { '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: clusterName, endpoints: [{ locality: {}, lb_endpoints: [ep(1), ep(2), ep(3), ep(4)], load_balancing_weight: 4 }], policy: { overprovisioning_factor: 140 } };
}
