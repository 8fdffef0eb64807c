/**
 * Turns the config the oracle (Istio's own generator) produced for a sidecar
 * into files a real, upstream Envoy 1.40 loads: a bootstrap whose LDS/CDS
 * point at files (path_config_source) instead of istiod's ADS stream, one
 * file per route config, per cluster's endpoints and per SDS secret (Envoy's
 * filesystem RDS/EDS/SDS subscriptions take exactly one resource each), so
 * `/config_dump` keeps Istio's shape (dynamic_listeners,
 * dynamic_active_clusters, ...).
 *
 * Only what upstream Envoy cannot load is removed, and every removal is
 * listed in REMOVED below with its reason (../shared reference real-envoy.md
 * has Envoy 1.40's verbatim rejections).
 */
import path from 'node:path';

/** Istio-only extensions upstream Envoy rejects, by the filter name Istio gives them. */
export const REMOVED: ReadonlyArray<{ name: string; where: string; reason: string }> = [
  {
    name: 'istio.alpn',
    where: 'outbound HTTP connection managers (http_filters)',
    reason: "Istio proxy's ALPN override filter; Envoy 1.40: \"could not find @type 'type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig'\", which drops the whole file-based LDS update. Without it a client sidecar does not offer istio-http/1.1-style ALPN.",
  },
  {
    name: 'istio.metadata_exchange',
    where: 'listener filters, HTTP filters and cluster (upstream network) filters',
    reason: "Istio proxy's peer-metadata exchange; Envoy 1.40: \"Didn't find a registered implementation for 'istio.metadata_exchange'\" rejects the listener or cluster that carries it. Only telemetry labels depend on it.",
  },
];

/** Bootstrap parts that talk to pilot-agent, which the lab does not run. */
export const REMOVED_BOOTSTRAP_CLUSTERS: ReadonlyArray<{ name: string; reason: string }> = [
  { name: 'xds-grpc', reason: "istiod's ADS stream through pilot-agent; the lab serves xDS from files" },
  { name: 'sds-grpc', reason: "pilot-agent's SDS socket; the lab serves the workload certificate and root from files" },
];

type Json = Record<string, any>;

/**
 * Earlier Istio shapes a scenario may ask for, applied to the generated config
 * (the oracle runs current Istio only). Each says where its shape comes from.
 */
export const SHAPES = {
  /**
   * Istio <= 1.9's inbound cluster: STATIC to 127.0.0.1:<port>, no 127.0.0.6 source
   * (as in the real Istio 1.9.1 dump in ../shared/data/real-config-dumps; istio/istio#30226
   * moved it to ORIGINAL_DST from 127.0.0.6 in 1.10).
   */
  'pre-1.10-inbound': (cluster?: Json, _listener?: Json): void => {
    if (!cluster) return;
    const port = /^inbound\|(\d+)\|/.exec(cluster.name ?? '')?.[1];
    if (!port || cluster.type !== 'ORIGINAL_DST') return;
    cluster.type = 'STATIC';
    delete cluster.lb_policy;
    delete cluster.cleanup_interval;
    delete cluster.upstream_bind_config;
    cluster.load_assignment = { cluster_name: cluster.name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: Number(port) } } } }] }] };
  },
  /**
   * Istio < 1.8's outbound listener for a Service port 443 named `http` (istio/istio#16458,
   * seed 000): its only filter chain is the HTTP connection manager, with no filter_chain_match
   * and no PassthroughCluster chain, so TLS reaches the HTTP codec — the shape of the
   * hand-written 1.7 replica in test/fixtures/egress/seed000-istio-1.7-http-on-443.
   */
  'pre-1.8-http-on-443': (_cluster?: Json, listener?: Json): void => {
    if (listener?.name !== '0.0.0.0_443') return;
    const http = (listener.filter_chains as Json[]).find((c) => c.filters?.some((f: Json) => f.name === 'envoy.filters.network.http_connection_manager'));
    if (!http) return;
    delete http.filter_chain_match;
    listener.filter_chains = [http];
    delete listener.default_filter_chain;
  },
} as const;

export type Shape = keyof typeof SHAPES;

