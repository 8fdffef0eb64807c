/**
 * Envoy's filter-chain selection, criterion by criterion, as
 * config.listener.v3.FilterChainMatch documents it and
 * source/common/listener_manager/filter_chain_manager_impl.cc implements it:
 *
 *   1 destination port, 2 destination IP (longest prefix), 3 server name
 *   (exact, then the longest wildcard suffix, then chains without names),
 *   4 transport protocol, 5 application protocols, 6 direct source IP,
 *   7 source type, 8 source IP, 9 source port.
 *
 * At each criterion the most specific value that matches wins and the other
 * chains are pruned; there is no backtracking. If the surviving chains then
 * fail a later criterion, the connection gets the listener's
 * `default_filter_chain`, or is closed ("no matching filter chain found",
 * NR filter_chain_not_found in the access log). A chain with no criteria is
 * the fallback at every step. Chains without prefix_ranges are indexed as
 * 0.0.0.0/0 and ::/0, so they tie with an explicit /0.
 */
import type { FilterChain, Listener } from '../envoy/listeners.js';
import type { OutboundConnection } from './connection.js';
import { cidrContains, parseIp, sameIp } from './ip.js';

/** What Envoy knows about a connection when it picks the chain (set by the listener filters). */
export interface ConnectionProperties {
  destinationPort: number;
  /** Undefined: an address outside every configured range but the /0 ones. */
  destinationIp?: string;
  serverName: string;
  transportProtocol: string;
  applicationProtocols: string[];
  sourceIp?: string;
  sourcePort?: number;
}

export interface MatchStep {
  criterion: string;
  /** What the connection presented for this criterion. */
  presented: string;
  /** What the surviving chains require (`any` when they do not care). */
  kept: string;
  remaining: number;
}

export interface ChainSelection {
  chain?: FilterChain;
  /** True when the listener's default_filter_chain took it (nothing else matched). */
  usedDefault: boolean;
  steps: MatchStep[];
  /** Why nothing matched, when nothing did. */
  noMatch?: string;
  /** More than one chain survived every criterion: Envoy rejects such a listener, so the dump is odd. */
  ambiguous: boolean;
  notes: string[];
}

/**
 * What the listener filters detect: tls_inspector sets transport `tls`, the
 * SNI and the ALPN; http_inspector sets `http/1.1`/`h2c` for plaintext HTTP;
 * with neither, Envoy defaults the transport to `raw_buffer`
 * (active_tcp_socket.cc) and sees no server name.
 */
export function detectProperties(listener: Listener, c: OutboundConnection): { properties: ConnectionProperties; notes: string[] } {
  const notes: string[] = [];
  const tlsInspector = listener.hasListenerFilter('tls_inspector');
  const httpInspector = listener.hasListenerFilter('http_inspector');
  let transportProtocol = 'raw_buffer';
  let serverName = '';
  let applicationProtocols: string[] = [];
  if (c.transport === 'tls') {
    if (tlsInspector) {
      transportProtocol = 'tls';
      serverName = (c.sni ?? '').toLowerCase();
      applicationProtocols = [...(c.alpn ?? [])];
    } else if (listener.filterChains.some((fc) => fc.match.serverNames.length > 0 || fc.match.transportProtocol || fc.match.applicationProtocols.length > 0)) {
      notes.push(`listener ${listener.name} has no tls_inspector: Envoy sees this TLS connection as raw_buffer, without SNI or ALPN`);
    }
  } else if (httpInspector && c.httpVersion !== undefined) {
    applicationProtocols = [c.httpVersion];
  } else if (c.httpVersion !== undefined && !httpInspector) {
    notes.push(`listener ${listener.name} has no http_inspector: Envoy does not see that this plaintext connection is HTTP`);
  }
  return {
    properties: {
      destinationPort: c.port,
      ...(c.destinationIp ? { destinationIp: c.destinationIp } : {}),
      serverName,
      transportProtocol,
      applicationProtocols,
      ...(c.sourceIp ? { sourceIp: c.sourceIp } : {}),
      ...(c.sourcePort !== undefined ? { sourcePort: c.sourcePort } : {}),
    },
    notes,
  };
}

