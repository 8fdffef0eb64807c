/**
 * Simulates an outbound connection from an app container through its
 * sidecar's real config (a /config_dump): which listener takes it, which
 * filter chain, which network filter, and where it ends (a cluster, a direct
 * response such as REGISTRY_ONLY's `block_all` 502, or a closed connection).
 * Every decision is recorded with the reason, so a diagnosis can show the
 * path as evidence.
 *
 * Listener selection (iptables REDIRECT to 15001, then Envoy's
 * `use_original_dst` hand-off on `virtualOutbound`): the listener bound to the
 * original destination IP:port, else the one on 0.0.0.0:port (or [::]:port),
 * else `virtualOutbound`'s own chains (PassthroughCluster under ALLOW_ANY,
 * BlackHoleCluster under REGISTRY_ONLY). Istio 1.7 to today build these
 * shapes: per-port 0.0.0.0_PORT and per-VIP IP_PORT listeners with
 * bind_to_port false; older dumps (no virtualOutbound) are simulated with the
 * same rule and a lower confidence.
 */
import type { ConfigDump } from '../envoy/config-dump.js';
import { listenerTable, type ListenerRow } from '../envoy/listener-table.js';
import type { FilterChain, Listener } from '../envoy/listeners.js';
import type { Route, RouteConfig, VirtualHost } from '../envoy/routes.js';
import { compareVersions } from '../envoy/versions.js';
import { describeConnection, type OutboundConnection } from './connection.js';
import { detectProperties, selectFilterChain, type MatchStep } from './filter-chain-match.js';
import { selectRoute, selectVirtualHost } from './http-route.js';
import { isWildcardAddress, sameIp } from './ip.js';

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';

export type OutcomeKind =
  /** A cluster takes the connection or request (PassthroughCluster and BlackHoleCluster included). */
  | 'cluster'
  /** A route answered itself (REGISTRY_ONLY's block_all: 502). */
  | 'direct_response'
  | 'redirect'
  /** TLS bytes reached an HTTP connection manager that does not terminate TLS: Envoy answers 400 and closes; the client sees "unknown protocol" / "wrong version number". */
  | 'tls_into_http'
  /** No filter chain and no default chain: the connection is closed (NR filter_chain_not_found). */
  | 'no_filter_chain'
  /** HCM found no virtual host or no route: 404 NR. */
  | 'no_route'
  /** A gateway has no listener on the port: nothing accepts the connection (refused). */
  | 'no_listener'
  | 'unknown';

export interface Outcome {
  kind: OutcomeKind;
  cluster?: string;
  /** For weighted routes or tcp_proxy: every cluster with its weight. */
  weightedClusters?: readonly { name: string; weight?: number }[];
  status?: number;
  /** The route's name (`block_all`, `allow_any`, `default`, ...). */
  routeName?: string;
  why: string;
}

export type DecisionStage = 'listener' | 'filter chain' | 'network filter' | 'route config' | 'virtual host' | 'route' | 'outcome';

export interface Decision {
  stage: DecisionStage;
  chose: string;
  because: string;
  /** Criterion-by-criterion trace (filter chain only). */
  criteria?: readonly MatchStep[];
}

export type Confidence = 'high' | 'medium' | 'low';

export interface SimulationResult {
  connection: OutboundConnection;
  /** The listener the iptables capture first lands on (virtualOutbound), when there is one. */
  captureListener?: Listener;
  listener?: Listener;
  chain?: FilterChain;
  /** The chain's line in `istioctl proxy-config listeners` (ADDRESSES PORT MATCH DESTINATION). */
  chainRow?: ListenerRow;
  /** True when the chain has no server-name, IP or protocol criteria: it takes everything the listener gets that no other chain claims. */
  catchAll: boolean;
  routeConfig?: RouteConfig;
  virtualHost?: VirtualHost;
  route?: Route;
  outcome: Outcome;
  decisions: Decision[];
  confidence: Confidence;
  /** Why confidence is not high, and other caveats (assumed destination IP, unread filters). */
  notes: string[];
}

