/**
 * Small hand-written Envoy config dump pieces.
 *
 * PROVENANCE: every shape below is trimmed from the real Istio sidecar dumps
 * in ../shared/data/real-config-dumps/ (istio-1.9.1-productpage and
 * istio-1.20.8-hello-openshift: virtualOutbound, virtualInbound, 0.0.0.0_80,
 * inbound|9080|| STATIC, inbound|8080|| ORIGINAL_DST, the auto-mTLS
 * transport_socket_matches, the `default`/`ROOTCA` secrets, route `allow_any`)
 * or, where those dumps have no example, written from the Envoy v3 API docs
 * (admin/v3/config_dump*.proto, listener_components.proto, cluster.proto,
 * route_components.proto, tls.proto): the SNI chains on 0.0.0.0_443 (the
 * listener incident 4 quotes), `block_all`, a SIMPLE/MUTUAL
 * UpstreamTlsContext, outlier detection, the EndpointsConfigDump and warming
 * states. Names and addresses are invented.
 */

export const T = {
  bootstrap: 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
  clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
  listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
  scoped: 'type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump',
  routes: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
  endpoints: 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
  secrets: 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcp: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
} as const;

export const tcpProxy = (cluster: string) => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: { '@type': T.tcp, stat_prefix: cluster, cluster },
});

export const rds = (name: string) => ({
  name: 'envoy.filters.network.http_connection_manager',
  typed_config: { '@type': T.hcm, stat_prefix: 'outbound_0.0.0.0_80', rds: { route_config_name: name } },
});

export const sds = (name: string) => ({ name, sds_config: { ads: {}, resource_api_version: 'V3' } });

/** Istio's ISTIO_MUTUAL upstream context (from the 1.9.1 dump, SAN list trimmed). */
export const istioUpstreamTls = (sni: string) => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': T.upstreamTls,
    common_tls_context: {
      alpn_protocols: ['istio-peer-exchange', 'istio', 'h2'],
      tls_certificate_sds_secret_configs: [sds('default')],
      combined_validation_context: {
        default_validation_context: { match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/default/sa/reviews' }] },
        validation_context_sds_secret_config: sds('ROOTCA'),
      },
    },
    sni,
  },
});