type Specificity = number | undefined; // undefined: the chain does not match

function narrow(
  chains: FilterChain[],
  criterion: string,
  presented: string,
  score: (c: FilterChain) => Specificity,
  describe: (c: FilterChain) => string,
  steps: MatchStep[],
): FilterChain[] {
  let best = -Infinity;
  const scored: Array<[FilterChain, number]> = [];
  for (const c of chains) {
    const s = score(c);
    if (s === undefined) continue;
    scored.push([c, s]);
    if (s > best) best = s;
  }
  const kept = scored.filter(([, s]) => s === best).map(([c]) => c);
  steps.push({ criterion, presented, kept: kept.length ? [...new Set(kept.map(describe))].join(' | ') : 'nothing', remaining: kept.length });
  return kept;
}

function ipSpecificity(ranges: readonly { addressPrefix: string; prefixLen: number }[], ip: string | undefined): Specificity {
  if (ranges.length === 0) return 0;
  let best: number | undefined;
  for (const r of ranges) {
    const matches = ip === undefined ? r.prefixLen === 0 && (parseIp(r.addressPrefix)?.family ?? 4) === 4 : cidrContains(r.addressPrefix, r.prefixLen, ip);
    if (matches && (best === undefined || r.prefixLen > best)) best = r.prefixLen;
  }
  return best;
}

/** Envoy's server-name rule: exact name (score 1000+), then `*.suffix` by suffix length, then chains without names (0). */
function serverNameSpecificity(names: readonly string[], sni: string): Specificity {
  if (names.length === 0) return 0;
  if (!sni) return undefined;
  let best: number | undefined;
  for (const raw of names) {
    const n = raw.toLowerCase();
    if (n === sni) return 100_000;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1)) && sni.length > n.length - 1) {
      const s = n.length;
      if (best === undefined || s > best) best = s;
    } else if (n.startsWith('.') && sni.endsWith(n)) {
      // Envoy also accepts a bare `.suffix` and treats it as `*.suffix`.
      const s = n.length + 1;
      if (best === undefined || s > best) best = s;
    }
  }
  return best;
}

function sourceType(p: ConnectionProperties): 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL' | undefined {
  if (!p.sourceIp) return undefined;
  if (p.sourceIp.startsWith('127.') || p.sourceIp === '::1' || (p.destinationIp && sameIp(p.sourceIp, p.destinationIp))) return 'SAME_IP_OR_LOOPBACK';
  return 'EXTERNAL';
}

const listOrAny = (xs: readonly unknown[]): string => (xs.length ? xs.join(',') : 'any');