export function isPassthrough(cluster: string | undefined): boolean {
  return cluster === PASSTHROUGH_CLUSTER || cluster === 'InboundPassthroughClusterIpv4' || cluster === 'InboundPassthroughClusterIpv6';
}

export function isBlackHole(cluster: string | undefined): boolean {
  return cluster === BLACKHOLE_CLUSTER;
}

function listenerMatchesAddress(l: Listener, ip: string, port: number): boolean {
  if (l.port !== port) {
    if (!l.additionalAddresses.some((a) => a.port === port && sameIp(a.address, ip))) return false;
  }
  return sameIp(l.address?.address, ip) || l.additionalAddresses.some((a) => a.port === port && sameIp(a.address, ip));
}

function listenerIsWildcardOn(l: Listener, port: number): boolean {
  return (l.port === port && isWildcardAddress(l.address?.address)) || l.additionalAddresses.some((a) => a.port === port && isWildcardAddress(a.address));
}

function isCaptureListener(l: Listener): boolean {
  return l.name === 'virtualOutbound' || (l.useOriginalDst && l.trafficDirection !== 'INBOUND' && l.port === 15001);
}

interface ListenerIndex {
  capture?: Listener;
  /** Listeners (other than the capture listener and virtualInbound) by every port they are bound to. */
  byPort: Map<number, Listener[]>;
}

/** Built once per dump: a sidecar of a large mesh has thousands of per-VIP listeners. */
const LISTENER_INDEX = new WeakMap<ConfigDump, ListenerIndex>();

function listenerIndex(dump: ConfigDump): ListenerIndex {
  let index = LISTENER_INDEX.get(dump);
  if (!index) {
    const listeners = dump.listeners;
    const capture = listeners.find(isCaptureListener);
    const byPort = new Map<number, Listener[]>();
    for (const l of listeners) {
      if (l === capture || l.name === 'virtualInbound') continue;
      const ports = new Set<number>([...(l.port !== undefined ? [l.port] : []), ...l.additionalAddresses.map((a) => a.port).filter((p): p is number => p !== undefined)]);
      for (const port of ports) {
        const list = byPort.get(port);
        if (list) list.push(l);
        else byPort.set(port, [l]);
      }
    }
    index = { ...(capture ? { capture } : {}), byPort };
    LISTENER_INDEX.set(dump, index);
  }
  return index;
}

/** Which listener takes the connection after the iptables capture, with the reason. */
export function selectListener(dump: ConfigDump, c: OutboundConnection): { capture?: Listener; listener?: Listener; because: string; notes: string[]; vipListeners: string[] } {
  const { capture, byPort } = listenerIndex(dump);
  const onPort = byPort.get(c.port) ?? [];
  const vipListeners = onPort.filter((l) => !listenerIsWildcardOn(l, c.port)).map((l) => l.name);
  return { ...pickListener(c, capture, onPort, vipListeners), vipListeners };
}

function pickListener(c: OutboundConnection, capture: Listener | undefined, onPort: Listener[], vips: string[]): { capture?: Listener; listener?: Listener; because: string; notes: string[] } {
  const notes: string[] = [];
  if (c.destinationIp) {
    const exact = onPort.find((l) => listenerMatchesAddress(l, c.destinationIp!, c.port));
    if (exact) return { capture, listener: exact, because: `listener ${exact.name} is bound to the original destination ${c.destinationIp}:${c.port} (an exact IP:port listener wins over 0.0.0.0)`, notes };
  } else if (vips.length) {
    notes.push(`no destination IP given: assumed an address none of the per-VIP listeners on port ${c.port} claims (${vips.slice(0, 5).join(', ')}${vips.length > 5 ? `, ... ${vips.length} in all` : ''}); pass --ip to simulate a connection to one of them`);
  }
  const wildcard = onPort.find((l) => listenerIsWildcardOn(l, c.port));
  if (wildcard) {
    return { capture, listener: wildcard, because: `no listener is bound to ${c.destinationIp ?? 'the destination IP'}:${c.port}; listener ${wildcard.name} on ${wildcard.address?.address}:${c.port} takes it`, notes };
  }
  if (capture) {
    return { capture, listener: capture, because: `no listener on port ${c.port}: the connection stays on ${capture.name} (${capture.address?.address}:${capture.port}, use_original_dst) and its own filter chains decide`, notes };
  }
  return { because: `no listener on port ${c.port} and no virtualOutbound listener in the dump`, notes };
}

