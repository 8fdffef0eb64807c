/**
 * MD3001: the client sidecar sends plaintext (or TLS without a client
 * certificate) to a server sidecar that requires mTLS — incident 5 / seed 004.
 *
 * Client: `503 UC` (connection closed by the server before headers) or `UF`.
 * Server: `SSL error: ...HTTP_REQUEST` after `handshake error: 1` (2018
 * Envoy, seed 004), `TLS_error:|...:HTTP_REQUEST` or
 * `PEER_DID_NOT_RETURN_A_CERTIFICATE` (current Envoy, `connection` at
 * debug), or `"- - -" 0 NR filter_chain_not_found` when a STRICT listener has
 * no plaintext chain at all (istio/istio#27903).
 *
 * Culprit: the DestinationRule with `tls.mode: DISABLE`/`SIMPLE`, or without
 * `tls` where auto mTLS is off or the Istio version predates it (< 1.5);
 * with no rule and auto mTLS off, the mesh config. Fix: `tls: {mode: ISTIO_MUTUAL}`.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding, Remediation } from '../../findings/finding.js';
import type { ObjectRef } from '../../model/k8s/resources.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import { formatPod } from '../../model/pod.js';
import { describeTransport } from './client-tls.js';
import type { ServerEvidence, UpstreamEvidence } from './evidence.js';
import type { UpstreamAnalysis, UpstreamRule } from './rule.js';
import { clusterExcerpt, failedRequests, logLines, rawLines, ruleExcerpt, rulePatch } from './support.js';
import { clusterStat } from '../../model/envoy/admin-stats.js';
import { networkingApiVersion } from '../../model/istio/version-behaviour.js';

function breaks(transport: string, requires: string): boolean {
  if (requires === 'mtls') return transport === 'plaintext' || transport === 'tls-without-client-cert';
  if (requires === 'tls') return transport === 'plaintext';
  return false;
}

function serverEvidence(server: ServerEvidence): EvidenceItem[] {
  const demand = server.demand!;
  const out: EvidenceItem[] = [];
  if (demand.basis === 'config' && demand.chains.length) {
    out.push({
      source: `istioctl proxy-config listeners ${formatPod(server.pod)} --port ${demand.port}`,
      ...(demand.cited?.file ? { file: demand.cited.file } : {}),
      excerpt: demand.chains.map((c) => `${c.listener}  chain ${c.name}  match: ${c.match}  ${c.terminatesTls ? `TLS${c.requireClientCertificate ? ', client certificate required' : ''}` : 'plaintext'}`).join('\n'),
      note: demand.requires === 'mtls' ? `no chain for port ${demand.port} accepts plaintext: the server requires mTLS` : `no chain for port ${demand.port} accepts plaintext`,
    });
  }
  const decided = demand.mtls.decidedBy;
  if (decided) {
    out.push({
      source: kubectlGet(decided),
      excerpt: demand.mtls.legacy
        ? `${decided.kind} ${decided.namespace ?? ''}${decided.namespace ? '/' : ''}${decided.name}: peers: [{mtls: {}}]  (${demand.mtls.mode})`
        : `${decided.kind} ${decided.namespace}/${decided.name}: mtls.mode ${demand.mtls.mode}`,
      note: demand.mtls.because,
    });
  }
  return out;
}

interface Culprit {
  target: ObjectRef;
  cause: string;
  remediation: Remediation;
  evidence: EvidenceItem[];
}

/** What made the client speak plaintext: its DestinationRule, the mesh config (auto mTLS off), or, unseen, its own cluster. */
function culprit(e: UpstreamEvidence, dest: string): Culprit {
  const tls = e.client.tls!;
  const rule = tls.rule;
  const noTls = rule && !tls.ruleTlsMode;
  const ruleIsCulprit = rule && (tls.ruleTlsMode === 'DISABLE' || tls.ruleTlsMode === 'SIMPLE' || (noTls && !tls.autoMtls.on));
  if (ruleIsCulprit && rule) {
    const shadowed = tls.shadowed.filter((r) => r.trafficPolicy?.tls?.mode === 'ISTIO_MUTUAL');
    const evidence = [ruleExcerpt(rule, tls.ruleTlsMode ? `tls.mode ${tls.ruleTlsMode}: ${tls.ruleTlsMode === 'DISABLE' ? 'plaintext' : 'TLS without the Istio client certificate'}` : `no tls: ${tls.autoMtls.because}`)];
    for (const s of shadowed) evidence.push(ruleExcerpt(s, `the mesh-wide rule this one replaces for ${e.destination.host}: the more specific rule wins whole, its tls setting is not inherited`));
    const fix = rulePatch(rule, tls.ruleTlsPath, { tls: { mode: 'ISTIO_MUTUAL' } });
    return {
      target: rule.ref,
      cause: tls.ruleTlsMode
        ? `DestinationRule ${rule.namespace}/${rule.name} sets tls.mode ${tls.ruleTlsMode}${tls.ruleTlsPath && tls.ruleTlsPath !== 'trafficPolicy' ? ` (${tls.ruleTlsPath})` : ''}`
        : `DestinationRule ${rule.namespace}/${rule.name} has no tls block and auto mTLS is off (${tls.autoMtls.because})${shadowed.length ? `, and it replaces ${shadowed.map((r) => `${r.namespace}/${r.name} (host ${r.host}, ISTIO_MUTUAL)`).join(', ')}` : ''}`,
      evidence,
      remediation: {
        text: tls.ruleTlsMode
          ? `Set tls.mode ISTIO_MUTUAL in DestinationRule ${rule.namespace}/${rule.name}${tls.ruleTlsPath && tls.ruleTlsPath !== 'trafficPolicy' ? ` at ${tls.ruleTlsPath}` : ''} instead of ${tls.ruleTlsMode}, so ${formatPod(e.client.pod)} uses Istio mTLS towards ${dest}.`
          : `Add tls: {mode: ISTIO_MUTUAL} to DestinationRule ${rule.namespace}/${rule.name}: without auto mTLS a rule without tls sends plaintext, and a rule does not inherit the tls of the mesh-wide rule it replaces.`,
        ...fix,
      },
    };
  }
  if (!rule && !tls.autoMtls.on) {
    const ref = e.mesh.source ?? { kind: 'ConfigMap', namespace: e.mesh.rootNamespace, name: 'istio' };
    return {
      target: ref,
      cause: `no DestinationRule applies and auto mTLS is off (${tls.autoMtls.because})`,
      evidence: [{ source: kubectlGet(ref), excerpt: 'mesh: |\n  enableAutoMtls: false', note: tls.autoMtls.because }],
      remediation: {
        text: `Turn auto mTLS back on (enableAutoMtls: true in the mesh config), or add a DestinationRule for ${e.destination.host} with tls.mode ISTIO_MUTUAL.`,
        patch: toYaml({ apiVersion: networkingApiVersion(e.istioVersion), kind: 'DestinationRule', metadata: { name: e.destination.service?.name ?? e.destination.host.split('.')[0], namespace: e.destination.service?.namespace ?? e.client.pod.namespace }, spec: { host: e.destination.host, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } } }),
      },
    };
  }
  // Plaintext for another reason (the endpoints lack the tlsMode label, a rule we cannot see): blame the client's cluster.
  return {
    target: { kind: 'Pod', namespace: e.client.pod.namespace, name: e.client.pod.name },
    cause: tls.because,
    evidence: [],
    remediation: { text: `Make ${formatPod(e.client.pod)} use ISTIO_MUTUAL towards ${dest}: a DestinationRule with tls.mode ISTIO_MUTUAL, and check that the server pods carry the security.istio.io/tlsMode: istio label.` },
  };
}

