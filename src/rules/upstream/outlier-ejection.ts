/**
 * MD3003 / MD3008: outlier detection.
 *
 * Seed 004's DestinationRule had `consecutiveErrors: 1`, `interval: 1s`,
 * `baseEjectionTime: 3m`, `maxEjectionPercent: 100`: the first failed request
 * ejects the only endpoint for three minutes, and every request after it fails
 * differently — `503 UH` ("no healthy upstream") — hiding the first cause
 * (incidents.md #5). Envoy counts locally originated failures (connect
 * failures, resets) as 5xx for consecutive_5xx unless
 * split_external_local_origin_errors is set, so a UC/UF also ejects.
 *
 * - MD3003 (error): every host is ejected (`/clusters` health_flags
 *   `/failed_outlier_check`), or the client's UH lines follow earlier failures
 *   while the cluster has endpoints: name the settings and the first cause.
 * - MD3008 (warning): the settings alone can eject every host after one error
 *   for a minute or more, even when nothing is ejected now.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { effectivePolicy, type DestinationRuleView, type OutlierDetectionView } from '../../model/istio/destination-rule.js';
import { formatPod } from '../../model/pod.js';
import { outlierErrorsField } from '../../model/istio/version-behaviour.js';
import { ejected } from '../../model/envoy/admin-clusters.js';
import type { UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { clusterExcerpt, failed, logLines, ruleExcerpt, rulePatch, withFlag } from './support.js';

interface Settings {
  consecutive?: number;
  baseEjectionSeconds?: number;
  maxEjectionPercent?: number;
  from: 'cluster' | 'rule';
  rule?: DestinationRuleView;
  rulePath?: string;
  ruleView?: OutlierDetectionView;
}

function seconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (!parts.length) return /^\d+$/.test(text) ? Number(text) : undefined;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((t, [, v, u]) => t + Number(v) * unit[u], 0);
}

function settingsOf(e: UpstreamEvidence): Settings | undefined {
  const rule = e.client.tls?.rule ?? e.ruleLookup.rule;
  const policy = rule ? effectivePolicy(rule, { port: e.destination.port, subset: e.subset }) : undefined;
  const od = policy?.policy.outlierDetection;
  const fromRule = rule && od ? { rule, rulePath: policy!.sources.outlierDetection, ruleView: od } : {};
  const cluster = e.client.cluster?.cluster.outlierDetection;
  // The cluster is what Envoy does; when Istio has not pushed the rule (no config metadata), the rule is what it will do.
  if (cluster && (e.client.tls?.basis !== 'resources' || !od)) {
    return {
      from: 'cluster',
      // Envoy's default for consecutive_5xx is 5 when outlier detection is on and the field is unset.
      consecutive: cluster.consecutive5xx ?? 5,
      baseEjectionSeconds: cluster.baseEjectionTimeSeconds ?? 30,
      maxEjectionPercent: cluster.maxEjectionPercent ?? 10,
      ...fromRule,
    };
  }
  if (!od) return undefined;
  return {
    from: 'rule',
    consecutive: od.effectiveConsecutive5xxErrors ?? 5,
    baseEjectionSeconds: seconds(od.baseEjectionTime) ?? 30,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    ...fromRule,
  };
}

function describe(s: Settings): string {
  return `${s.consecutive} consecutive error${s.consecutive === 1 ? ' ejects' : 's eject'} a host for ${s.baseEjectionSeconds}s (at most ${s.maxEjectionPercent}% of hosts)`;
}

function hostCount(e: UpstreamEvidence): number | undefined {
  if (e.client.cluster?.edsKnown && e.client.cluster.endpoints) return e.client.cluster.endpoints.length;
  if (e.client.clusterStatus?.status) return e.client.clusterStatus.status.hosts.length;
  return undefined;
}

/**
 * The relaxed settings, in the fields the run's Istio has: consecutiveErrors
 * before 1.5, else consecutive5xxErrors with the deprecated field set to null,
 * so the merge patch removes it instead of leaving the old value beside the new.
 */
function relaxed(s: Settings, hosts: number | undefined, istioVersion: UpstreamEvidence['istioVersion']): Record<string, unknown> {
  const od = (s.rule?.object.spec as { trafficPolicy?: { outlierDetection?: Record<string, unknown> } } | undefined)?.trafficPolicy?.outlierDetection ?? {};
  // consecutive5xxErrors stays where the rule has it (rewritten in place), so the patch reads in the rule's order.
  const { consecutiveErrors: legacy, ...rest } = od as Record<string, unknown>;
  const field = outlierErrorsField(istioVersion);
  const errors = Math.max(5, s.consecutive ?? 5);
  return {
    outlierDetection: {
      ...rest,
      ...(field === 'consecutiveErrors' ? { consecutiveErrors: errors } : { consecutive5xxErrors: errors, ...(legacy !== undefined ? { consecutiveErrors: null } : {}) }),
      baseEjectionTime: '30s',
      maxEjectionPercent: hosts !== undefined && hosts <= 1 ? 0 : 50,
    },
  };
}

function settingsEvidence(e: UpstreamEvidence, s: Settings): EvidenceItem[] {
  const out: EvidenceItem[] = [];
  const cluster = e.client.cluster;
  if (cluster?.cluster.outlierDetection) out.push({ ...clusterExcerpt(e.client.pod, cluster.cluster, ['outlier_detection']), ...(cluster.file ? { file: cluster.file } : {}) });
  if (s.rule) out.push(ruleExcerpt(s.rule, `outlierDetection (${s.rulePath}): ${describe(s)}`));
  return out;
}

