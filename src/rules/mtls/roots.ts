/**
 * MD5007: the two sidecars do not chain to one root. The client verifies the
 * server's chain against its own ROOTCA (a failure: CERTIFICATE_VERIFY_FAILED
 * on the client with "unable to get local issuer certificate", `503 UF`;
 * the client sends the alert `unknown ca`, which the server logs as
 * TLSV1_ALERT_UNKNOWN_CA — seen on the mesh lab's Envoy 1.40); the server,
 * which asks for the client's certificate, verifies it against its ROOTCA
 * (the same failure the other way round).
 * Two roots in one mesh come from a `cacerts` change without restarting the
 * workloads, revisions or clusters without a shared root. Judged by
 * verifying signatures (model/envoy/certificates.ts chainsTo), never by
 * comparing names: two roots may share a subject.
 */
import type { Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { chainsTo } from '../../model/envoy/certificates.js';
import { formatPod, type PodRef } from '../../model/pod.js';
import type { UpstreamEvidence } from '../upstream/evidence.js';
import type { UpstreamRule } from '../upstream/rule.js';
import { podTarget } from '../upstream/support.js';
import { istioHandshakes, presentedEvidence, type Handshake } from './handshake.js';

type Direction = 'client rejects server' | 'server rejects client';

function untrusted(h: Handshake): Direction | undefined {
  if (chainsTo(h.serverCerts.certs.chain, h.clientCerts.certs.roots) === false) return 'client rejects server';
  if (h.serverChecksClient && chainsTo(h.clientCerts.certs.chain, h.serverCerts.certs.roots) === false) return 'server rejects client';
  return undefined;
}

function finding(e: UpstreamEvidence, h: Handshake, direction: Direction): Finding {
  const [verifier, verifierCerts, presenter, presenterCerts] = direction === 'client rejects server'
    ? [e.client.pod, h.clientCerts, h.server.pod, h.serverCerts] as const
    : [h.server.pod, h.serverCerts, e.client.pod, h.clientCerts] as const;
  const issuer = presenterCerts.certs.chain[0]?.issuer || 'an unknown issuer';
  const symptom = direction === 'client rejects server'
    ? 'the client sidecar fails the handshake with CERTIFICATE_VERIFY_FAILED (unable to get local issuer certificate) and logs 503 UF; the server logs TLSV1_ALERT_UNKNOWN_CA'
    : 'the server sidecar fails the handshake and sends the alert unknown ca (the client logs TLSV1_ALERT_UNKNOWN_CA, 503 UF)';
  return makeFinding('MD5007', {
    message: `${formatPod(presenter)}'s certificate (issued by ${issuer}) does not chain to the root ${formatPod(verifier)} trusts: ${symptom}. The two sidecars hold certificates from different roots.`,
    target: podTarget(presenter as PodRef),
    evidence: [
      presentedEvidence(presenter, presenterCerts, e.now, 'chain', 'the chain presented in the handshake (SDS default)'),
      presentedEvidence(verifier, verifierCerts, e.now, 'roots', 'the root the verifying side trusts (SDS ROOTCA): no signature in the chain leads to it'),
    ],
    remediation: {
      text: `Both sidecars must chain to one root. After a CA change (cacerts), restart every workload still holding a certificate or root from the old CA (${formatPod(presenter)} here, or ${formatPod(verifier)} if its root is the old one: compare with istio-system's istio-ca-root-cert); across clusters, plug in certificates from a shared root.`,
      command: `kubectl mesh-doctor certs -A`,
    },
  });
}

export const rootMismatch: UpstreamRule = {
  id: 'md5007-root-mismatch',
  code: 'MD5007',
  description: "One sidecar's certificate does not chain to the root the other trusts",
  needs: [
    { anyOf: ['client:certificates'], because: "the client's certificates were not read (its config dump has no SDS secrets)" },
    { anyOf: ['server:certificates'], because: "no server sidecar's certificate was read" },
  ],
  check(e) {
    return istioHandshakes(e).flatMap((h) => {
      const direction = untrusted(h);
      return direction ? [finding(e, h, direction)] : [];
    });
  },
};