export const listeners = {
  /** virtualOutbound as Istio 1.9-1.20 build it: blackhole chain for 15001 itself, then PassthroughCluster. */
  virtualOutbound: {
    '@type': T.listener,
    name: 'virtualOutbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
    filter_chains: [
      { filter_chain_match: { destination_port: 15001 }, filters: [tcpProxy('BlackHoleCluster')], name: 'virtualOutbound-blackhole' },
      { filters: [tcpProxy('PassthroughCluster')], name: 'virtualOutbound-catchall-tcp' },
    ],
    use_original_dst: true,
    traffic_direction: 'OUTBOUND',
  },
  /** 0.0.0.0_443 after a ServiceEntry without addresses (incident 4): SNI chains plus a catch-all. */
  https443: {
    '@type': T.listener,
    name: '0.0.0.0_443',
    address: { socket_address: { address: '0.0.0.0', port_value: 443 } },
    filter_chains: [
      { filter_chain_match: { server_names: ['music.baidu.com'] }, filters: [tcpProxy('outbound|443||music.baidu.com')] },
      { filters: [tcpProxy('outbound|443||traefik.cutom-name')] },
    ],
    listener_filters: [
      { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } },
    ],
    traffic_direction: 'OUTBOUND',
    bind_to_port: false,
  },
  /** 0.0.0.0_80 from the 1.9.1 dump: HTTP chain by ALPN, default chain to PassthroughCluster. */
  http80: {
    '@type': T.listener,
    name: '0.0.0.0_80',
    address: { socket_address: { address: '0.0.0.0', port_value: 80 } },
    filter_chains: [
      { filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.0', 'http/1.1', 'h2c'] }, filters: [rds('80')], name: '0.0.0.0_80' },
    ],
    default_filter_chain: { filters: [tcpProxy('PassthroughCluster')], name: 'PassthroughFilterChain' },
    listener_filters: [
      { name: 'envoy.filters.listener.tls_inspector' },
      { name: 'envoy.filters.listener.http_inspector' },
    ],
    traffic_direction: 'OUTBOUND',
    bind_to_port: false,
  },
  /** An inbound chain that terminates Istio mTLS (virtualInbound, trimmed to one port). */
  virtualInbound: {
    '@type': T.listener,
    name: 'virtualInbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    filter_chains: [
      {
        name: '0.0.0.0_9080',
        filter_chain_match: { destination_port: 9080, transport_protocol: 'tls', application_protocols: ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': T.downstreamTls,
            common_tls_context: { alpn_protocols: ['h2', 'http/1.1'], tls_certificate_sds_secret_configs: [sds('default')], combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: sds('ROOTCA') } },
            require_client_certificate: true,
          },
        },
        filters: [
          { name: 'istio.metadata_exchange', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'x', value: { protocol: 'istio-peer-exchange' } } },
          { name: 'envoy.filters.network.rbac', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', stat_prefix: 'tcp.', rules: {} } },
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': T.hcm,
              stat_prefix: 'inbound_0.0.0.0_9080',
              route_config: {
                name: 'inbound|9080||',
                virtual_hosts: [{ name: 'inbound|http|9080', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|9080||' } }] }],
              },
              http_filters: [{ name: 'istio.metadata_exchange' }, { name: 'envoy.filters.http.router' }],
            },
          },
        ],
      },
      { name: 'virtualInbound-passthrough', filter_chain_match: { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }], source_type: 'SAME_IP_OR_LOOPBACK', source_ports: [1234] }, filters: [tcpProxy('InboundPassthroughClusterIpv4')] },
    ],
    listener_filters: [
      { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } },
    ],
    traffic_direction: 'INBOUND',
  },
};

export const clusters = {
  /** Before Istio 1.10 (1.9.1 dump): STATIC to 127.0.0.1. */
  inboundStatic: {
    '@type': T.cluster,
    name: 'inbound|9080||',
    type: 'STATIC',
    connect_timeout: '10s',
    metadata: { filter_metadata: { istio: { services: [{ host: 'productpage.default.svc.cluster.local', namespace: 'default', name: 'productpage' }] } } },
    load_assignment: { cluster_name: 'inbound|9080||', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9080 } } } }] }] },
  },
  /** Istio 1.10+ (1.20.8 dump): ORIGINAL_DST, CLUSTER_PROVIDED, bound to 127.0.0.6. */
  inboundOriginalDst: {
    '@type': T.cluster,
    name: 'inbound|8080||',
    type: 'ORIGINAL_DST',
    lb_policy: 'CLUSTER_PROVIDED',
    upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
  },
  /** Auto mTLS (1.9.1 dump, trimmed) with a DestinationRule's circuit breaker and outlier detection (incident 5's numbers). */
  autoMtls: {
    '@type': T.cluster,
    name: 'outbound|8000||httpbin.foo.svc.cluster.local',
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'outbound|8000||httpbin.foo.svc.cluster.local' },
    circuit_breakers: { thresholds: [{ max_connections: 1, max_pending_requests: 1, max_requests: 4294967295, max_retries: 4294967295 }] },
    max_requests_per_connection: 1,
    outlier_detection: { consecutive_5xx: 1, interval: '1s', base_ejection_time: '180s', max_ejection_percent: 100 },
    metadata: {
      filter_metadata: {
        istio: {
          config: '/apis/networking.istio.io/v1alpha3/namespaces/foo/destination-rule/httpbin',
          services: [{ host: 'httpbin.foo.svc.cluster.local', name: 'httpbin', namespace: 'foo' }],
        },
      },
    },
    transport_socket_matches: [
      { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: istioUpstreamTls('outbound_.8000_._.httpbin.foo.svc.cluster.local') },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer' } },
    ],
  },
  /** DestinationRule tls.mode ISTIO_MUTUAL: the Istio context on transport_socket. */
  istioMutual: {
    name: 'outbound|9080||reviews.default.svc.cluster.local',
    type: 'EDS',
    transport_socket: istioUpstreamTls('outbound_.9080_._.reviews.default.svc.cluster.local'),
  },
  /** DestinationRule tls.mode SIMPLE to an external host (Envoy docs: UpstreamTlsContext with sni only). */
  simple: {
    name: 'outbound|443||api.example.com',
    type: 'STRICT_DNS',
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': T.upstreamTls, sni: 'api.example.com', common_tls_context: { validation_context: { trusted_ca: { filename: '/etc/ssl/certs/ca.pem' } } } } },
  },
  /** DestinationRule tls.mode MUTUAL with credentialName (SDS secret `kubernetes://client-cert`). */
  mutual: {
    name: 'outbound|443||mtls.example.com',
    type: 'STRICT_DNS',
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': T.upstreamTls, common_tls_context: { tls_certificate_sds_secret_configs: [sds('kubernetes://client-cert')], combined_validation_context: { default_validation_context: {}, validation_context_sds_secret_config: sds('kubernetes://client-cert-cacert') } } } },
  },
  /** DestinationRule tls.mode DISABLE, or no TLS at all. */
  plaintext: { name: 'outbound|80||legacy.default.svc.cluster.local', type: 'EDS' },
  aggregate: { name: 'outbound|80||agg', cluster_type: { name: 'envoy.clusters.aggregate', typed_config: {} } },
  blackhole: { name: 'BlackHoleCluster', type: 'STATIC' },
};

