/**
 * MD6002: an ALLOW policy admits callers by `principals` or `namespaces`,
 * both read from the client certificate's SPIFFE identity; the request came
 * without one — the client sent plaintext and the server's port is
 * PERMISSIVE, so the plaintext got in and no principal can match. Envoy's
 * AuthenticatedMatcher (rbac matchers.cc) never matches a connection without
 * a peer certificate; the server logs `403 - rbac_access_denied_matched_policy[none]`
 * and the rbac debug line shows `ssl: none` (recorded on real Envoy 1.40).
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { kubectlGet } from '../../model/istio/common.js';
import { formatPod } from '../../model/pod.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { sourceFields } from './source-fields.js';
import { denialLines, describeRequest, policyExcerpt, rbacExcerpt } from './support.js';

export const noPeerIdentity: AuthzRule = {
  id: 'md6002-principals-without-peer-identity',
  code: 'MD6002',
  description: 'An ALLOW policy needs a peer identity (principals, namespaces) and the request carried none (plaintext)',
  needs: [
    { anyOf: ['AuthorizationPolicy'], because: 'no AuthorizationPolicy applies to the server' },
    { anyOf: ['client:tls-settings', 'server:config-dump'], because: 'neither what the client sends nor the server\'s RBAC filters are known' },
  ],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'no-allow-match' || e.request.peerPrincipal !== undefined) return [];
    const fields = [...sourceFields(e.policies, 'principals'), ...sourceFields(e.policies, 'namespaces')];
    if (!fields.length) return [];
    const f = fields[0];
    const dr = e.client.destinationRule;
    const evidence: EvidenceItem[] = [
      ...denialLines(e, 'no ALLOW policy matched: rbac_access_denied_matched_policy[none]'),
      ...(e.serverSaw ? [{ source: e.serverSaw.source, ...(e.serverSaw.file ? { file: e.serverSaw.file } : {}), excerpt: [e.serverSaw.check, e.serverSaw.decision].filter(Boolean).join('\n'), note: 'the server\'s RBAC filter saw ssl: none — no client certificate, so no identity to match' }] : []),
      ...rbacExcerpt(e, 'the principal matchers need the client certificate\'s identity; this connection has none'),
      policyExcerpt(f.policy, `${f.path} = ${f.value}: matched against the client certificate's SPIFFE identity`, f.rule),
    ];
    if (dr) evidence.push({ source: kubectlGet(dr), excerpt: `trafficPolicy:\n  tls:\n    mode: ${e.client.ruleTlsMode ?? '(unset)'}`, note: `why ${formatPod(e.client.pod)} sends plaintext: ${e.client.because ?? ''}` });
    if (e.server.mtlsDecidedBy || e.server.mtlsMode) evidence.push({ source: e.server.mtlsDecidedBy ? kubectlGet(e.server.mtlsDecidedBy) : `istioctl x describe pod ${e.server.pod.name} -n ${e.server.pod.namespace}`, excerpt: `mtls.mode ${e.server.mtlsMode}`, note: e.server.mtlsBecause ?? 'the server accepts plaintext on this port' });
    const sends = e.client.transport ? (e.client.transport === 'plaintext' ? 'plaintext' : 'TLS without the Istio client certificate') : 'no client certificate';
    return [makeFinding('MD6002', {
      message: `${describeRequest(e)} is denied: AuthorizationPolicy ${f.policy.namespace}/${f.policy.name} allows only callers identified by ${f.path} (${f.value}), but ${formatPod(e.client.pod)} sends ${sends}${dr ? ` (DestinationRule ${dr.namespace}/${dr.name} tls.mode ${e.client.ruleTlsMode})` : ''} and the server's port ${e.server.port} is ${e.server.mtlsMode ?? 'PERMISSIVE'}, so the request arrives without a peer identity and no principal or namespace can match.`,
      target: f.policy.ref,
      evidence,
      remediation: {
        text: dr
          ? `Let ${formatPod(e.client.pod)} use Istio mTLS: set tls.mode ISTIO_MUTUAL in DestinationRule ${dr.namespace}/${dr.name} (or remove its tls block; auto mTLS sends ISTIO_MUTUAL). Then ${f.path} matches its identity. A STRICT PeerAuthentication on the server makes such plaintext fail at the connection instead of as a 403.`
          : `Make ${formatPod(e.client.pod)} reach the server over Istio mTLS (a sidecar on the client, no DestinationRule tls.mode DISABLE/SIMPLE), so ${f.path} can match its identity; only if plaintext callers must be admitted, allow them by another field (to.operation, ipBlocks) in ${f.policy.namespace}/${f.policy.name}.`,
        ...(dr ? { patch: 'spec:\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL', command: `kubectl patch destinationrule ${dr.name} -n ${dr.namespace} --type merge -p '{"spec":{"trafficPolicy":{"tls":{"mode":"ISTIO_MUTUAL"}}}}'` } : {}),
      },
    })];
  },
};
