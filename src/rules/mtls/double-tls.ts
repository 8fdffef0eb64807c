/**
 * MD5008: the client sidecar originates its own TLS (a DestinationRule
 * `tls.mode: SIMPLE` or `MUTUAL` with non-Istio certificates) toward a
 * server that runs a sidecar. Istio's mTLS is the only TLS a sidecar'd
 * server's inbound expects from the mesh. On the mesh lab (Istio 1.31's
 * generated inbound, Envoy 1.40) a PERMISSIVE port has a chain for Istio
 * mTLS (TLS with the `istio` ALPN) and one for plaintext; the client
 * sidecar's own TLS matches neither: the server logs `"- - -" 0 NR
 * filter_chain_not_found`, the client `503 URX,UF` with "Connection reset by
 * peer". A STRICT port rejects a client certificate from another CA (MUTUAL);
 * the no-certificate case (SIMPLE to STRICT) is MD3001's.
 */
import { makeFinding } from '../../findings/make.js';
import { formatPod } from '../../model/pod.js';
import { describeTransport } from '../upstream/client-tls.js';
import type { UpstreamRule } from '../upstream/rule.js';
import { podTarget, ruleExcerpt, rulePatch } from '../upstream/support.js';

const OWN_TLS = new Set(['tls-without-client-cert', 'tls-other-cert']);

export const doubleTls: UpstreamRule = {
  id: 'md5008-double-tls',
  code: 'MD5008',
  description: "The client sidecar sends its own TLS to a sidecar'd server instead of Istio mTLS",
  needs: [
    { anyOf: ['client:tls-settings'], because: "the client's TLS settings for the destination are unknown" },
    { anyOf: ['server:mtls-demand'], because: "no server sidecar's inbound was examined" },
  ],
  check(e, analysis) {
    const transport = e.client.tls?.transport;
    if (!transport || !OWN_TLS.has(transport) || analysis.earlier.some((f) => f.code === 'MD3001')) return [];
    const servers = e.servers.filter((s) => s.hasSidecar && s.demand && (s.demand.requires === 'plaintext-accepted' || transport === 'tls-other-cert'));
    if (!servers.length) return [];
    const rule = e.client.tls!.rule;
    const server = servers[0]!;
    const passes = server.demand!.requires === 'plaintext-accepted';
    return [makeFinding('MD5008', {
      message: `${formatPod(e.client.pod)} sends ${describeTransport(transport)} to ${e.destination.host}, whose pods run a sidecar: ${passes ? `${formatPod(server.pod)}'s port ${server.demand!.port} accepts Istio mTLS or plaintext (PERMISSIVE), and the client sidecar's own TLS is neither: the server closes the connection (NR filter_chain_not_found) and the client logs 503 UF` : `${formatPod(server.pod)} requires Istio mTLS and rejects a certificate from another CA`}.`,
      target: rule?.ref ?? podTarget(e.client.pod),
      evidence: rule ? [ruleExcerpt(rule, `tls.mode ${e.client.tls!.ruleTlsMode ?? ''} makes the client sidecar originate TLS itself`)] : [],
      remediation: rule
        ? { text: `Use tls.mode ISTIO_MUTUAL in DestinationRule ${rule.namespace}/${rule.name} for an in-mesh host (the sidecars encrypt the traffic themselves), and let the app send plaintext to the sidecar.`, ...rulePatch(rule, e.client.tls!.ruleTlsPath, { tls: { mode: 'ISTIO_MUTUAL' } }) }
        : { text: 'Send plaintext from the app and let the sidecars use Istio mTLS; remove the TLS origination for this in-mesh host.' },
    })];
  },
};