export const routeConfigs = {
  /** RDS `80` with Istio's allow_any fallback and a VirtualService route (metadata as Istio writes it). */
  r80: {
    name: '80',
    virtual_hosts: [
      {
        name: 'reviews.default.svc.cluster.local:80',
        domains: ['reviews.default.svc.cluster.local', 'reviews', 'reviews:80'],
        routes: [
          {
            name: 'reviews-v2',
            match: { prefix: '/' },
            route: { weighted_clusters: { clusters: [{ name: 'outbound|80|v1|reviews.default.svc.cluster.local', weight: 90 }, { name: 'outbound|80|v2|reviews.default.svc.cluster.local', weight: 10 }] } },
            metadata: { filter_metadata: { istio: { config: '/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/reviews' } } },
          },
        ],
      },
      { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] },
    ],
  },
  /** REGISTRY_ONLY: block_all answers 502 (incident 3). */
  r8080: {
    name: '8080',
    virtual_hosts: [
      { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, direct_response: { status: 502 } }] },
      { name: 'redirect', domains: ['old.example.com'], routes: [{ match: { path: '/x' }, redirect: { host_redirect: 'new.example.com' } }] },
    ],
  },
};

/** A config dump in Envoy's shape with every section mesh-doctor reads. */
export function fullDump(): Record<string, unknown> {
  return {
    configs: [
      {
        '@type': T.bootstrap,
        bootstrap: {
          node: {
            id: 'sidecar~10.1.2.3~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local',
            cluster: 'productpage.default',
            metadata: {
              ISTIO_VERSION: '1.9.1',
              NAMESPACE: 'default',
              NAME: 'productpage-v1-6b746f74dc-9stvs',
              CLUSTER_ID: 'Kubernetes',
              MESH_ID: 'cluster.local',
              INTERCEPTION_MODE: 'REDIRECT',
              LABELS: { app: 'productpage', version: 'v1', 'security.istio.io/tlsMode': 'istio' },
            },
            user_agent_name: 'envoy',
            user_agent_build_version: { version: { major_number: 1, minor_number: 17, patch: 1 }, metadata: { 'revision.status': 'Clean', 'build.type': 'RELEASE', 'ssl.version': 'BoringSSL', 'revision.sha': '8787f0f6' } },
          },
        },
        last_updated: '2021-03-25T08:12:04.000Z',
      },
      {
        '@type': T.clusters,
        version_info: '2021-03-25T08:05:35Z/13',
        static_clusters: [{ cluster: clusters.blackhole, last_updated: '2021-03-25T08:12:04.000Z' }],
        dynamic_active_clusters: [
          { version_info: 'v13', cluster: clusters.inboundStatic, last_updated: '2021-03-25T08:12:04.000Z' },
          { version_info: 'v13', cluster: clusters.autoMtls },
          { version_info: 'v13', cluster: clusters.istioMutual },
          { version_info: 'v13', cluster: clusters.simple },
          { version_info: 'v13', cluster: clusters.mutual },
          { version_info: 'v13', cluster: clusters.plaintext },
          { version_info: 'v13', cluster: clusters.aggregate },
        ],
        dynamic_warming_clusters: [{ version_info: 'v14', cluster: clusters.inboundOriginalDst }],
      },
      {
        '@type': T.listeners,
        version_info: 'v13',
        static_listeners: [],
        dynamic_listeners: [
          { name: '0.0.0.0_443', active_state: { version_info: 'v13', listener: listeners.https443, last_updated: '2021-03-25T08:12:04.000Z' } },
          { name: '0.0.0.0_80', active_state: { version_info: 'v13', listener: listeners.http80 } },
          {
            name: 'virtualOutbound',
            active_state: { version_info: 'v13', listener: listeners.virtualOutbound },
            draining_state: { version_info: 'v12', listener: listeners.virtualOutbound },
          },
          { name: 'virtualInbound', active_state: { version_info: 'v13', listener: listeners.virtualInbound } },
          {
            name: '0.0.0.0_9999',
            warming_state: { version_info: 'v14', listener: { ...listeners.http80, name: '0.0.0.0_9999', address: { socket_address: { address: '0.0.0.0', port_value: 9999 } } } },
            error_state: { failed_configuration: {}, details: 'cannot bind 0.0.0.0:9999' },
          },
        ],
      },
      { '@type': T.scoped },
      {
        '@type': T.routes,
        static_route_configs: [{ route_config: { name: 'static-health', virtual_hosts: [] }, last_updated: '2021-03-25T08:12:04.000Z' }],
        dynamic_route_configs: [
          { version_info: 'v13', route_config: routeConfigs.r80, last_updated: '2021-03-25T08:12:04.000Z' },
          { version_info: 'v13', route_config: routeConfigs.r8080 },
        ],
      },
      {
        '@type': T.endpoints,
        dynamic_endpoint_configs: [
          {
            endpoint_config: {
              cluster_name: 'outbound|8000||httpbin.foo.svc.cluster.local',
              endpoints: [
                {
                  locality: { region: 'eu-west-1', zone: 'eu-west-1c' },
                  lb_endpoints: [
                    {
                      endpoint: { address: { socket_address: { address: '172.17.0.14', port_value: 8000 } } },
                      health_status: 'HEALTHY',
                      metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } },
                      load_balancing_weight: 1,
                    },
                  ],
                },
              ],
            },
          },
        ],
      },
      {
        '@type': T.secrets,
        dynamic_active_secrets: [
          {
            name: 'default',
            version_info: '0',
            last_updated: '2021-03-28T20:12:04.571Z',
            secret: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
              name: 'default',
              tls_certificate: {
                certificate_chain: { inline_bytes: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') },
                private_key: { inline_bytes: 'W3JlZGFjdGVkXQ==' },
              },
            },
          },
          {
            name: 'ROOTCA',
            version_info: '0',
            secret: { name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: Buffer.from('-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n').toString('base64') } } },
          },
        ],
      },
    ],
  };
}

/** Wraps listeners into the smallest config dump istioctl accepts. */
export function listenersDump(dynamic: unknown[], statics: unknown[] = []): Record<string, unknown> {
  return {
    configs: [
      {
        '@type': T.listeners,
        dynamic_listeners: dynamic.map((l, i) => ({ name: `l${i}`, active_state: { listener: l } })),
        static_listeners: statics.map((l) => ({ listener: l })),
      },
    ],
  };
}
