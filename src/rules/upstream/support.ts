/**
 * Shared pieces of the why-503 rules: picking failed requests out of the
 * client's log, and building evidence items whose `source` is a command a
 * person could run and whose `excerpt` is the exact lines that prove the point.
 */
import type { Cluster } from '../../model/envoy/clusters.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import type { DestinationRuleView } from '../../model/istio/destination-rule.js';
import type { ObjectRef } from '../../model/k8s/resources.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { EvidenceItem } from '../../findings/finding.js';
import { formatPod, type PodRef } from '../../model/pod.js';
import type { Cited, Numbered, UpstreamEvidence } from './evidence.js';

/**
 * Requests that did not succeed: a 5xx, any response flag, or an HTTP request
 * logged with status 0 (reset before a response). TCP entries (`"- - -" 0`)
 * always log 0, so for them only a flag counts.
 */
export function failed(entry: AccessLogEntry): boolean {
  if (entry.responseFlags.length > 0) return true;
  if (entry.responseCode === undefined) return false;
  return entry.responseCode >= 500 || (entry.responseCode === 0 && !entry.tcp);
}

export function failedRequests(e: UpstreamEvidence): Array<Numbered<AccessLogEntry>> {
  return (e.client.accessLog?.entries ?? []).filter(failed);
}

export function withFlag(e: UpstreamEvidence, flag: string): Array<Numbered<AccessLogEntry>> {
  return (e.client.accessLog?.entries ?? []).filter((x) => x.responseFlags.includes(flag));
}

export const MAX_LINES = 3;

function cite(c: Cited): Pick<EvidenceItem, 'source' | 'file'> {
  return { source: c.source, ...(c.file ? { file: c.file } : {}) };
}

/** Up to three log lines as one evidence item, saying how many more there were. */
export function logLines(c: Cited, lines: ReadonlyArray<{ raw: string }>, note?: string): EvidenceItem {
  const shown = lines.slice(0, MAX_LINES).map((l) => l.raw);
  const more = lines.length > MAX_LINES ? `\n... and ${lines.length - MAX_LINES} more like these` : '';
  return { ...cite(c), excerpt: shown.join('\n') + more, ...(note ? { note } : {}) };
}

export function rawLines(c: Cited, lines: readonly string[], note?: string): EvidenceItem {
  return { ...cite(c), excerpt: lines.join('\n'), ...(note ? { note } : {}) };
}

/** The rule as `kubectl get` shows it, cut to the fields that matter. */
export function ruleExcerpt(rule: DestinationRuleView, note?: string): EvidenceItem {
  const spec: Record<string, unknown> = { host: rule.host };
  const raw = (rule.object.spec ?? {}) as Record<string, unknown>;
  for (const key of ['trafficPolicy', 'subsets', 'exportTo', 'workloadSelector']) if (raw[key] !== undefined) spec[key] = raw[key];
  return {
    source: kubectlGet(rule.ref),
    excerpt: toYaml({ apiVersion: rule.object.apiVersion, kind: 'DestinationRule', metadata: { name: rule.name, namespace: rule.namespace }, spec }),
    ...(note ? { note } : {}),
  };
}

/** `istioctl proxy-config cluster` for one cluster, the way istioctl filters it. */
export function clusterCommand(pod: PodRef, cluster: Cluster): string {
  const n = cluster.istioName;
  const filters = n ? ` --fqdn ${n.host} --port ${n.port}${n.subset ? ` --subset ${n.subset}` : ''}` : '';
  return `istioctl proxy-config cluster ${formatPod(pod)}${filters} -o json`;
}

/** A cluster cut to the given top-level fields, as JSON. */
export function clusterExcerpt(pod: PodRef, cluster: Cluster, fields: string[], note?: string): EvidenceItem {
  const picked: Record<string, unknown> = { name: cluster.name };
  for (const f of fields) if (cluster.raw[f] !== undefined) picked[f] = summariseTransport(f, cluster.raw[f]);
  if (fields.includes('transport_socket') && cluster.raw.transport_socket === undefined && cluster.raw.transport_socket_matches === undefined) {
    picked.transport_socket = '(absent: Envoy speaks plaintext, raw_buffer, to every endpoint)';
  }
  return { source: clusterCommand(pod, cluster), excerpt: JSON.stringify(picked, null, 2), ...(note ? { note } : {}) };
}

/** Transport sockets are long (SDS configs); keep the names and the TLS type that decide the mode. */
function summariseTransport(field: string, value: unknown): unknown {
  const socket = (s: unknown): unknown => {
    const r = s as { name?: string; typed_config?: Record<string, unknown> } | undefined;
    if (!r) return r;
    const typed = r.typed_config ?? {};
    const common = (typed.common_tls_context ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = { name: r.name, '@type': typed['@type'] };
    const certs = (common.tls_certificate_sds_secret_configs as Array<{ name?: string }> | undefined)?.map((c) => c.name);
    if (certs?.length) out.tls_certificate_sds_secret_configs = certs;
    if (common.alpn_protocols) out.alpn_protocols = common.alpn_protocols;
    const combined = common.combined_validation_context as { default_validation_context?: { match_subject_alt_names?: unknown } } | undefined;
    if (combined?.default_validation_context?.match_subject_alt_names) out.match_subject_alt_names = combined.default_validation_context.match_subject_alt_names;
    if (typed.sni) out.sni = typed.sni;
    return out;
  };
  if (field === 'transport_socket') return socket(value);
  if (field === 'transport_socket_matches' && Array.isArray(value)) {
    return value.map((m) => ({ name: (m as { name?: string }).name, match: (m as { match?: unknown }).match, transport_socket: socket((m as { transport_socket?: unknown }).transport_socket) }));
  }
  return value;
}

/** A merge patch for a DestinationRule, at the path its setting came from. */
export function rulePatch(rule: DestinationRuleView, path: string | undefined, policy: Record<string, unknown>): { patch: string; command: string } {
  const spec: Record<string, unknown> = {};
  const subset = path ? /^subsets\[([^\]]+)\]/.exec(path)?.[1] : undefined;
  if (subset) {
    // A merge patch replaces lists whole, so a subset patch repeats every subset.
    const raw = ((rule.object.spec ?? {}) as { subsets?: Array<Record<string, unknown>> }).subsets ?? [];
    spec.subsets = raw.map((s) => (s.name === subset ? { ...s, trafficPolicy: { ...((s.trafficPolicy as object) ?? {}), ...policy } } : s));
  } else {
    spec.trafficPolicy = policy;
  }
  const patch = toYaml({ apiVersion: rule.object.apiVersion, kind: 'DestinationRule', metadata: { name: rule.name, namespace: rule.namespace }, spec });
  const command = `kubectl patch destinationrule ${rule.name} -n ${rule.namespace} --type merge -p '${JSON.stringify({ spec })}'`;
  return { patch, command };
}

export function podTarget(pod: PodRef): ObjectRef {
  return { kind: 'Pod', namespace: pod.namespace, name: pod.name };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