function routeOutcome(route: Route): Outcome {
  const a = route.action;
  const name = route.name;
  switch (a.kind) {
    case 'cluster':
      return { kind: 'cluster', cluster: a.cluster, ...(name ? { routeName: name } : {}), why: `route ${name ?? '(unnamed)'} sends the request to cluster ${a.cluster}` };
    case 'weighted_clusters': {
      const top = [...a.clusters].sort((x, y) => (y.weight ?? 0) - (x.weight ?? 0))[0];
      return { kind: 'cluster', cluster: top?.name, weightedClusters: a.clusters, ...(name ? { routeName: name } : {}), why: `route ${name ?? '(unnamed)'} splits the request across ${a.clusters.map((x) => `${x.name} (${x.weight ?? '?'})`).join(', ')}` };
    }
    case 'direct_response':
      return { kind: 'direct_response', ...(a.status !== undefined ? { status: a.status } : {}), ...(name ? { routeName: name } : {}), why: `route ${name ?? '(unnamed)'} answers itself with HTTP ${a.status ?? '?'} (direct_response)` };
    case 'redirect':
      return { kind: 'redirect', ...(name ? { routeName: name } : {}), why: `route ${name ?? '(unnamed)'} answers with a redirect` };
    default:
      return { kind: 'unknown', ...(name ? { routeName: name } : {}), why: `route ${name ?? '(unnamed)'} has an action (${a.kind}) this simulation does not follow` };
  }
}

/** The chain's istioctl line, computed on that listener alone. */
function rowOf(listener: Listener, chain: FilterChain): ListenerRow | undefined {
  return listenerTable([listener]).find((r) => r.filterChain.raw === chain.raw);
}

/** True when the chain would take anything its listener gets (no SNI, IP, transport or ALPN criterion, or the default chain). */
export function isCatchAllChain(chain: FilterChain): boolean {
  if (chain.isDefault) return true;
  const m = chain.match;
  return m.serverNames.length === 0 && m.prefixRanges.every((r) => r.prefixLen === 0) && !m.transportProtocol && m.applicationProtocols.length === 0;
}

/**
 * options.assumedExternal: nothing (resources or the proxy) gave the host an
 * address, so the destination IP is a guess: the verdict is low confidence.
 * options.proxy: which proxy the connection enters: a sidecar's app connection
 * (captured by iptables to virtualOutbound), or a request arriving at a
 * gateway pod, which intercepts nothing and binds one listener per port
 * (0.0.0.0_<port>).
 */
export interface SimulateOptions {
  istioVersion?: string;
  assumedExternal?: boolean;
  proxy?: 'sidecar' | 'gateway';
}

/**
 * The connection's path, decision by decision: the listener the capture hands
 * it to, the filter chain, the network filter, and for HTTP the route config,
 * virtual host and route.
 */
export function simulateOutbound(dump: ConfigDump, connection: OutboundConnection, options: SimulateOptions = {}): SimulationResult {
  const trace = new Trace(connection);
  judgeVersion(trace, dump, options);
  const pick = takeListener(trace, dump, connection, options);
  if (!pick.listener) return noListener(trace, pick, options);
  const listener = pick.listener;
  trace.decisions.push({ stage: 'listener', chose: listener.name, because: pick.because });
  const selection = takeFilterChain(trace, dump, listener, connection);
  if (!selection.chain) {
    const why = selection.noMatch ?? 'no chain matched';
    return trace.result({ captureListener: pick.capture, listener, outcome: { kind: 'no_filter_chain', why } });
  }
  const chain = selection.chain;
  const chainRow = rowOf(listener, chain);
  const catchAll = isCatchAllChain(chain);
  trace.decisions.push(chainDecision(selection, chain, chainRow, catchAll));
  const withChain: ChainTaken = { captureListener: pick.capture, listener, chain, ...(chainRow ? { chainRow } : {}), catchAll };
  const terminal = chain.terminalFilter;
  if (!terminal) return noTerminalFilter(trace, withChain);
  if (terminal.tcpProxy) return followTcpProxy(trace, withChain, terminal.tcpProxy);
  return followHttp(trace, dump, withChain, terminal.httpConnectionManager!);
}

