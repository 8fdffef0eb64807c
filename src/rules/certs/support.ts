import type { EvidenceItem } from '../../findings/finding.js';
import { type CertificateView, daysLeft } from '../../model/envoy/certificates.js';
import type { ProxyCertEvidence } from './evidence.js';

/** One certificate in one line: identity or subject, issuer, validity, fingerprint. */
export function describeCertificate(c: CertificateView, now: Date): string {
  const who = c.spiffe?.uri ?? (c.subject || c.dnsNames.join(',') || `serial ${c.serial}`);
  return `${who}  issuer: ${c.issuer || '?'}  valid ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()} (${daysLeft(c, now)} days left)${c.fingerprint256 ? `  sha256 ${c.fingerprint256.slice(0, 23)}…` : ''}`;
}

/** The proxy's certificates as evidence: where they were read and the lines that matter. */
export function certificateEvidence(p: ProxyCertEvidence, certs: CertificateView[], note: string, now: Date): EvidenceItem {
  return {
    source: p.provenance?.source ?? `istioctl proxy-config secret ${p.pod.name}.${p.pod.namespace}`,
    ...(p.provenance?.file ? { file: p.provenance.file } : {}),
    excerpt: certs.map((c) => describeCertificate(c, now)).join('\n'),
    note,
  };
}

/**
 * Which Secret holds the mesh root: Istio's self-signed CA keeps it in
 * istio-system/istio-ca-secret (subject: only O=<trust domain>, no CN), a plugged-in CA in
 * istio-system/cacerts (security/pkg/pki/ca/ca.go, "Plug in CA certificates").
 */
export function rootSecretFor(root: CertificateView | undefined): { kind: string; namespace: string; name: string } {
  const selfSigned = root !== undefined && /^O=[^,]+$/.test(root.subject);
  return { kind: 'Secret', namespace: 'istio-system', name: selfSigned ? 'istio-ca-secret' : 'cacerts' };
}
