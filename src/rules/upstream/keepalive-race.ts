/**
 * MD3009: the keep-alive race (istio#55138, #45802). The app closes a pooled
 * connection when its keep-alive expires; a sidecar whose upstream idle
 * timeout is longer still holds it as ready, and a request sent on it as the
 * close arrives is reset: `503 UC upstream_reset_before_response_started
 * {connection_termination}` on some requests while others to the same
 * upstream succeed.
 *
 * The idle timeout that races is the upstream cluster's
 * `common_http_protocol_options.idle_timeout`, Envoy's default 1 h when
 * unset (envoy/config/core/v3/protocol.proto). Istio writes a
 * DestinationRule's `connectionPool.http.idleTimeout` into the client's
 * outbound cluster and the server's inbound cluster alike (the oracle's
 * output for test/scenarios/keepalive-race-healthy), so one field fixes
 * both hops. The app's keep-alive is what the user states (`--app-keepalive`);
 * without it, a server sidecar whose inbound HTTP connection manager sets
 * `common_http_protocol_options.idle_timeout` (ISTIO_META_IDLE_TIMEOUT) closes
 * the client sidecar's pooled connections after that, and races the same way.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { durationSeconds } from '../../model/envoy/json.js';
import { istioDurationSeconds } from '../../model/istio/common.js';
import { effectivePolicy, type DestinationRuleView } from '../../model/istio/destination-rule.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import { networkingApiVersion } from '../../model/istio/version-behaviour.js';
import { formatPod } from '../../model/pod.js';
import type { ServerEvidence, UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { clusterExcerpt, logLines, plural, podTarget, ruleExcerpt, rulePatch } from './support.js';

/** Envoy's upstream idle timeout when neither the cluster nor a DestinationRule sets one. */
export const ENVOY_DEFAULT_IDLE_MS = 3_600_000;

const PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** A request reset because the upstream closed the connection under it (UC, connection_termination). */
export function connectionTerminated(entry: AccessLogEntry): boolean {
  return entry.responseFlags.includes('UC') && (entry.responseCodeDetails ?? '').includes('connection_termination');
}

function succeeded(entry: AccessLogEntry): boolean {
  return entry.responseCode !== undefined && entry.responseCode >= 200 && entry.responseCode < 400 && entry.responseFlags.length === 0;
}

/** Where the idle timeout in force comes from: the cluster the client has, else the DestinationRule, else Envoy's default. */
interface IdleTimeout {
  ms: number;
  from: 'cluster' | 'rule' | 'default';
  rule?: DestinationRuleView;
  rulePath?: string;
}

