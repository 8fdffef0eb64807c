/**
 * Listeners and filter chains (envoy.config.listener.v3.Listener /
 * FilterChain / FilterChainMatch), as Envoy prints them in /config_dump and
 * istioctl in `proxy-config listeners -o json`. Views wrap the raw objects;
 * nothing is copied until a getter is read.
 */
import {
  type JsonObject,
  type SocketAddress,
  bool,
  field,
  isObject,
  num,
  obj,
  objs,
  readAddress,
  shortTypeName,
  str,
  strs,
  typeName,
} from './json.js';
import { RouteConfig } from './routes.js';
import { type TransportSocket, readTransportSocket } from './tls.js';

/** `rejected`: Envoy refused it and no active version exists; the view is the failed configuration (error_state). */
export type ListenerState = 'static' | 'active' | 'warming' | 'draining' | 'rejected' | 'bare';

/** Filter names istioctl compares against (istio pkg/wellknown). */
export const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY = 'envoy.filters.network.tcp_proxy';

export interface CidrRange {
  readonly addressPrefix: string;
  /** `prefix_len`; absent in the JSON means 0. */
  readonly prefixLen: number;
}

export function formatCidr(c: CidrRange): string {
  return `${c.addressPrefix}/${c.prefixLen}`;
}

function readCidrs(o: unknown, name: string): CidrRange[] {
  return objs(o, name).map((c) => ({ addressPrefix: str(c, 'address_prefix') ?? '', prefixLen: num(c, 'prefix_len') ?? 0 }));
}

export interface FilterChainMatch {
  readonly destinationPort?: number;
  readonly prefixRanges: readonly CidrRange[];
  readonly serverNames: readonly string[];
  readonly transportProtocol?: string;
  readonly applicationProtocols: readonly string[];
  /** `ANY` (default), `SAME_IP_OR_LOOPBACK`, `EXTERNAL`. */
  readonly sourceType?: string;
  readonly sourcePrefixRanges: readonly CidrRange[];
  readonly sourcePorts: readonly number[];
  readonly directSourcePrefixRanges: readonly CidrRange[];
  /** True when the chain matches every connection (no criterion set). */
  readonly isEmpty: boolean;
  readonly raw: JsonObject;
}

export function readFilterChainMatch(raw: JsonObject | undefined): FilterChainMatch {
  const m = raw ?? {};
  const destinationPort = num(m, 'destination_port');
  const transportProtocol = str(m, 'transport_protocol');
  const sourceType = str(m, 'source_type');
  const match = {
    ...(destinationPort !== undefined ? { destinationPort } : {}),
    prefixRanges: readCidrs(m, 'prefix_ranges'),
    serverNames: strs(m, 'server_names'),
    ...(transportProtocol ? { transportProtocol } : {}),
    applicationProtocols: strs(m, 'application_protocols'),
    ...(sourceType ? { sourceType } : {}),
    sourcePrefixRanges: readCidrs(m, 'source_prefix_ranges'),
    sourcePorts: (Array.isArray(field(m, 'source_ports')) ? (field(m, 'source_ports') as unknown[]) : [])
      .map((p) => (typeof p === 'number' ? p : Number(p)))
      .filter((p) => Number.isFinite(p)),
    directSourcePrefixRanges: readCidrs(m, 'direct_source_prefix_ranges'),
    raw: m,
  };
  const isEmpty =
    match.destinationPort === undefined &&
    match.prefixRanges.length === 0 &&
    match.serverNames.length === 0 &&
    !match.transportProtocol &&
    match.applicationProtocols.length === 0 &&
    (!match.sourceType || match.sourceType === 'ANY') &&
    match.sourcePrefixRanges.length === 0 &&
    match.sourcePorts.length === 0 &&
    match.directSourcePrefixRanges.length === 0;
  return { ...match, isEmpty };
}

export type NetworkFilterKind =
  | 'http_connection_manager'
  | 'tcp_proxy'
  | 'rbac'
  | 'metadata_exchange'
  | 'stats'
  | 'connection_limit'
  | 'local_ratelimit'
  | 'other';

export interface TcpProxy {
  readonly statPrefix?: string;
  /** The single upstream cluster, when not weighted. */
  readonly cluster?: string;
  readonly weightedClusters: readonly { name: string; weight?: number }[];
}

export interface HttpConnectionManager {
  readonly statPrefix?: string;
  /** `rds.route_config_name`, e.g. `80` or `inbound|9080||`. */
  readonly rdsRouteConfigName?: string;
  /** The inline `route_config`, when the HCM has one instead of RDS. */
  readonly inlineRouteConfig?: RouteConfig;
  /** HTTP filter names in order (`istio.metadata_exchange`, `envoy.filters.http.rbac`, ..., `envoy.filters.http.router`). */
  readonly httpFilters: readonly string[];
}