/** What a simulation records as it goes: each decision, the caveats, and how sure it is. */
class Trace {
  readonly decisions: Decision[] = [];
  readonly notes: string[] = [];
  confidence: Confidence = 'high';

  constructor(readonly connection: OutboundConnection) {}

  /** A caveat that lowers the confidence to `to` (never raises it). */
  lower(to: Confidence, why: string): void {
    this.notes.push(why);
    if (to === 'low' || (to === 'medium' && this.confidence === 'high')) this.confidence = to;
  }

  result(taken: Partial<Omit<SimulationResult, 'connection' | 'decisions' | 'notes' | 'confidence'>> & { outcome: Outcome }): SimulationResult {
    return { connection: this.connection, decisions: this.decisions, notes: this.notes, catchAll: false, ...taken, confidence: this.confidence };
  }
}

type TerminalFilter = NonNullable<FilterChain['terminalFilter']>;
type ChainTaken = Pick<SimulationResult, 'captureListener' | 'listener' | 'chain' | 'chainRow' | 'catchAll'>;

/** The run's version (from the proxy, else the versions file or an image tag) when the dump does not say. */
function judgeVersion(trace: Trace, dump: ConfigDump, options: SimulateOptions): void {
  const istio = dump.versions?.istio ?? options.istioVersion;
  if (!istio) trace.lower('medium', 'no source says which Istio version built the dump (no ISTIO_VERSION in the node metadata, no versions file or image tag)');
  else if ((compareVersions(istio, '1.7.0') ?? 0) < 0) trace.lower('medium', `Istio ${istio} is older than 1.7, the oldest listener layout this simulation is written for`);
}

/** The listener the capture hands the connection to, and how sure that choice is. */
function takeListener(trace: Trace, dump: ConfigDump, connection: OutboundConnection, options: SimulateOptions): ReturnType<typeof selectListener> {
  const pick = selectListener(dump, connection);
  trace.notes.push(...pick.notes);
  // The guess decides the path only where per-VIP listeners share the port (an exact IP:port listener wins).
  if (options.assumedExternal && pick.vipListeners.length) trace.lower('low', `the destination address is assumed (an external IP): neither the resources nor the sidecar's config give ${connection.host ?? connection.sni ?? 'the host'} one, and ${pick.vipListeners.length} listener(s) on port ${connection.port} are bound to specific addresses`);
  if (!pick.capture && options.proxy !== 'gateway') trace.lower('medium', 'the dump has no virtualOutbound listener (use_original_dst on 15001): traffic capture is assumed to hand off as Istio 1.7+ does');
  return pick;
}

/** No listener takes the connection: a gateway refuses it; for a sidecar the dump is not what this simulation knows. */
function noListener(trace: Trace, pick: ReturnType<typeof selectListener>, options: SimulateOptions): SimulationResult {
  if (options.proxy === 'gateway') {
    const why = `the gateway has no listener on port ${trace.connection.port}: nothing accepts the connection (refused)`;
    trace.decisions.push({ stage: 'listener', chose: '(none)', because: why });
    return trace.result({ outcome: { kind: 'no_listener', why } });
  }
  trace.decisions.push({ stage: 'listener', chose: '(none)', because: pick.because });
  trace.lower('low', 'no listener found for the connection');
  return trace.result({ outcome: { kind: 'unknown', why: pick.because } });
}