export interface LabEnvoyFiles {
  /** Relative path → JSON document. */
  files: Map<string, Json>;
  bootstrapPath: string;
  /** Which extensions were removed where (for the lab's report). */
  removed: string[];
  /** The SDS secret names the config asks for. */
  secrets: string[];
}

const REMOVED_NAMES = new Set(REMOVED.map((r) => r.name));

function pathSource(dir: string, file: string): Json {
  return { path_config_source: { path: path.join(dir, file) }, resource_api_version: 'V3' };
}

/** A file name for a resource name (cluster names hold `|`, route names `:`). */
export function resourceFile(kind: 'rds' | 'eds' | 'sds', name: string): string {
  return `${kind}/${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

function discoveryResponse(typeUrl: string, resources: Json[]): Json {
  return { version_info: 'lab', type_url: typeUrl, resources: resources.map((r) => ({ '@type': typeUrl, ...r })) };
}

/**
 * Walks a listener or cluster: drops removed filters and points every ADS/SDS
 * config source at its file. Mutates `node` (a deep copy made by the caller).
 */
/** What a rewrite met: extensions it removed (`name from owner`), SDS secret names the config points at. */
interface Rewritten {
  removed: Set<string>;
  secrets: Set<string>;
}

function rewrite(node: unknown, dir: string, seen: Rewritten, owner: string): void {
  if (Array.isArray(node)) {
    for (let i = node.length - 1; i >= 0; i--) {
      const item = node[i];
      if (item && typeof item === 'object' && REMOVED_NAMES.has((item as Json).name) && ('typed_config' in item || 'config_discovery' in item)) {
        seen.removed.add(`${(item as Json).name} from ${owner}`);
        node.splice(i, 1);
        continue;
      }
      rewrite(item, dir, seen, owner);
    }
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Json;
  if (obj.rds?.route_config_name) obj.rds.config_source = pathSource(dir, resourceFile('rds', obj.rds.route_config_name));
  if (obj.sds_config && typeof obj.name === 'string') {
    obj.sds_config = pathSource(dir, resourceFile('sds', obj.name));
    seen.secrets.add(obj.name);
  }
  for (const value of Object.values(obj)) rewrite(value, dir, seen, owner);
}

function section(dump: Json, type: string): Json {
  return (dump.configs as Json[]).find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${type}`) ?? {};
}

function bootstrapFrom(dump: Json, dir: string): Json {
  const original = structuredClone(section(dump, 'BootstrapConfigDump').bootstrap) as Json;
  const dropped = new Set(REMOVED_BOOTSTRAP_CLUSTERS.map((c) => c.name));
  original.static_resources.clusters = (original.static_resources.clusters as Json[]).filter((c) => !dropped.has(c.name));
  original.dynamic_resources = { lds_config: pathSource(dir, 'lds.json'), cds_config: pathSource(dir, 'cds.json') };
  if (original.admin) original.admin.profile_path = path.join(dir, 'envoy.prof');
  return original;
}