/** The server's TLS error lines (matched to the client's requests where possible), or why there are none. */
function handshakeEvidence(e: UpstreamEvidence, analysis: UpstreamAnalysis, server: ServerEvidence): EvidenceItem[] {
  const relevant = new Set(['plaintext-at-tls', 'no-client-cert', 'no-filter-chain']);
  const correlated = analysis.correlations.filter((c) => relevant.has(c.server.kind));
  const signals = correlated.length ? [...new Set(correlated.map((c) => c.server))] : analysis.signals.filter((s) => relevant.has(s.kind));
  const out = signals.slice(0, 2).map((s) => {
    const via = correlated.find((c) => c.server === s);
    return rawLines(s.cited, [...s.connectionLines.filter((l) => l !== s.line && /handshake error|new connection/.test(l)), s.line],
      `${s.reason}: ${s.kind === 'plaintext-at-tls' ? 'plain HTTP arrived where a TLS handshake was expected' : s.kind === 'no-client-cert' ? 'TLS arrived without the client certificate mTLS requires' : 'no filter chain accepts a plaintext connection'}${via ? `; matched to the client's request: ${via.explanation}` : ''}`);
  });
  if (!signals.length && !e.captured) {
    out.push({ source: e.servers[0]?.envoyLog?.source ?? `kubectl logs ${server.pod.name} -n ${server.pod.namespace} -c istio-proxy`, excerpt: '(no TLS error lines: at Istio\'s default log level the server logs nothing about the failed handshake)', note: 'run with --reproduce or --capture-for to raise the connection logger to debug and see HTTP_REQUEST / PEER_DID_NOT_RETURN_A_CERTIFICATE' });
  }
  return out;
}

/** What the client's cluster sends and what its failed requests and stats show. */
function clientEvidence(e: UpstreamEvidence, failures: ReturnType<typeof failedRequests>): { cluster: EvidenceItem[]; traffic: EvidenceItem[] } {
  const tls = e.client.tls!;
  const cluster: EvidenceItem[] = [];
  if (e.client.cluster) {
    const item = clusterExcerpt(e.client.pod, e.client.cluster.cluster, ['transport_socket', 'transport_socket_matches', 'metadata'],
      `what ${formatPod(e.client.pod)} sends: ${tls.configMode ?? 'unknown'}${tls.disagreement ? `; ${tls.disagreement}` : ''}`);
    if (e.client.cluster.file) item.file = e.client.cluster.file;
    cluster.push(item);
  }
  const traffic: EvidenceItem[] = [];
  if (e.client.accessLog && failures.length) {
    traffic.push(logLines(e.client.accessLog, failures, `the client's 503s: ${failures[0].responseFlags.join(',') || failures[0].responseCode} (${failures[0].responseFlags.includes('UC') ? 'the server closed the connection before answering' : 'the upstream connection failed'})`));
  }
  return { cluster, traffic };
}

function overflowEvidence(e: UpstreamEvidence): EvidenceItem[] {
  const overflow = e.client.stats && e.destination.clusterName ? clusterStat(e.client.stats.stats, e.destination.clusterName, 'upstream_rq_pending_overflow') : undefined;
  if (!overflow?.line || overflow.value !== 0) return [];
  return [{ source: e.client.stats!.source, ...(e.client.stats!.file ? { file: e.client.stats!.file } : {}), excerpt: overflow.line, note: 'circuit breaking did not trip: these 503s are not UO' }];
}

export const plaintextToMtls: UpstreamRule = {
  id: 'md3001-plaintext-to-mtls',
  code: 'MD3001',
  description: 'The client sends plaintext (or TLS without a client certificate) to a server that requires mTLS',
  needs: [
    { anyOf: ['client:tls-settings'], because: 'neither the client\'s cluster nor the DestinationRules could be read' },
    { anyOf: ['server:mtls-demand'], because: 'no server pod behind the destination could be examined (its inbound listener or PeerAuthentication)' },
  ],
  check(e: UpstreamEvidence, analysis: UpstreamAnalysis): Finding[] {
    const tls = e.client.tls!;
    const broken = e.servers.filter((s) => s.demand && s.hasSidecar && breaks(tls.transport, s.demand.requires));
    if (broken.length === 0) return [];
    const server = broken[0];
    const demand = server.demand!;
    const dest = `${e.destination.host}${e.destination.port ? `:${e.destination.port}` : ''}`;
    const { target, cause, remediation, evidence: culpritEvidence } = culprit(e, dest);
    const failures = failedRequests(e).filter((x) => x.responseFlags.some((f) => f === 'UC' || f === 'UF' || f === 'URX') || x.responseCode === 503);
    const client = clientEvidence(e, failures);
    const evidence = [...culpritEvidence, ...client.cluster, ...serverEvidence(server), ...client.traffic, ...handshakeEvidence(e, analysis, server), ...overflowEvidence(e)];
    const assumes = [...tls.assumes];
    if (demand.mtls.legacy) assumes.push(demand.mtls.because);
    return [makeFinding('MD3001', {
      message: `${formatPod(e.client.pod)} sends ${describeTransport(tls.transport)} to ${dest} because ${cause}, but ${formatPod(server.pod)} requires mTLS on port ${demand.port} (${demand.mtls.because}); the server drops the connection and the client answers 503${failures[0]?.responseFlags.length ? ` ${failures[0].responseFlags.join(',')}` : ''}.`,
      target,
      evidence,
      remediation,
      assumes,
    })];
  },
};