/** The listener's filter chain for the connection's properties (recorded as a decision only when none matches). */
function takeFilterChain(trace: Trace, dump: ConfigDump, listener: Listener, connection: OutboundConnection): ReturnType<typeof selectFilterChain> {
  if (dump.allListeners.length !== dump.listeners.length && dump.allListeners.some((l) => l.name === listener.name && l.state === 'warming')) trace.lower('medium', `listener ${listener.name} also has a warming version: Envoy may be about to replace what is simulated`);
  const detected = detectProperties(listener, connection);
  trace.notes.push(...detected.notes);
  const selection = selectFilterChain(listener, detected.properties);
  trace.notes.push(...selection.notes);
  if (selection.ambiguous || listener.hasFilterChainMatcher) trace.confidence = 'low';
  if (!selection.chain) trace.decisions.push({ stage: 'filter chain', chose: '(none)', because: selection.noMatch ?? 'no chain matched', criteria: selection.steps });
  return selection;
}

function chainDecision(selection: ReturnType<typeof selectFilterChain>, chain: FilterChain, chainRow: ListenerRow | undefined, catchAll: boolean): Decision {
  const chainName = chain.name || (chain.isDefault ? 'default_filter_chain' : '(unnamed chain)');
  return {
    stage: 'filter chain',
    chose: chainRow ? `${chainRow.addresses} ${chainRow.port} ${chainRow.match} ${chainRow.destination}` : chainName,
    because: selection.usedDefault
      ? `no filter chain matched (${selection.steps.at(-1)?.criterion ?? 'first criterion'}); the default_filter_chain takes it`
      : `${chainName} survives every criterion${catchAll ? ' and has none of its own: it is the catch-all of this listener' : ''}`,
    criteria: selection.steps,
  };
}

function noTerminalFilter(trace: Trace, withChain: ChainTaken): SimulationResult {
  const chain = withChain.chain!;
  trace.decisions.push({ stage: 'network filter', chose: '(none)', because: `chain has no tcp_proxy or http_connection_manager (filters: ${chain.filters.map((f) => f.name).join(', ') || 'none'})` });
  trace.lower('low', 'the chain ends in a filter this simulation does not follow');
  return trace.result({ ...withChain, outcome: { kind: 'unknown', why: 'the chain ends in a filter this simulation does not follow' } });
}

/** tcp_proxy: the bytes go to one cluster (or a weighted split), whatever host the client meant. */
function followTcpProxy(trace: Trace, withChain: ChainTaken, tcp: NonNullable<TerminalFilter['tcpProxy']>): SimulationResult {
  const cluster = tcp.cluster ?? [...tcp.weightedClusters].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0))[0]?.name;
  trace.decisions.push({ stage: 'network filter', chose: `tcp_proxy -> ${cluster ?? '?'}`, because: tcp.cluster ? `tcp_proxy forwards the bytes to cluster ${tcp.cluster}` : `tcp_proxy splits across ${tcp.weightedClusters.map((w) => `${w.name} (${w.weight ?? '?'})`).join(', ')}` });
  const outcome: Outcome = {
    kind: 'cluster',
    ...(cluster ? { cluster } : {}),
    ...(tcp.weightedClusters.length ? { weightedClusters: tcp.weightedClusters } : {}),
    why: isBlackHole(cluster)
      ? 'tcp_proxy to BlackHoleCluster: the connection is accepted and closed (UH on BlackHoleCluster in the access log)'
      : isPassthrough(cluster)
        ? 'tcp_proxy to PassthroughCluster: the connection goes to the original destination unchanged'
        : `tcp_proxy to ${cluster}: the connection goes to that cluster's endpoints, whatever host the client meant`,
  };
  trace.decisions.push({ stage: 'outcome', chose: cluster ?? '?', because: outcome.why });
  return trace.result({ ...withChain, outcome });
}

