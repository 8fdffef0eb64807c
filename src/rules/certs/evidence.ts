/**
 * The certificate evidence model: each selected proxy's certificates (its
 * workload chain and trust roots, src/model/envoy/certificates.ts), the pod's
 * service account, and the time the verdict is judged at (the snapshot's
 * capture time offline, now live). Certificate rules (MD5001–MD5004) read it.
 */
import type { CertificateView, ProxyCertificates } from '../../model/envoy/certificates.js';
import { serviceAccountOf, type PodView } from '../../model/k8s/pods.js';
import { formatPod, type PodRef } from '../../model/pod.js';
import type { Provenance } from '../../model/provenance.js';
import type { EvidenceModel, Rule } from '../rule.js';

export interface ProxyCertEvidence {
  pod: PodRef;
  /** spec.serviceAccountName ('default' when unset, as Kubernetes fills it). */
  serviceAccount: string;
  certs?: ProxyCertificates;
  /** Where the certificates were read: the command a person could run, the snapshot file. */
  provenance?: Provenance;
  /** Why they could not be read. */
  error?: string;
}

export interface CertsEvidence {
  proxies: ProxyCertEvidence[];
  /** The instant validity is judged at. */
  now: Date;
  /** Roots and intermediates expiring within this many days are reported. */
  warnDays: number;
  /** The mesh's trust domain (mesh config trustDomain, default cluster.local). */
  trustDomain: string;
}

export type CertsRule = Rule<CertsEvidence>;

/** One proxy's certificate evidence from what was read; nothing read is an error with `missing` as its reason, never a pass. */
export function proxyCertEvidence(pod: PodView, certs: ProxyCertificates | undefined, file: string | undefined, missing: string): ProxyCertEvidence {
  const ref = { namespace: pod.namespace, name: pod.name };
  const serviceAccount = serviceAccountOf(pod.object);
  if (!certs || (certs.chain.length === 0 && certs.roots.length === 0)) return { pod: ref, serviceAccount, error: missing };
  return { pod: ref, serviceAccount, certs, provenance: { source: `istioctl proxy-config secret ${formatPod(ref)}`, ...(file ? { file } : {}) } };
}

/** The proxies whose certificates were read, each with its leaf. */
export function readProxies(e: CertsEvidence): Array<ProxyCertEvidence & { certs: ProxyCertificates; leaf?: CertificateView }> {
  return e.proxies.filter((p): p is ProxyCertEvidence & { certs: ProxyCertificates } => p.certs !== undefined).map((p) => ({ ...p, leaf: p.certs.chain[0] }));
}

export function certsEvidence(evidence: CertsEvidence): EvidenceModel<CertsEvidence> {
  const read = readProxies(evidence);
  return {
    evidence,
    holds: (kind) => kind === 'certificates' && read.some((p) => p.certs.chain.length > 0 || p.certs.roots.length > 0),
    absent: () => evidence.proxies.length === 0 ? 'no proxies were selected' : "no proxy's certificates could be read (no secrets in the config dump, no /certs)",
  };
}
