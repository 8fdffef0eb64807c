/**
 * Clusters (envoy.config.cluster.v3.Cluster) with the parts incidents turn
 * on: Istio's name `direction|port|subset|host`, discovery type (the 1.10
 * inbound change: STATIC to 127.0.0.1 became ORIGINAL_DST bound to
 * 127.0.0.6, istio/istio#30226), TLS mode (auto mTLS's
 * transport_socket_matches), circuit breakers, outlier detection, and the
 * DestinationRule Istio names in `metadata.filter_metadata.istio.config`.
 */
import {
  type IstioConfigRef,
  type JsonObject,
  type SocketAddress,
  durationSeconds,
  field,
  istioFilterMetadata,
  num,
  obj,
  objs,
  parseIstioConfigRef,
  readAddress,
  readSocketAddress,
  str,
} from './json.js';
import { type TlsContext, type TransportSocket, isIstioMutual, readTransportSocket } from './tls.js';

export type ClusterState = 'static' | 'active' | 'warming' | 'bare';

export interface IstioClusterName {
  /** `inbound`, `outbound`, or another prefix Istio uses (`inbound-vip`). */
  readonly direction: string;
  readonly port: number;
  readonly subset: string;
  /** Empty for inbound clusters in the dumps we have (`inbound|9080||`). */
  readonly host: string;
}

/** Parses `outbound|443||host`, `outbound|9080|v1|reviews.default.svc.cluster.local`, `inbound|8080||`. */
export function parseIstioClusterName(name: string): IstioClusterName | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, host] = parts as [string, string, string, string];
  if (!/^\d+$/.test(port) || direction === '') return undefined;
  return { direction, port: Number(port), subset, host };
}

/** The TLS a sidecar uses towards a cluster, in DestinationRule vocabulary. */
export type ClusterTlsMode = 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL' | 'auto mTLS (istio endpoints)' | 'plaintext';

export interface CircuitBreakerThresholds {
  readonly priority: string;
  readonly maxConnections?: number;
  readonly maxPendingRequests?: number;
  readonly maxRequests?: number;
  readonly maxRetries?: number;
}

export interface OutlierDetection {
  readonly consecutive5xx?: number;
  readonly consecutiveGatewayFailure?: number;
  readonly consecutiveLocalOriginFailure?: number;
  readonly intervalSeconds?: number;
  readonly baseEjectionTimeSeconds?: number;
  readonly maxEjectionPercent?: number;
  readonly raw: JsonObject;
}

export interface StaticEndpoint {
  readonly address: SocketAddress;
  readonly priority: number;
  readonly healthStatus?: string;
}

export interface IstioService {
  readonly host?: string;
  readonly name?: string;
  readonly namespace?: string;
}

export interface TransportSocketMatch {
  readonly name: string;
  /** The endpoint metadata the entry matches (`{tlsMode: "istio"}`); empty matches every endpoint. */
  readonly match: JsonObject;
  readonly transportSocket?: TransportSocket;
}

