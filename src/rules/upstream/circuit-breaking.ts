/**
 * MD3002: circuit breaking (`UO`, upstream overflow). Envoy answers 503 UO
 * itself when a cluster's circuit-breaker threshold is reached — in Istio the
 * DestinationRule's connectionPool: tcp.maxConnections -> max_connections,
 * http.http1MaxPendingRequests -> max_pending_requests, http.http2MaxRequests
 * -> max_requests, maxRetries -> max_retries (Istio's circuit-breaking task,
 * the same one seed 004 was following).
 *
 * Evidence: the client's `UO` lines, the overflow counters when the stats
 * matcher keeps them (`upstream_rq_pending_overflow`, `upstream_cx_overflow`),
 * the thresholds from the cluster (or /clusters), and the rule that set them.
 * A zero overflow counter is evidence *against* circuit breaking (seed 004:
 * `upstream_rq_pending_overflow: 0`).
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { effectivePolicy } from '../../model/istio/destination-rule.js';
import { formatPod } from '../../model/pod.js';
import { clusterStat } from '../../model/envoy/admin-stats.js';
import type { UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { clusterExcerpt, logLines, ruleExcerpt, rulePatch, withFlag } from './support.js';

const OVERFLOW_STATS: Array<{ stat: string; limit: string; field: [string, string] }> = [
  { stat: 'upstream_rq_pending_overflow', limit: 'max_pending_requests', field: ['http', 'http1MaxPendingRequests'] },
  { stat: 'upstream_cx_overflow', limit: 'max_connections', field: ['tcp', 'maxConnections'] },
  { stat: 'upstream_rq_retry_overflow', limit: 'max_retries', field: ['http', 'maxRetries'] },
];

export const circuitBreaking: UpstreamRule = {
  id: 'md3002-circuit-breaking',
  code: 'MD3002',
  description: 'Circuit-breaker limits tripped: Envoy answered 503 UO itself',
  needs: [{ anyOf: ['client:access-log', 'client:stats'], because: 'neither the client\'s access log nor its stats are available' }],
  check(e: UpstreamEvidence): Finding[] {
    const uo = withFlag(e, 'UO');
    const clusterName = e.client.cluster?.cluster.name ?? e.destination.clusterName;
    const overflows = e.client.stats && clusterName
      ? OVERFLOW_STATS.map((o) => ({ ...o, value: clusterStat(e.client.stats!.stats, clusterName, o.stat) })).filter((o) => (o.value.value ?? 0) > 0)
      : [];
    if (uo.length === 0 && overflows.length === 0) return [];
    const evidence: EvidenceItem[] = [];
    if (uo.length && e.client.accessLog) evidence.push(logLines(e.client.accessLog, uo, 'UO: upstream overflow, the circuit breaker refused the request before it left the client sidecar'));
    for (const o of overflows) {
      evidence.push({ source: e.client.stats!.source, ...(e.client.stats!.file ? { file: e.client.stats!.file } : {}), excerpt: o.value.line ?? `${o.value.name}: ${o.value.value}`, note: `${o.stat} counts requests refused at ${o.limit}` });
    }
    const cluster = e.client.cluster?.cluster;
    const thresholds = cluster?.circuitBreakers.find((t) => t.priority === 'DEFAULT') ?? cluster?.circuitBreakers[0];
    if (cluster) evidence.push({ ...clusterExcerpt(e.client.pod, cluster, ['circuit_breakers', 'typed_extension_protocol_options', 'max_requests_per_connection']), ...(e.client.cluster?.file ? { file: e.client.cluster.file } : {}) });
    const status = e.client.clusterStatus?.status;
    if (!cluster && status?.lines.length) {
      evidence.push({ source: e.client.clusterStatus!.source, ...(e.client.clusterStatus!.file ? { file: e.client.clusterStatus!.file } : {}), excerpt: status.lines.filter((l) => l.includes('default_priority')).join('\n') });
    }
    const rule = e.client.tls?.rule ?? e.ruleLookup.rule;
    const pool = rule ? effectivePolicy(rule, { port: e.destination.port, subset: e.subset }) : undefined;
    const limits: string[] = [];
    if (thresholds?.maxConnections !== undefined && thresholds.maxConnections < 4294967295) limits.push(`max_connections ${thresholds.maxConnections}`);
    if (thresholds?.maxPendingRequests !== undefined && thresholds.maxPendingRequests < 4294967295) limits.push(`max_pending_requests ${thresholds.maxPendingRequests}`);
    if (thresholds?.maxRequests !== undefined && thresholds.maxRequests < 4294967295) limits.push(`max_requests ${thresholds.maxRequests}`);
    const cp = pool?.policy.connectionPool;
    if (!limits.length && cp) {
      if (cp.tcp?.maxConnections !== undefined) limits.push(`tcp.maxConnections ${cp.tcp.maxConnections}`);
      if (cp.http?.http1MaxPendingRequests !== undefined) limits.push(`http.http1MaxPendingRequests ${cp.http.http1MaxPendingRequests}`);
      if (cp.http?.http2MaxRequests !== undefined) limits.push(`http.http2MaxRequests ${cp.http.http2MaxRequests}`);
    }
    const raise = (v: number | undefined) => Math.max(100, (v ?? 10) * 10);
    let target;
    let remediation;
    if (rule && cp) {
      target = rule.ref;
      evidence.push(ruleExcerpt(rule, `connectionPool (${pool!.sources.connectionPool}) sets the limits that tripped`));
      const next = {
        connectionPool: {
          ...cp,
          tcp: { ...(cp.tcp ?? {}), maxConnections: raise(cp.tcp?.maxConnections) },
          http: { ...(cp.http ?? {}), http1MaxPendingRequests: raise(cp.http?.http1MaxPendingRequests) },
        },
      };
      remediation = {
        text: `Raise the connectionPool limits of DestinationRule ${rule.namespace}/${rule.name} to what ${formatPod(e.client.pod)} really sends (the values below are a starting point, not a measurement), or remove them; keep them only where shedding load is the intent.`,
        ...rulePatch(rule, pool!.sources.connectionPool, next),
      };
    } else {
      target = e.destination.service?.ref ?? { kind: 'Pod', namespace: e.client.pod.namespace, name: e.client.pod.name };
      remediation = { text: `No DestinationRule sets these limits: check EnvoyFilters or the proxy's defaults for ${clusterName ?? e.destination.host}, and raise max_connections / max_pending_requests.` };
    }
    return [makeFinding('MD3002', {
      message: `${formatPod(e.client.pod)} refused ${uo.length || overflows.reduce((n, o) => n + (o.value.value ?? 0), 0)} requests to ${e.destination.host} with 503 UO: the circuit breaker's limits${limits.length ? ` (${limits.join(', ')})` : ''} were reached${rule && cp ? `, set by DestinationRule ${rule.namespace}/${rule.name}` : ''}.`,
      target,
      evidence,
      remediation,
    })];
  },
};