function clusterIdleMs(e: UpstreamEvidence): number | undefined {
  const raw = e.client.cluster?.cluster.raw as { typed_extension_protocol_options?: Record<string, { common_http_protocol_options?: { idle_timeout?: unknown } }> } | undefined;
  const seconds = durationSeconds(raw?.typed_extension_protocol_options?.[PROTOCOL_OPTIONS]?.common_http_protocol_options?.idle_timeout);
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

function idleTimeoutOf(e: UpstreamEvidence): IdleTimeout {
  const rule = e.client.tls?.rule ?? e.ruleLookup.rule;
  const effective = rule ? effectivePolicy(rule, { port: e.destination.port, subset: e.subset }) : undefined;
  const base = { ...(rule ? { rule } : {}), ...(effective?.sources.connectionPool ? { rulePath: effective.sources.connectionPool } : {}) };
  const fromCluster = clusterIdleMs(e);
  if (fromCluster !== undefined) return { ms: fromCluster, from: 'cluster', ...base };
  const fromRule = effective?.policy.connectionPool?.http?.idleTimeout;
  const ruleSeconds = istioDurationSeconds(fromRule);
  if (ruleSeconds !== undefined) return { ms: Math.round(ruleSeconds * 1000), from: 'rule', ...base };
  return { ms: ENVOY_DEFAULT_IDLE_MS, from: 'default', ...base };
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Below the keep-alive with room for the close to travel: half of it (500ms for a 1s keep-alive). */
function proposedIdleMs(keepAliveMs: number): number {
  return Math.max(1, Math.floor(keepAliveMs / 2));
}

function idleEvidence(e: UpstreamEvidence, idle: IdleTimeout): EvidenceItem | undefined {
  const cluster = e.client.cluster;
  if (idle.from === 'cluster' && cluster) return clusterExcerpt(e.client.pod, cluster.cluster, ['typed_extension_protocol_options'], `the client's cluster closes idle connections after ${formatMs(idle.ms)}`);
  if (idle.rule) return ruleExcerpt(idle.rule, idle.from === 'rule' ? `connectionPool.http.idleTimeout ${formatMs(idle.ms)}` : 'no connectionPool.http.idleTimeout: Envoy keeps idle upstream connections for 1h');
  if (cluster) return clusterExcerpt(e.client.pod, cluster.cluster, ['name', 'typed_extension_protocol_options'], 'no idle_timeout on the cluster: Envoy keeps idle upstream connections for 1h');
  return undefined;
}

/** What closes the server side's idle connections first: the app (its keep-alive, as the user states it), else the server sidecar's inbound idle_timeout. */
interface Closer {
  ms: number;
  /** `the app at foo/httpbin-1`, `the server sidecar of foo/httpbin-1`. */
  who: string;
  /** `the app's keep-alive`, `the server sidecar's inbound idle_timeout`. */
  what: string;
  evidence: EvidenceItem;
}

function closerOf(e: UpstreamEvidence, at: string): Closer | undefined {
  const app = e.appKeepAlive;
  if (app) return { ms: app.ms, who: `the app at ${at}`, what: "the app's keep-alive", evidence: { source: app.source, ...(app.file ? { file: app.file } : {}), excerpt: app.excerpt ?? `keep-alive ${formatMs(app.ms)}`, note: 'the app closes idle connections after this' } };
  const server = e.servers.filter((s) => s.inboundIdle).sort((a, b) => a.inboundIdle!.ms - b.inboundIdle!.ms)[0];
  if (!server?.inboundIdle) return undefined;
  const idle = server.inboundIdle;
  return {
    ms: idle.ms, who: `the server sidecar of ${formatPod(server.pod)}`, what: "the server sidecar's inbound idle_timeout",
    evidence: { source: idle.source, ...(idle.file ? { file: idle.file } : {}), excerpt: idle.excerpt, note: `${formatPod(server.pod)}'s ${idle.listener} HTTP connection manager closes idle client connections after ${formatMs(idle.ms)}` },
  };
}

function fix(e: UpstreamEvidence, idle: IdleTimeout, closer: Closer | undefined): Finding['remediation'] {
  const keepAliveMs = closer?.ms;
  const proposed = keepAliveMs !== undefined ? formatMs(proposedIdleMs(keepAliveMs)) : undefined;
  const text = proposed
    ? `Set connectionPool.http.idleTimeout to ${proposed}, below ${closer!.what} of ${formatMs(keepAliveMs!)}, so the client's sidecar closes idle connections before the server side does (Istio applies it to the client's outbound and the server's inbound cluster); or raise ${closer!.what} above the idle timeout.`
    : `Find the app's keep-alive timeout (its server's idle/keep-alive setting, or the \`Keep-Alive: timeout=N\` header it sends) and rerun with \`--app-keepalive\`; connectionPool.http.idleTimeout must be below it.`;
  if (!proposed) return { text };
  const policy = { connectionPool: { http: { idleTimeout: proposed } } };
  if (idle.rule) return { text, ...rulePatch(idle.rule, idle.rulePath, policy) };
  const host = e.destination.host;
  const name = host.split('.')[0];
  const namespace = e.destination.service?.ref.namespace ?? e.client.pod.namespace;
  const patch = [
    `apiVersion: ${networkingApiVersion(e.istioVersion)}`, 'kind: DestinationRule', 'metadata:', `  name: ${name}`, `  namespace: ${namespace}`,
    'spec:', `  host: ${host}`, '  trafficPolicy:', '    connectionPool:', '      http:', `        idleTimeout: ${proposed}`, '',
  ].join('\n');
  return { text, patch, command: 'kubectl apply -f - <<EOF\n' + patch + 'EOF' };
}


/** The resets: the client's own UC lines, and the server sidecars' inbound UC lines (the app closed under the request). */
function resets(e: UpstreamEvidence): { client: AccessLogEntry[]; server: Array<{ server: ServerEvidence; entries: AccessLogEntry[] }> } {
  const server = e.servers
    .map((s) => ({ server: s, entries: (s.accessLog?.entries ?? []).filter(connectionTerminated) }))
    .filter((s) => s.entries.length > 0);
  return { client: (e.client.accessLog?.entries ?? []).filter(connectionTerminated), server };
}

/** Lines that show the resets: the server sidecar's UC lines and, by request id, what the client logged for them. */
function resetEvidence(e: UpstreamEvidence, found: ReturnType<typeof resets>, okCount: number): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  for (const { server, entries } of found.server) {
    items.push(logLines(server.accessLog!, entries, `${plural(entries.length, 'request')} reset on ${formatPod(server.pod)}'s inbound cluster: the app closed the pooled connection as the sidecar sent the request (UC connection_termination)`));
  }
  const ids = new Set(found.server.flatMap((s) => s.entries.map((x) => x.requestId)).filter(Boolean));
  const clientLines = found.client.length ? found.client : (e.client.accessLog?.entries ?? []).filter((x) => x.requestId && ids.has(x.requestId));
  if (clientLines.length && e.client.accessLog) {
    items.push(logLines(e.client.accessLog, clientLines, `what the client logged for them, while ${okCount} other requests to the same upstream succeeded`));
  }
  return items;
}

export const keepAliveRace: UpstreamRule = {
  id: 'md3009-keepalive-race',
  code: 'MD3009',
  description: 'Sporadic 503 UC connection_termination: the app closes keep-alive connections before the sidecar\'s idle timeout',
  needs: [{ anyOf: ['client:access-log', 'server:access-log'], because: 'no access log of the client or the server sidecar is available' }],
  check(e: UpstreamEvidence, analysis): Finding[] {
    // A steady cause found by an earlier rule (seed 004's plaintext to an mTLS server) explains UC connection_termination too.
    if (analysis.earlier.some((f) => f.severity === 'error')) return [];
    const found = resets(e);
    const okCount = (e.client.accessLog?.entries ?? e.servers.flatMap((s) => s.accessLog?.entries ?? [])).filter(succeeded).length;
    if ((!found.client.length && !found.server.length) || okCount === 0) return [];
    const idle = idleTimeoutOf(e);
    const server = found.server[0]?.server ?? e.servers[0];
    const closer = closerOf(e, server ? formatPod(server.pod) : e.destination.host);
    const keepAliveMs = closer?.ms;
    if (keepAliveMs !== undefined && idle.ms < keepAliveMs) return [];
    const evidence = resetEvidence(e, found, okCount);
    const idleItem = idleEvidence(e, idle);
    if (idleItem) evidence.push(idleItem);
    if (closer) evidence.push(closer.evidence);
    const defaulted = idle.from === 'default' ? " (Envoy's default)" : '';
    const keepers = e.appKeepAlive ? 'the sidecars keep' : "the client's sidecar keeps";
    const verdict = closer
      ? `${closer.who} closes idle connections after ${formatMs(closer.ms)}, ${keepers} them for ${formatMs(idle.ms)}${defaulted}, so a request sent on a connection ${closer.who.startsWith('the app') ? 'the app' : 'the server sidecar'} is closing is reset`
      : `the sidecars keep idle connections for ${formatMs(idle.ms)}${defaulted}; if the app's keep-alive is shorter, requests race its close`;
    return [makeFinding('MD3009', {
      message: `Some requests to ${e.destination.host} fail with 503 UC connection_termination while others succeed: ${verdict}.`,
      severity: keepAliveMs !== undefined ? 'error' : 'warning',
      target: idle.rule?.ref ?? e.destination.service?.ref ?? podTarget(e.client.pod),
      evidence,
      remediation: fix(e, idle, closer),
      ...(keepAliveMs === undefined ? { assumes: ["the app's keep-alive is unknown (give it with --app-keepalive)"] } : {}),
    })];
  },
};