/** The lab's Envoy files for one sidecar, from the oracle's config dump; `dir` is where they will be written. */
export function labEnvoyFiles(dump: Json, dir: string, shapes: readonly Shape[] = []): LabEnvoyFiles {
  const seen: Rewritten = { removed: new Set(), secrets: new Set() };
  const files = new Map<string, Json>();
  files.set('bootstrap.json', bootstrapFrom(dump, dir));

  const listeners = (section(dump, 'ListenersConfigDump').dynamic_listeners ?? []).map((l: Json) => {
    // What istiod sent: the oracle's dump shows a listener waiting for its secret as warming_state.
    const listener = structuredClone((l.active_state ?? l.warming_state).listener) as Json;
    rewrite(listener, dir, seen, `listener ${listener.name}`);
    for (const shape of shapes) SHAPES[shape](undefined, listener);
    return listener;
  });
  files.set('lds.json', discoveryResponse('type.googleapis.com/envoy.config.listener.v3.Listener', listeners));

  const clusters = (section(dump, 'ClustersConfigDump').dynamic_active_clusters ?? []).map((c: Json) => {
    const cluster = structuredClone(c.cluster) as Json;
    rewrite(cluster, dir, seen, `cluster ${cluster.name}`);
    for (const shape of shapes) SHAPES[shape](cluster, undefined);
    if (cluster.eds_cluster_config) {
      const serviceName = cluster.eds_cluster_config.service_name ?? cluster.name;
      cluster.eds_cluster_config.eds_config = pathSource(dir, resourceFile('eds', serviceName));
    }
    return cluster;
  });
  files.set('cds.json', discoveryResponse('type.googleapis.com/envoy.config.cluster.v3.Cluster', clusters));

  for (const r of section(dump, 'RoutesConfigDump').dynamic_route_configs ?? []) {
    const route = r.route_config as Json;
    files.set(resourceFile('rds', route.name), discoveryResponse('type.googleapis.com/envoy.config.route.v3.RouteConfiguration', [route]));
  }
  for (const e of section(dump, 'EndpointsConfigDump').dynamic_endpoint_configs ?? []) {
    const assignment = e.endpoint_config as Json;
    files.set(resourceFile('eds', assignment.cluster_name), discoveryResponse('type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', [assignment]));
  }
  return { files, bootstrapPath: path.join(dir, 'bootstrap.json'), removed: [...seen.removed].sort(), secrets: [...seen.secrets] };
}

/**
 * pilot-agent serves `file-root:system` (a DestinationRule SIMPLE or MUTUAL
 * without caCertificates) from the OS root bundle, the first of its known
 * paths that exists (security/pkg/nodeagent/cache/secretcache.go,
 * pkg/security GetOSRootFilePath; Debian's is this one). Without it the
 * cluster waits for the secret forever and Envoy answers NC cluster_not_found.
 */
const OS_ROOTS = '/etc/ssl/certs/ca-certificates.crt';

/** SDS files for Istio's secret names: the workload certificate (`default`), the trust root (`ROOTCA`), the OS roots (`file-root:system`). */
export function sdsFiles(cert: { chain: string; key: string; root: string }): Map<string, Json> {
  const type = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
  return new Map([
    [resourceFile('sds', 'default'), discoveryResponse(type, [{ name: 'default', tls_certificate: { certificate_chain: { filename: cert.chain }, private_key: { filename: cert.key } } }])],
    [resourceFile('sds', 'ROOTCA'), discoveryResponse(type, [{ name: 'ROOTCA', validation_context: { trusted_ca: { filename: cert.root } } }])],
    [resourceFile('sds', 'file-root:system'), discoveryResponse(type, [{ name: 'file-root:system', validation_context: { trusted_ca: { filename: OS_ROOTS } } }])],
  ]);
}

/** pilot-agent's Envoy flags (pkg/envoy/proxy.go), plus a short access-log flush so tests see lines quickly. */
export function envoyArgs(bootstrapPath: string): string[] {
  return [
    '-c', bootstrapPath,
    '--drain-time-s', '45', '--drain-strategy', 'immediate',
    '--local-address-ip-version', 'v4', '--disable-hot-restart', '--allow-unknown-static-fields',
    '-l', 'warning', '--component-log-level', 'misc:error', '--concurrency', '2',
    '--file-flush-interval-msec', '100',
  ];
}

/**
 * A gateway's `kubernetes://<credentialName>` secrets, as istiod serves them
 * from the Secret in the gateway's namespace (its tls.crt/tls.key, inline);
 * a Secret that does not exist is never sent: an SDS response without the
 * resource, so the listener waits for it (warming), as on a real gateway.
 */
export function credentialFiles(names: readonly string[], namespace: string, secrets: ReadonlyArray<{ namespace: string; name: string; crt?: string; key?: string }>): Map<string, Json> {
  const type = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
  const files = new Map<string, Json>();
  for (const name of names.filter((n) => n.startsWith('kubernetes://'))) {
    const secret = secrets.find((s) => s.namespace === namespace && s.name === name.slice('kubernetes://'.length) && s.crt && s.key);
    files.set(resourceFile('sds', name), discoveryResponse(type, secret ? [{ name, tls_certificate: { certificate_chain: { inline_bytes: secret.crt }, private_key: { inline_bytes: secret.key } } }] : []));
  }
  return files;
}
