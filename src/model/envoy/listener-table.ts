/**
 * The table `istioctl proxy-config listeners <pod>` prints (default short
 * output: `ADDRESSES PORT MATCH DESTINATION`), computed from a config dump.
 *
 * Ported from istio/istio `istioctl/pkg/writer/envoy/configdump/listener.go`
 * (PrintListenerSummary with Verbose, retrieveListenerMatches, getMatches,
 * getFilterType, describeRouteConfig, getMatchAllCluster, describeMatch;
 * the version with additional addresses, Istio 1.19+). Faithful on purpose,
 * quirks included:
 * - listeners: dynamic *active* ones in dump order, then static ones; a
 *   filter (address, port, type) as `--address/--port/--type`;
 * - sorted with Go's unstable sort.Slice by port, then address, then type
 *   (HTTP | TCP | HTTP+TCP | UNKNOWN); chains sorted by DESTINATION,
 *   descending, also with sort.Slice (see go-compat.ts for why that matters);
 * - one row per filter chain, `default_filter_chain` last;
 * - MATCH: `SNI: a,b`; `Trans: tls`; `App: ...` (four named ALPN sets, else
 *   the list); `Addr: cidr,cidr[:port]` or `Addr: *:port`; joined by `; `;
 *   `ALL` when none. Source criteria are not shown (istioctl doesn't);
 * - DESTINATION: first HCM or non-blackhole tcp_proxy filter wins; HCM ->
 *   inline route described (or its match-all cluster) / `Route: <rds>` /
 *   `HTTP`; tcp_proxy -> `Cluster: <c>` or the bare name if it contains
 *   `Cluster`; a tcp_proxy whose config mentions BlackHoleCluster is skipped;
 *   nothing -> `Non-HTTP/Non-TCP`. Filters are recognised by exact name.
 * Before Istio 1.19 the first column was `ADDRESS` and additional addresses
 * were not printed; `formatListenerTable(rows, {addressHeader: 'ADDRESS'})`.
 */
import { goSortSlice, goStringLess, tabwriterFormat } from './go-compat.js';
import { type JsonObject, field, isObject, num, obj, objs, str, strs } from './json.js';
import { type FilterChain, HTTP_CONNECTION_MANAGER, type Listener, TCP_PROXY } from './listeners.js';
import type { ConfigDump } from './config-dump.js';

export interface ListenerTableFilter {
  /** `--address`: the listener's address or one of its additional addresses (case-insensitive). */
  readonly address?: string;
  /** `--port`: the listener's port (0 or absent = any). */
  readonly port?: number;
  /** `--type`: HTTP, TCP, HTTP+TCP or UNKNOWN (case-insensitive). */
  readonly type?: string;
}

export interface ListenerRow {
  /** ADDRESSES column: the address, then additional addresses, comma-joined. */
  readonly addresses: string;
  readonly port: number;
  readonly match: string;
  readonly destination: string;
  /** The listener this row belongs to (for an OWNER column, evidence, ...). */
  readonly listener: Listener;
  /** The filter chain the row describes. */
  readonly filterChain: FilterChain;
}

/** istioctl's retrieveListenerAddress: socket address, else pipe path, else empty. */
function listenerAddress(l: Listener): string {
  return l.address?.address ?? '';
}

function listenerPort(l: Listener): number {
  const a = l.address;
  return a && !a.pipe ? (a.port ?? 0) : 0;
}

/** True when a protobuf-encoded tcp_proxy config would contain the bytes "BlackHoleCluster" (any string field). */
function mentionsBlackHole(typedConfig: unknown): boolean {
  const visit = (v: unknown, key?: string): boolean => {
    if (typeof v === 'string') return key !== '@type' && v.includes('BlackHoleCluster');
    if (Array.isArray(v)) return v.some((x) => visit(x));
    if (isObject(v)) return Object.entries(v).some(([k, x]) => visit(x, k));
    return false;
  };
  return visit(typedConfig);
}

