/**
 * MD3005: the TLS handshake between the sidecars failed on certificate
 * verification: CERTIFICATE_VERIFY_FAILED (with Envoy's detail, e.g. "verify
 * cert failed: verify SAN list"), TLSV1_ALERT_UNKNOWN_CA (the peer does not
 * trust our CA: two roots after a CA change or between clusters), an expired
 * certificate. The client sees `503 UF` with the reason in
 * %UPSTREAM_TRANSPORT_FAILURE_REASON% / the details braces; the server logs
 * `TLS_error:|...` on the `connection` logger at debug.
 *
 * Culprit: a DestinationRule whose tls overrides Istio's identity checks
 * (subjectAltNames, caCertificates, credentialName, SIMPLE/MUTUAL); otherwise
 * the server workload's certificate (its pod).
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { decodeResponseCodeDetails, decodeTransportFailureReason } from '../../model/logs/response-flags.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { EnvoySslError } from '../../model/logs/boringssl.js';
import { formatPod } from '../../model/pod.js';
import { VERIFY } from './correlate.js';
import { MTLS_CODES } from '../mtls/index.js';
import type { UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { failedRequests, logLines, podTarget, rawLines, ruleExcerpt, rulePatch } from './support.js';

function verifyErrors(entry: AccessLogEntry): EnvoySslError[] {
  const t = entry.upstreamTransportFailureReason ? decodeTransportFailureReason(entry.upstreamTransportFailureReason) : undefined;
  const d = entry.responseCodeDetails ? decodeResponseCodeDetails(entry.responseCodeDetails)?.transportFailure : undefined;
  return [...(t?.sslErrors ?? []), ...(d?.sslErrors ?? [])].filter((s) => s.name && VERIFY.has(s.name));
}

function kindOf(name: string | undefined, detail: string | undefined): 'san' | 'unknown-ca' | 'expired' | 'verify' {
  if (detail && /SAN/i.test(detail)) return 'san';
  if (name === 'TLSV1_ALERT_UNKNOWN_CA') return 'unknown-ca';
  if (name && /EXPIRED/.test(name)) return 'expired';
  return 'verify';
}

export const tlsVerification: UpstreamRule = {
  id: 'md3005-tls-verification',
  code: 'MD3005',
  description: 'Certificate verification failed between the sidecars (expired, unknown CA, SAN mismatch)',
  needs: [{ anyOf: ['client:access-log', 'server:envoy-log', 'client:envoy-log'], because: 'no access log or Envoy log of either sidecar is available' }],
  check(e: UpstreamEvidence, analysis): Finding[] {
    const clientLines = failedRequests(e).filter((x) => verifyErrors(x).length > 0);
    const clientEnvoy = (e.client.envoyLog?.events ?? []).filter((ev) => ev.sslErrorName && VERIFY.has(ev.sslErrorName));
    const serverLines = analysis.signals.filter((s) => s.kind === 'tls-verify');
    if (!clientLines.length && !clientEnvoy.length && !serverLines.length) return [];
    // The certificates already named the cause (src/rules/mtls): the lines are its evidence, not a second finding.
    if (analysis.earlier.some((f) => MTLS_CODES.has(f.code))) return [];
    const first = clientLines.length ? verifyErrors(clientLines[0])[0] : clientEnvoy.length ? clientEnvoy[0].sslErrors.find((s) => s.name && VERIFY.has(s.name)) : undefined;
    const name = first?.name ?? serverLines[0]?.reason;
    const detail = first?.detail ?? serverLines.find((s) => s.detail)?.detail;
    const kind = kindOf(name, detail);
    const evidence: EvidenceItem[] = [];
    if (clientLines.length && e.client.accessLog) evidence.push(logLines(e.client.accessLog, clientLines, `${name}${detail ? ` (${detail})` : ''}: the client sidecar rejected the server's certificate`));
    if (clientEnvoy.length && e.client.envoyLog) evidence.push(logLines(e.client.envoyLog, clientEnvoy));
    if (serverLines.length) evidence.push(rawLines(serverLines[0].cited, serverLines.slice(0, 3).map((s) => s.line), `${serverLines[0].reason}: the handshake as the server saw it`));
    const rule = e.client.tls?.rule;
    const tlsSettings = rule?.trafficPolicy?.tls;
    const ruleOverrides = tlsSettings && (tlsSettings.subjectAltNames?.length || tlsSettings.credentialName || tlsSettings.mode === 'SIMPLE' || tlsSettings.mode === 'MUTUAL' || (rule.object.spec as { trafficPolicy?: { tls?: { caCertificates?: string } } })?.trafficPolicy?.tls?.caCertificates);
    const server = e.servers[0];
    const serverAccount = (server ? (e.resources.get('Pod', server.pod.namespace, server.pod.name)?.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName : undefined) ?? 'default';
    const what = kind === 'san'
      ? 'the server\'s certificate does not carry the identity (SAN) the client expects'
      : kind === 'unknown-ca' ? 'the peer does not trust the CA that signed this side\'s certificate (two different roots)'
        : kind === 'expired' ? 'a certificate in the handshake has expired'
          : 'the client could not verify the server\'s certificate';
    if (rule && ruleOverrides) {
      evidence.push(ruleExcerpt(rule, 'tls settings here replace Istio\'s own identity check'));
      const expected = `spiffe://${e.mesh.trustDomain}/ns/${server?.pod.namespace ?? e.destination.service?.namespace}/sa/${serverAccount}`;
      const fix = kind === 'san' ? rulePatch(rule, 'trafficPolicy', { tls: { ...tlsSettings, mode: tlsSettings!.mode ?? 'ISTIO_MUTUAL', subjectAltNames: [expected] } }) : undefined;
      return [makeFinding('MD3005', {
        message: `TLS from ${formatPod(e.client.pod)} to ${e.destination.host} fails verification (${name}${detail ? `: ${detail}` : ''}): ${what}; DestinationRule ${rule.namespace}/${rule.name} sets tls ${tlsSettings!.mode ?? ''}${tlsSettings!.subjectAltNames?.length ? ` with subjectAltNames ${tlsSettings!.subjectAltNames.join(', ')}` : ''}.`,
        target: rule.ref,
        evidence,
        remediation: {
          text: kind === 'san'
            ? `Make subjectAltNames in DestinationRule ${rule.namespace}/${rule.name} name the server's identity (${expected}), or remove them and use tls.mode ISTIO_MUTUAL, which checks the right identity itself.`
            : `Use tls.mode ISTIO_MUTUAL for in-mesh destinations, or give the rule the CA that signed the server's certificate (caCertificates / credentialName).`,
          ...(fix ?? {}),
        },
      })];
    }
    const targetPod = server?.pod;
    return [makeFinding('MD3005', {
      message: `TLS between ${formatPod(e.client.pod)} and ${targetPod ? formatPod(targetPod) : e.destination.host} fails verification (${name}${detail ? `: ${detail}` : ''}): ${what}.`,
      target: targetPod ? podTarget(targetPod) : (e.destination.service?.ref ?? podTarget(e.client.pod)),
      evidence,
      remediation: {
        text: kind === 'unknown-ca'
          ? 'Both sidecars must chain to one root: compare `istioctl proxy-config secret` on each side (ROOTCA); after a CA change restart the workloads that still hold the old root, or configure a shared root for multi-cluster.'
          : kind === 'expired'
            ? 'The workload certificate expired: check istiod/the CA is reachable and that the sidecar rotates (istioctl proxy-config secret shows the expiry); restart the pod to force a new certificate.'
            : 'Compare the server certificate (istioctl proxy-config secret on the server pod) with what the client expects (the cluster\'s match_subject_alt_names).',
        ...(targetPod ? { command: `istioctl proxy-config secret ${formatPod(targetPod)}` } : {}),
      },
    })];
  },
};