export class Cluster {
  readonly raw: JsonObject;
  readonly state: ClusterState;
  readonly versionInfo?: string;
  readonly lastUpdated?: string;
  constructor(raw: JsonObject, state: ClusterState, meta: { versionInfo?: string; lastUpdated?: string } = {}) {
    this.raw = raw;
    this.state = state;
    this.versionInfo = meta.versionInfo;
    this.lastUpdated = meta.lastUpdated;
  }
  get name(): string {
    return str(this.raw, 'name') ?? '';
  }
  get istioName(): IstioClusterName | undefined {
    return parseIstioClusterName(this.name);
  }
  /**
   * Discovery type: `STATIC` (Envoy's default when `type` is absent), `EDS`,
   * `ORIGINAL_DST`, `STRICT_DNS`, `LOGICAL_DNS`, or for a `cluster_type`
   * extension its name (`envoy.clusters.aggregate`).
   */
  get type(): string {
    const custom = obj(this.raw, 'cluster_type');
    if (custom) return str(custom, 'name') ?? 'custom';
    return str(this.raw, 'type') ?? 'STATIC';
  }
  /** The `cluster_type` extension name, if the cluster uses one. */
  get customClusterType(): string | undefined {
    return str(obj(this.raw, 'cluster_type'), 'name');
  }
  /** `lb_policy`; Envoy's default is ROUND_ROBIN. */
  get lbPolicy(): string {
    return str(this.raw, 'lb_policy') ?? 'ROUND_ROBIN';
  }
  get connectTimeoutSeconds(): number | undefined {
    return durationSeconds(field(this.raw, 'connect_timeout'));
  }
  /** `upstream_bind_config.source_address` (127.0.0.6 on inbound clusters since Istio 1.10). */
  get upstreamBindAddress(): SocketAddress | undefined {
    return readSocketAddress(obj(obj(this.raw, 'upstream_bind_config'), 'source_address'));
  }
  /** Endpoints inlined in `load_assignment` (STATIC / STRICT_DNS clusters). EDS endpoints live in the EndpointsConfigDump. */
  get staticEndpoints(): StaticEndpoint[] {
    const out: StaticEndpoint[] = [];
    for (const group of objs(obj(this.raw, 'load_assignment'), 'endpoints')) {
      const priority = num(group, 'priority') ?? 0;
      for (const lb of objs(group, 'lb_endpoints')) {
        const address = readAddress(field(obj(lb, 'endpoint'), 'address'));
        const healthStatus = str(lb, 'health_status');
        if (address) out.push({ address, priority, ...(healthStatus !== undefined ? { healthStatus } : {}) });
      }
    }
    return out;
  }
  get transportSocket(): TransportSocket | undefined {
    return readTransportSocket(obj(this.raw, 'transport_socket'));
  }
  get transportSocketMatches(): TransportSocketMatch[] {
    return objs(this.raw, 'transport_socket_matches').map((m) => {
      const ts = readTransportSocket(obj(m, 'transport_socket'));
      return { name: str(m, 'name') ?? '', match: obj(m, 'match') ?? {}, ...(ts ? { transportSocket: ts } : {}) };
    });
  }
  /**
   * What the sidecar speaks to this cluster's endpoints:
   * - `auto mTLS (istio endpoints)`: Istio's auto-mTLS shape, TLS only to
   *   endpoints labelled `tlsMode: istio`, plaintext to the others;
   * - `ISTIO_MUTUAL`: Istio certificates (SDS `default`/`ROOTCA`) to every endpoint;
   * - `MUTUAL` / `SIMPLE`: TLS with other certificates, with / without a client certificate;
   * - `plaintext`.
   */
  get tlsMode(): ClusterTlsMode {
    const matches = this.transportSocketMatches;
    if (matches.length > 0) {
      const istioOnly = matches.find((m) => m.match.tlsMode === 'istio' && m.transportSocket?.tls);
      const fallback = matches.find((m) => Object.keys(m.match).length === 0);
      const fallbackSocket = fallback ? fallback.transportSocket : this.transportSocket;
      if (istioOnly && (!fallbackSocket || !fallbackSocket.tls)) return 'auto mTLS (istio endpoints)';
      const tlsSocket = fallbackSocket?.tls ? fallbackSocket : istioOnly?.transportSocket;
      if (tlsSocket) return classifyTls(tlsSocket);
    }
    const ts = this.transportSocket;
    if (ts?.tls) return classifyTls(ts);
    return 'plaintext';
  }
  /**
   * The TLS context the sidecar uses toward a sidecar'd endpoint: the
   * `tlsMode: istio` match of auto mTLS, else the cluster's own TLS.
   */
  get peerTls(): TlsContext | undefined {
    const istio = this.transportSocketMatches.find((m) => m.match.tlsMode === 'istio' && m.transportSocket?.tls);
    const fallback = this.transportSocketMatches.find((m) => Object.keys(m.match).length === 0 && m.transportSocket?.tls);
    return istio?.transportSocket?.tls ?? fallback?.transportSocket?.tls ?? this.transportSocket?.tls;
  }
  /** SNI the sidecar sends (from the TLS context it uses for Istio endpoints, if any). */
  get sni(): string | undefined {
    const ts = this.transportSocket?.tls ?? this.transportSocketMatches.find((m) => m.transportSocket?.tls)?.transportSocket?.tls;
    return ts?.sni;
  }
  get circuitBreakers(): CircuitBreakerThresholds[] {
    return objs(obj(this.raw, 'circuit_breakers'), 'thresholds').map((t) => {
      const mc = num(t, 'max_connections');
      const mp = num(t, 'max_pending_requests');
      const mr = num(t, 'max_requests');
      const mt = num(t, 'max_retries');
      return {
        priority: str(t, 'priority') ?? 'DEFAULT',
        ...(mc !== undefined ? { maxConnections: mc } : {}),
        ...(mp !== undefined ? { maxPendingRequests: mp } : {}),
        ...(mr !== undefined ? { maxRequests: mr } : {}),
        ...(mt !== undefined ? { maxRetries: mt } : {}),
      };
    });
  }
  /** `max_requests_per_connection` (now under HttpProtocolOptions.common_http_protocol_options in newer Envoy). */
  get maxRequestsPerConnection(): number | undefined {
    const direct = num(this.raw, 'max_requests_per_connection');
    if (direct !== undefined) return direct;
    const opts = obj(obj(this.raw, 'typed_extension_protocol_options'), 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions');
    return num(obj(opts, 'common_http_protocol_options'), 'max_requests_per_connection');
  }
  get outlierDetection(): OutlierDetection | undefined {
    const o = obj(this.raw, 'outlier_detection');
    if (!o) return undefined;
    const pick = (k: string) => num(o, k);
    const interval = durationSeconds(field(o, 'interval'));
    const base = durationSeconds(field(o, 'base_ejection_time'));
    const c5 = pick('consecutive_5xx');
    const cg = pick('consecutive_gateway_failure');
    const cl = pick('consecutive_local_origin_failure');
    const mep = pick('max_ejection_percent');
    return {
      ...(c5 !== undefined ? { consecutive5xx: c5 } : {}),
      ...(cg !== undefined ? { consecutiveGatewayFailure: cg } : {}),
      ...(cl !== undefined ? { consecutiveLocalOriginFailure: cl } : {}),
      ...(interval !== undefined ? { intervalSeconds: interval } : {}),
      ...(base !== undefined ? { baseEjectionTimeSeconds: base } : {}),
      ...(mep !== undefined ? { maxEjectionPercent: mep } : {}),
      raw: o,
    };
  }
  /** The Istio config Istio says shaped the cluster (`metadata.filter_metadata.istio.config`). */
  get istioConfig(): IstioConfigRef | undefined {
    return parseIstioConfigRef(str(istioFilterMetadata(this.raw), 'config'));
  }
  /** The DestinationRule that shaped this cluster, if Istio recorded one. */
  get destinationRule(): IstioConfigRef | undefined {
    const ref = this.istioConfig;
    return ref && ref.kind === 'destination-rule' ? ref : undefined;
  }
  /** `metadata.filter_metadata.istio.services`: the Services behind this cluster. */
  get services(): IstioService[] {
    return objs(istioFilterMetadata(this.raw), 'services').map((s) => {
      const host = str(s, 'host');
      const name = str(s, 'name');
      const namespace = str(s, 'namespace');
      return { ...(host !== undefined ? { host } : {}), ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}) };
    });
  }
}

function classifyTls(ts: TransportSocket): ClusterTlsMode {
  const tls = ts.tls!;
  if (isIstioMutual(tls)) return 'ISTIO_MUTUAL';
  const hasClientCert = tls.hasStaticCertificate || tls.certificateSdsNames.length > 0;
  return hasClientCert ? 'MUTUAL' : 'SIMPLE';
}

/** Reads a ClustersConfigDump: static, dynamic active and dynamic warming clusters. */
export function readClustersConfigDump(dump: JsonObject): Cluster[] {
  const out: Cluster[] = [];
  for (const s of objs(dump, 'static_clusters')) {
    const c = obj(s, 'cluster');
    if (c) out.push(new Cluster(c, 'static', { lastUpdated: str(s, 'last_updated') }));
  }
  for (const [key, state] of [
    ['dynamic_active_clusters', 'active'],
    ['dynamic_warming_clusters', 'warming'],
  ] as const) {
    for (const d of objs(dump, key)) {
      const c = obj(d, 'cluster');
      if (c) out.push(new Cluster(c, state, { versionInfo: str(d, 'version_info'), lastUpdated: str(d, 'last_updated') }));
    }
  }
  return out;
}