export function selectFilterChain(listener: Listener, p: ConnectionProperties): ChainSelection {
  const steps: MatchStep[] = [];
  const notes: string[] = [];
  let chains = listener.filterChains;
  const fallback = (why: string): ChainSelection => {
    const d = listener.defaultFilterChain;
    return d
      ? { chain: d, usedDefault: true, steps, ambiguous: false, notes: [...notes, `${why}; the listener's default_filter_chain takes it`] }
      : { usedDefault: false, steps, noMatch: `${why}, and the listener has no default_filter_chain: Envoy closes the connection (no matching filter chain found)`, ambiguous: false, notes };
  };
  if (listener.hasFilterChainMatcher) {
    notes.push(`listener ${listener.name} selects chains with filter_chain_matcher (the unified matcher), which this simulation does not evaluate`);
  }
  if (chains.length === 0) return fallback(`listener ${listener.name} has no filter_chains`);

  chains = narrow(chains, 'destination port', String(p.destinationPort),
    (c) => (c.match.destinationPort === undefined ? 0 : c.match.destinationPort === p.destinationPort ? 1 : undefined),
    (c) => (c.match.destinationPort === undefined ? 'any' : String(c.match.destinationPort)), steps);
  if (!chains.length) return fallback(`no chain accepts destination port ${p.destinationPort}`);

  chains = narrow(chains, 'destination IP', p.destinationIp ?? '<external IP>',
    (c) => ipSpecificity(c.match.prefixRanges, p.destinationIp),
    (c) => listOrAny(c.match.prefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen}`)), steps);
  if (!chains.length) return fallback(`no chain accepts destination IP ${p.destinationIp ?? '<external IP>'}`);

  chains = narrow(chains, 'server name', p.serverName || '(none)',
    (c) => serverNameSpecificity(c.match.serverNames, p.serverName),
    (c) => listOrAny(c.match.serverNames), steps);
  if (!chains.length) return fallback(`no chain accepts server name ${p.serverName || '(none)'}`);

  chains = narrow(chains, 'transport protocol', p.transportProtocol,
    (c) => (!c.match.transportProtocol ? 0 : c.match.transportProtocol === p.transportProtocol ? 1 : undefined),
    (c) => c.match.transportProtocol ?? 'any', steps);
  if (!chains.length) return fallback(`no chain accepts transport protocol ${p.transportProtocol}`);

  chains = narrow(chains, 'application protocols', listOrAny(p.applicationProtocols).replace(/^any$/, '(none)'),
    (c) => (c.match.applicationProtocols.length === 0 ? 0 : c.match.applicationProtocols.some((a) => p.applicationProtocols.includes(a)) ? 1 : undefined),
    (c) => listOrAny(c.match.applicationProtocols), steps);
  if (!chains.length) return fallback(`no chain accepts application protocols ${listOrAny(p.applicationProtocols)}`);

  // Source criteria: an app's outbound connection comes from the pod IP (direct source = source without PROXY protocol).
  const sourceCriteria = chains.some((c) => c.match.directSourcePrefixRanges.length || (c.match.sourceType && c.match.sourceType !== 'ANY') || c.match.sourcePrefixRanges.length || c.match.sourcePorts.length);
  if (sourceCriteria) {
    chains = narrow(chains, 'direct source IP', p.sourceIp ?? '<pod IP>', (c) => ipSpecificity(c.match.directSourcePrefixRanges, p.sourceIp),
      (c) => listOrAny(c.match.directSourcePrefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen}`)), steps);
    if (chains.length) {
      const st = sourceType(p);
      chains = narrow(chains, 'source type', st ?? 'EXTERNAL (assumed)',
        (c) => (!c.match.sourceType || c.match.sourceType === 'ANY' ? 0 : c.match.sourceType === (st ?? 'EXTERNAL') ? 1 : undefined),
        (c) => c.match.sourceType ?? 'ANY', steps);
    }
    if (chains.length) {
      chains = narrow(chains, 'source IP', p.sourceIp ?? '<pod IP>', (c) => ipSpecificity(c.match.sourcePrefixRanges, p.sourceIp),
        (c) => listOrAny(c.match.sourcePrefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen}`)), steps);
    }
    if (chains.length) {
      chains = narrow(chains, 'source port', p.sourcePort === undefined ? '<ephemeral>' : String(p.sourcePort),
        (c) => (c.match.sourcePorts.length === 0 ? 0 : p.sourcePort !== undefined && c.match.sourcePorts.includes(p.sourcePort) ? 1 : undefined),
        (c) => listOrAny(c.match.sourcePorts), steps);
    }
    if (!p.sourceIp) notes.push('source criteria evaluated without the pod IP; chains that require a source range were not matched');
    if (!chains.length) return fallback('no chain accepts the source address');
  }
  const ambiguous = chains.length > 1;
  if (ambiguous) notes.push(`${chains.length} chains match every criterion equally (${chains.map((c) => c.name || '(unnamed)').join(', ')}); Envoy rejects a listener with duplicate matches, so this dump is odd — taking the first`);
  return { chain: chains[0], usedDefault: false, steps, ambiguous, notes };
}