function target(e: UpstreamEvidence, s: Settings) {
  return s.rule?.ref ?? e.destination.service?.ref ?? { kind: 'Pod', namespace: e.client.pod.namespace, name: e.client.pod.name };
}

function fix(s: Settings, hosts: number | undefined, istioVersion: UpstreamEvidence['istioVersion']) {
  const text = `Relax outlier detection${s.rule ? ` in DestinationRule ${s.rule.namespace}/${s.rule.name}` : ''}: more consecutive errors before ejecting, a short baseEjectionTime, and a maxEjectionPercent that never ejects every host${hosts !== undefined && hosts <= 1 ? ' (with a single endpoint, 0 turns ejection off)' : ''}.`;
  return s.rule ? { text, ...rulePatch(s.rule, s.rulePath, relaxed(s, hosts, istioVersion)) } : { text };
}

export const outlierEjection: UpstreamRule = {
  id: 'md3003-outlier-ejection',
  code: 'MD3003',
  description: 'Outlier detection ejected every host: 503 UH hides the first cause',
  needs: [{ anyOf: ['client:access-log', 'client:cluster-status'], because: 'neither the client\'s access log nor its /clusters health are available' }],
  check(e: UpstreamEvidence): Finding[] {
    const s = settingsOf(e);
    const status = e.client.clusterStatus?.status;
    const hosts = hostCount(e);
    const ejectedHosts = status?.hosts.filter(ejected) ?? [];
    const allEjected = status !== undefined && status.hosts.length > 0 && ejectedHosts.length === status.hosts.length;
    const uh = withFlag(e, 'UH');
    const entries = e.client.accessLog?.entries ?? [];
    const firstUh = uh[0];
    const before = firstUh ? entries.filter((x) => x.lineNumber < firstUh.lineNumber && failed(x) && !x.responseFlags.includes('UH')) : [];
    const uhWithHosts = uh.length > 0 && (hosts ?? 0) > 0 && (s !== undefined) && (before.length > 0 || allEjected);
    if (!allEjected && !uhWithHosts) return [];
    if (!s && !allEjected) return [];
    const evidence: EvidenceItem[] = [];
    if (status && ejectedHosts.length) {
      evidence.push({
        source: e.client.clusterStatus!.source,
        ...(e.client.clusterStatus!.file ? { file: e.client.clusterStatus!.file } : {}),
        excerpt: ejectedHosts.flatMap((h) => h.lines.filter((l) => /health_flags|failed_outlier_check|cx_connect_fail|rq_error/.test(l))).join('\n'),
        note: `${ejectedHosts.length} of ${status.hosts.length} hosts ejected by outlier detection (failed_outlier_check)`,
      });
    }
    if (uh.length && e.client.accessLog) evidence.push(logLines(e.client.accessLog, uh, 'UH: no healthy upstream — every host is ejected, the request never left the client sidecar'));
    if (before.length && e.client.accessLog) evidence.push(logLines(e.client.accessLog, before, `the first failure${before.length > 1 ? 's' : ''} before the ejection: ${before[0].responseCode} ${before[0].responseFlags.join(',') || '-'} ${before[0].responseCodeDetails ?? ''} — the cause the UH lines hide`.trim()));
    if (s) evidence.push(...settingsEvidence(e, s));
    const first = before[0];
    return [makeFinding('MD3003', {
      message: `Outlier detection ejected ${allEjected ? 'every host' : 'the hosts'} of ${e.destination.host}${s ? ` (${describe(s)})` : ''}, so ${formatPod(e.client.pod)} answers 503 UH "no healthy upstream"${first ? `; the first cause was ${first.responseCode} ${first.responseFlags.join(',') || '-'}${first.responseCodeDetails ? ` ${first.responseCodeDetails}` : ''}, which the ejection now hides` : ''}.`,
      target: s ? target(e, s) : (e.destination.service?.ref ?? { kind: 'Pod', namespace: e.client.pod.namespace, name: e.client.pod.name }),
      evidence,
      remediation: s ? fix(s, hosts, e.istioVersion) : { text: 'Find which rule or EnvoyFilter sets outlier detection on this cluster, and relax it.' },
    })];
  },
};

export const outlierSettings: UpstreamRule = {
  id: 'md3008-outlier-ejects-all-at-once',
  code: 'MD3008',
  description: 'Outlier detection can eject every host after a single error, for minutes',
  needs: [],
  check(e: UpstreamEvidence, analysis): Finding[] {
    if (analysis.earlier.some((f) => f.code === 'MD3003')) return [];
    const s = settingsOf(e);
    if (!s) return [];
    const hosts = hostCount(e);
    const every = (s.maxEjectionPercent ?? 10) >= 100 || (hosts !== undefined && hosts <= 1 && (s.maxEjectionPercent ?? 10) > 0);
    if (!((s.consecutive ?? 5) <= 1 && (s.baseEjectionSeconds ?? 30) >= 60 && every)) return [];
    return [makeFinding('MD3008', {
      message: `${s.rule ? `DestinationRule ${s.rule.namespace}/${s.rule.name}` : `The cluster for ${e.destination.host}`}: ${describe(s)}; one failed request ejects ${hosts !== undefined && hosts <= 1 ? 'the only endpoint' : 'every endpoint'} for ${Math.round((s.baseEjectionSeconds ?? 0) / 60)} min, after which requests fail with 503 UH and hide the first cause.`,
      target: target(e, s),
      evidence: settingsEvidence(e, s),
      remediation: fix(s, hosts, e.istioVersion),
    })];
  },
};