/** istioctl's retrieveListenerType: HTTP | TCP | HTTP+TCP | UNKNOWN. */
export function listenerType(l: Listener): string {
  let nHTTP = 0;
  let nTCP = 0;
  for (const fc of l.allFilterChains) {
    for (const f of objs(fc.raw, 'filters')) {
      const name = str(f, 'name');
      if (name === HTTP_CONNECTION_MANAGER) nHTTP++;
      else if (name === TCP_PROXY && !mentionsBlackHole(obj(f, 'typed_config'))) nTCP++;
    }
  }
  if (nHTTP > 0) return nTCP === 0 ? 'HTTP' : 'HTTP+TCP';
  if (nTCP > 0) return 'TCP';
  return 'UNKNOWN';
}

function equalFold(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function verify(l: Listener, f: ListenerTableFilter): boolean {
  if (!f.address && !f.port && !f.type) return true;
  if (f.address) {
    const addrs = [...l.additionalAddresses.map((a) => (a.pipe ? '' : a.address)), listenerAddress(l)];
    if (!addrs.some((a) => equalFold(a, f.address!))) return false;
  }
  if (f.port && listenerPort(l) !== f.port) return false;
  if (f.type && !equalFold(listenerType(l), f.type)) return false;
  return true;
}

const ALPN_DESCRIPTIONS: readonly (readonly [string, readonly string[]])[] = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** istioctl's getMatches: the MATCH column for one filter chain. */
export function describeFilterChainMatch(fc: FilterChain): string {
  const m = obj(fc.raw, 'filter_chain_match') ?? {};
  const descrs: string[] = [];
  const serverNames = strs(m, 'server_names');
  if (serverNames.length > 0) descrs.push(`SNI: ${serverNames.join(',')}`);
  const transport = str(m, 'transport_protocol');
  if (transport) descrs.push(`Trans: ${transport}`);
  const alpn = strs(m, 'application_protocols');
  if (alpn.length > 0) {
    const named = ALPN_DESCRIPTIONS.find(([, list]) => sameList(alpn, list));
    descrs.push(named ? named[0] : `App: ${alpn.join(',')}`);
  }
  const hasPort = field(m, 'destination_port') !== undefined && field(m, 'destination_port') !== null;
  const port = hasPort ? `:${num(m, 'destination_port') ?? 0}` : '';
  const ranges = objs(m, 'prefix_ranges');
  if (ranges.length > 0) {
    const pf = ranges.map((r) => `${str(r, 'address_prefix') ?? ''}/${num(r, 'prefix_len') ?? 0}`);
    descrs.push(`Addr: ${pf.join(',')}${port}`);
  } else if (port !== '') {
    descrs.push(`Addr: *${port}`);
  }
  return descrs.length === 0 ? 'ALL' : descrs.join('; ');
}

function clusterLabel(cluster: string): string {
  return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
}

/** istioctl's getFilterType: the DESTINATION column for one filter chain. */
export function describeFilterChainDestination(fc: FilterChain): string {
  for (const f of objs(fc.raw, 'filters')) {
    const name = str(f, 'name');
    const typed = obj(f, 'typed_config');
    if (name === HTTP_CONNECTION_MANAGER) {
      const inline = field(typed, 'route_config');
      if (isObject(inline)) return describeRouteConfig(inline);
      const rds = str(obj(typed, 'rds'), 'route_config_name');
      if (rds) return `Route: ${rds}`;
      return 'HTTP';
    } else if (name === TCP_PROXY) {
      if (!mentionsBlackHole(typed)) return clusterLabel(str(typed, 'cluster') ?? '');
    }
  }
  return 'Non-HTTP/Non-TCP';
}

function describeRouteConfig(rc: JsonObject): string {
  const all = matchAllCluster(rc);
  if (all !== '') return all;
  const vhosts = objs(rc, 'virtual_hosts').map((vh) => {
    const domains = describeDomains(vh);
    const routes = describeRoutes(vh);
    return domains === '' ? routes : `${domains} ${routes}`;
  });
  return `Inline Route: ${vhosts.join('; ')}`;
}

/** A route config that sends everything to one cluster is shown as that cluster. */
function matchAllCluster(rc: JsonObject): string {
  const vhs = objs(rc, 'virtual_hosts');
  if (vhs.length !== 1) return '';
  const vh = vhs[0]!;
  if (!sameList(strs(vh, 'domains'), ['*'])) return '';
  const routes = objs(vh, 'routes');
  if (routes.length !== 1) return '';
  const r = routes[0]!;
  if (str(obj(r, 'match'), 'prefix') !== '/') return '';
  const action = obj(r, 'route');
  if (!action) return '';
  const cluster = str(action, 'cluster');
  if (cluster === undefined) return '';
  return clusterLabel(cluster);
}

function describeDomains(vh: JsonObject): string {
  const d = strs(vh, 'domains');
  if (d.length === 1 && d[0] === '*') return '';
  return d.join('/');
}

function describeRoutes(vh: JsonObject): string {
  return objs(vh, 'routes')
    .map((r) => describeRouteMatch(obj(r, 'match') ?? {}))
    .join(', ');
}

function describeRouteMatch(m: JsonObject): string {
  const conds: string[] = [];
  const prefix = str(m, 'prefix');
  if (prefix) conds.push(`${prefix}*`);
  const psp = str(m, 'path_separated_prefix');
  if (psp) conds.push(`PathPrefix:${psp}`);
  const path = str(m, 'path');
  if (path) conds.push(path);
  const regex = obj(m, 'safe_regex');
  if (regex) conds.push(`regex ${str(regex, 'regex') ?? ''}`);
  return conds.join(' ');
}

/**
 * The rows `istioctl proxy-config listeners` prints for this dump (or list
 * of listeners, e.g. from `-o json`), in its order.
 */
export function listenerTable(source: ConfigDump | readonly Listener[], filter: ListenerTableFilter = {}): ListenerRow[] {
  const all = Array.isArray(source) ? (source as readonly Listener[]) : (source as ConfigDump).listeners;
  // Sort keys computed once per listener (istioctl recomputes them in every comparison; same result).
  const keyed = all
    .filter((l) => l.state === 'active' || l.state === 'static' || l.state === 'bare')
    .filter((l) => verify(l, filter))
    .map((l) => ({ l, port: listenerPort(l), address: listenerAddress(l), type: '' }));
  for (const k of keyed) k.type = listenerType(k.l);
  goSortSlice(keyed, (a, b) => {
    if (a.port !== b.port) return a.port < b.port;
    if (a.address !== b.address) return goStringLess(a.address, b.address);
    return goStringLess(a.type, b.type);
  });
  const listeners = keyed.map((k) => k.l);
  const rows: ListenerRow[] = [];
  for (const l of listeners) {
    const addresses = [listenerAddress(l), ...l.additionalAddresses.map((a) => (a.pipe ? '' : a.address))].join(',');
    const port = listenerPort(l);
    const chains = l.allFilterChains.map((fc) => ({
      fc,
      match: describeFilterChainMatch(fc),
      destination: describeFilterChainDestination(fc),
    }));
    goSortSlice(chains, (a, b) => goStringLess(b.destination, a.destination));
    for (const c of chains) rows.push({ addresses, port, match: c.match, destination: c.destination, listener: l, filterChain: c.fc });
  }
  return rows;
}

export interface ListenerTableFormat {
  /** `ADDRESSES` (istioctl 1.19+, default) or `ADDRESS` (older istioctl). */
  readonly addressHeader?: 'ADDRESSES' | 'ADDRESS';
}

/** Prints rows exactly as istioctl does (tabwriter, padding 1), header included, ending with a newline. */
export function formatListenerTable(rows: readonly ListenerRow[], options: ListenerTableFormat = {}): string {
  const header = options.addressHeader ?? 'ADDRESSES';
  let text = `${header}\tPORT\tMATCH\tDESTINATION\n`;
  for (const r of rows) {
    const addresses = header === 'ADDRESS' ? (r.addresses.split(',')[0] ?? '') : r.addresses;
    text += `${addresses}\t${r.port}\t${r.match}\t${r.destination}\n`;
  }
  return tabwriterFormat(text);
}