export class NetworkFilter {
  readonly raw: JsonObject;
  constructor(raw: JsonObject) {
    this.raw = raw;
  }
  get name(): string {
    return str(this.raw, 'name') ?? '';
  }
  get typedConfig(): JsonObject | undefined {
    return obj(this.raw, 'typed_config');
  }
  get typeName(): string | undefined {
    return typeName(this.typedConfig);
  }
  get kind(): NetworkFilterKind {
    const n = this.name;
    const t = shortTypeName(this.typedConfig) ?? '';
    if (n === HTTP_CONNECTION_MANAGER || n === 'envoy.http_connection_manager' || t === 'HttpConnectionManager') return 'http_connection_manager';
    if (n === TCP_PROXY || n === 'envoy.tcp_proxy' || t === 'TcpProxy') return 'tcp_proxy';
    if (n === 'envoy.filters.network.rbac' || n === 'envoy.rbac' || (t === 'RBAC' && n.includes('rbac'))) return 'rbac';
    if (n === 'istio.metadata_exchange' || n === 'envoy.filters.network.metadata_exchange') return 'metadata_exchange';
    if (n === 'istio.stats' || (n === 'envoy.filters.network.wasm' && JSON.stringify(this.typedConfig ?? {}).includes('stats'))) return 'stats';
    if (n === 'envoy.filters.network.connection_limit') return 'connection_limit';
    if (n === 'envoy.filters.network.local_ratelimit') return 'local_ratelimit';
    return 'other';
  }
  /** The tcp_proxy config, when this filter is one. */
  get tcpProxy(): TcpProxy | undefined {
    if (this.kind !== 'tcp_proxy') return undefined;
    const c = this.typedConfig;
    const statPrefix = str(c, 'stat_prefix');
    const cluster = str(c, 'cluster');
    return {
      ...(statPrefix !== undefined ? { statPrefix } : {}),
      ...(cluster !== undefined ? { cluster } : {}),
      weightedClusters: objs(obj(c, 'weighted_clusters'), 'clusters').map((w) => ({ name: str(w, 'name') ?? '', weight: num(w, 'weight') })),
    };
  }
  /** The http_connection_manager config, when this filter is one. */
  get httpConnectionManager(): HttpConnectionManager | undefined {
    if (this.kind !== 'http_connection_manager') return undefined;
    const c = this.typedConfig;
    const statPrefix = str(c, 'stat_prefix');
    const rdsName = str(obj(c, 'rds'), 'route_config_name');
    const inline = obj(c, 'route_config');
    return {
      ...(statPrefix !== undefined ? { statPrefix } : {}),
      ...(rdsName ? { rdsRouteConfigName: rdsName } : {}),
      ...(inline ? { inlineRouteConfig: new RouteConfig(inline, 'inline') } : {}),
      httpFilters: objs(c, 'http_filters').map((f) => str(f, 'name') ?? ''),
    };
  }
}

export class FilterChain {
  readonly raw: JsonObject;
  /** True for the listener's `default_filter_chain`. */
  readonly isDefault: boolean;
  constructor(raw: JsonObject, isDefault = false) {
    this.raw = raw;
    this.isDefault = isDefault;
  }
  get name(): string {
    return str(this.raw, 'name') ?? '';
  }
  get match(): FilterChainMatch {
    return readFilterChainMatch(obj(this.raw, 'filter_chain_match'));
  }
  get transportSocket(): TransportSocket | undefined {
    return readTransportSocket(obj(this.raw, 'transport_socket'));
  }
  /** True when the chain terminates TLS (DownstreamTlsContext). */
  get terminatesTls(): boolean {
    return Boolean(this.transportSocket?.tls);
  }
  get filters(): NetworkFilter[] {
    return objs(this.raw, 'filters').map((f) => new NetworkFilter(f));
  }
  /** The first filter that ends the chain (HCM or tcp_proxy), if any. */
  get terminalFilter(): NetworkFilter | undefined {
    return this.filters.find((f) => f.kind === 'http_connection_manager' || f.kind === 'tcp_proxy');
  }
  get httpConnectionManager(): HttpConnectionManager | undefined {
    for (const f of this.filters) {
      const h = f.httpConnectionManager;
      if (h) return h;
    }
    return undefined;
  }
  get tcpProxy(): TcpProxy | undefined {
    for (const f of this.filters) {
      const t = f.tcpProxy;
      if (t) return t;
    }
    return undefined;
  }
}

export interface ListenerFilterInfo {
  /** `envoy.filters.listener.tls_inspector`, `...http_inspector`, `...original_dst`. */
  readonly name: string;
  readonly typeName?: string;
  readonly raw: JsonObject;
}