/** http_connection_manager: TLS it cannot read, then route config, virtual host and route. */
function followHttp(trace: Trace, dump: ConfigDump, withChain: ChainTaken, hcm: NonNullable<TerminalFilter['httpConnectionManager']>): SimulationResult {
  const { connection } = trace;
  if (connection.transport === 'tls' && !withChain.chain!.terminatesTls) {
    const why = 'the chain hands the connection to an HTTP connection manager without terminating TLS: the ClientHello is parsed as HTTP, Envoy answers "400 Bad Request" in plaintext and closes, and the client reports "unknown protocol" / "wrong version number"';
    trace.decisions.push({ stage: 'network filter', chose: 'http_connection_manager', because: why });
    trace.decisions.push({ stage: 'outcome', chose: 'TLS handshake fails', because: why });
    return trace.result({ ...withChain, outcome: { kind: 'tls_into_http', why } });
  }
  const routeConfig = hcm.inlineRouteConfig ?? (hcm.rdsRouteConfigName ? dump.routeConfig(hcm.rdsRouteConfigName) : undefined);
  trace.decisions.push({ stage: 'network filter', chose: 'http_connection_manager', because: hcm.rdsRouteConfigName ? `HTTP connection manager with RDS route config ${hcm.rdsRouteConfigName}` : 'HTTP connection manager with an inline route config' });
  if (!routeConfig) {
    const why = `route config ${hcm.rdsRouteConfigName ?? '(inline)'} is not in the dump (RDS not received yet, or the dump was filtered)`;
    trace.lower('low', why);
    trace.decisions.push({ stage: 'route config', chose: '(missing)', because: why });
    return trace.result({ ...withChain, outcome: { kind: 'unknown', why } });
  }
  trace.decisions.push({ stage: 'route config', chose: routeConfig.name || '(inline)', because: `${routeConfig.virtualHosts.length} virtual hosts` });
  return followRoute(trace, { ...withChain, routeConfig });
}

/** The virtual host for the Host header, its TLS redirect, then the route for the path. */
function followRoute(trace: Trace, taken: ChainTaken & { routeConfig: RouteConfig }): SimulationResult {
  const { connection } = trace;
  const hostHeader = connection.host ?? connection.sni ?? (connection.destinationIp ? `${connection.destinationIp}:${connection.port}` : '');
  const vh = selectVirtualHost(taken.routeConfig, hostHeader);
  if (!vh.virtualHost) {
    trace.decisions.push({ stage: 'virtual host', chose: '(none)', because: vh.because });
    return trace.result({ ...taken, outcome: { kind: 'no_route', status: 404, why: `${vh.because}: Envoy answers 404 (NR)` } });
  }
  const virtualHost = vh.virtualHost;
  trace.decisions.push({ stage: 'virtual host', chose: virtualHost.name, because: vh.because });
  if (virtualHost.requireTls === 'ALL' && connection.transport !== 'tls') {
    // Envoy redirects before routing (config_impl.cc VirtualHostImpl sslRedirect): Istio's tls.httpsRedirect.
    const why = `virtual host ${virtualHost.name} has require_tls ALL: Envoy answers 301 to https:// before any route`;
    trace.decisions.push({ stage: 'outcome', chose: 'HTTP 301', because: why });
    return trace.result({ ...taken, virtualHost, outcome: { kind: 'redirect', status: 301, why } });
  }
  const route = selectRoute(virtualHost, connection.path ?? '/');
  trace.notes.push(...route.notes);
  if (!route.route) {
    trace.decisions.push({ stage: 'route', chose: '(none)', because: route.because });
    return trace.result({ ...taken, virtualHost, outcome: { kind: 'no_route', status: 404, why: `${route.because}: Envoy answers 404 (NR)` } });
  }
  trace.decisions.push({ stage: 'route', chose: route.route.name ?? '(unnamed)', because: route.because });
  const outcome = routeOutcome(route.route);
  trace.decisions.push({ stage: 'outcome', chose: outcome.cluster ?? (outcome.status !== undefined ? `HTTP ${outcome.status}` : outcome.kind), because: outcome.why });
  return trace.result({ ...taken, virtualHost, route: route.route, outcome });
}

/** One line per decision, for a transcript or an evidence excerpt. */
export function describePath(result: SimulationResult): string[] {
  const lines = [`connection: ${describeConnection(result.connection)}`];
  for (const d of result.decisions) lines.push(`${d.stage}: ${d.chose} — ${d.because}`);
  return lines;
}