export class Listener {
  readonly raw: JsonObject;
  readonly state: ListenerState;
  readonly versionInfo?: string;
  readonly lastUpdated?: string;
  /** For warming/draining/error entries: the error Envoy recorded, if any. */
  readonly errorDetails?: string;
  constructor(raw: JsonObject, state: ListenerState, meta: { versionInfo?: string; lastUpdated?: string; errorDetails?: string } = {}) {
    this.raw = raw;
    this.state = state;
    this.versionInfo = meta.versionInfo;
    this.lastUpdated = meta.lastUpdated;
    this.errorDetails = meta.errorDetails;
  }
  get name(): string {
    return str(this.raw, 'name') ?? '';
  }
  get address(): SocketAddress | undefined {
    return readAddress(field(this.raw, 'address'));
  }
  /** `listener.additional_addresses[].address` (dual-stack listeners, Istio 1.19+). */
  get additionalAddresses(): SocketAddress[] {
    return objs(this.raw, 'additional_addresses')
      .map((a) => readAddress(field(a, 'address')))
      .filter((a): a is SocketAddress => a !== undefined);
  }
  get port(): number | undefined {
    return this.address?.port;
  }
  /** `INBOUND`, `OUTBOUND` or `UNSPECIFIED` (absent). */
  get trafficDirection(): string {
    return str(this.raw, 'traffic_direction') ?? 'UNSPECIFIED';
  }
  get useOriginalDst(): boolean {
    return bool(this.raw, 'use_original_dst') ?? false;
  }
  /** `bind_to_port` (false on Istio's per-port outbound listeners, which only receive connections handed over by virtualOutbound; absent = true). */
  get bindToPort(): boolean {
    const v = bool(this.raw, 'bind_to_port') ?? bool(obj(this.raw, 'deprecated_v1'), 'bind_to_port');
    return v ?? true;
  }
  get listenerFilters(): ListenerFilterInfo[] {
    return objs(this.raw, 'listener_filters').map((f) => {
      const t = typeName(obj(f, 'typed_config'));
      return { name: str(f, 'name') ?? '', ...(t !== undefined ? { typeName: t } : {}), raw: f };
    });
  }
  hasListenerFilter(kind: 'tls_inspector' | 'http_inspector' | 'original_dst' | 'original_src' | 'proxy_protocol'): boolean {
    return this.listenerFilters.some((f) => f.name === `envoy.filters.listener.${kind}` || f.name === `envoy.listener.${kind}` || (f.typeName ?? '').toLowerCase().includes(kind.replace('_', '')));
  }
  /** `filter_chains`, in order (without the default chain). */
  get filterChains(): FilterChain[] {
    return objs(this.raw, 'filter_chains').map((fc) => new FilterChain(fc));
  }
  get defaultFilterChain(): FilterChain | undefined {
    const d = obj(this.raw, 'default_filter_chain');
    return d ? new FilterChain(d, true) : undefined;
  }
  /** Filter chains followed by the default chain, the order istioctl lists them in before sorting. */
  get allFilterChains(): FilterChain[] {
    const d = this.defaultFilterChain;
    return d ? [...this.filterChains, d] : this.filterChains;
  }
  /** True when the listener uses the unified `filter_chain_matcher` (Istio ambient/waypoints) instead of filter_chain_match. */
  get hasFilterChainMatcher(): boolean {
    return isObject(field(this.raw, 'filter_chain_matcher'));
  }
}

/**
 * Reads a ListenersConfigDump: static listeners, and dynamic listeners in
 * their active, warming and draining states (a dynamic listener may be in
 * several at once while it is being replaced).
 */
export function readListenersConfigDump(dump: JsonObject): Listener[] {
  const out: Listener[] = [];
  for (const d of objs(dump, 'dynamic_listeners')) {
    const errorState = obj(d, 'error_state');
    const errorDetails = str(errorState, 'details');
    for (const [key, state] of [
      ['active_state', 'active'],
      ['warming_state', 'warming'],
      ['draining_state', 'draining'],
    ] as const) {
      const s = obj(d, key);
      const l = obj(s, 'listener');
      if (l) {
        out.push(
          new Listener(l, state, {
            versionInfo: str(s, 'version_info'),
            lastUpdated: str(s, 'last_updated'),
            ...(errorDetails !== undefined ? { errorDetails } : {}),
          }),
        );
      }
    }
    // Never loaded: real Envoy keeps only the failed configuration (model/envoy/config-state.ts).
    const failed = obj(errorState, 'failed_configuration');
    const failedName = str(failed, 'name');
    const already = out.some((l) => l.state === 'rejected' && l.name === failedName);
    if (failed && !obj(d, 'active_state') && !obj(d, 'warming_state') && !already) {
      out.push(new Listener(failed, 'rejected', { lastUpdated: str(errorState, 'last_update_attempt'), ...(errorDetails !== undefined ? { errorDetails } : {}) }));
    }
  }
  for (const s of objs(dump, 'static_listeners')) {
    const l = obj(s, 'listener');
    if (l) out.push(new Listener(l, 'static', { lastUpdated: str(s, 'last_updated') }));
  }
  return out;
}
