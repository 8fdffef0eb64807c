/**
 * MD5001 (expired / not yet valid) and MD5002 (expiring, or not rotated in
 * time). A workload certificate lives 24 h by default and pilot-agent renews
 * it when half its life is gone (SECRET_GRACE_PERIOD_RATIO 0.5,
 * pkg/istio-agent, security/pkg/nodeagent/cache): for it, "expiring" means
 * a quarter or less of its life is left — rotation is overdue, istiod or the
 * CA is not answering. A root or intermediate is long-lived: it is reported
 * when it ends within --warn-days. An expired root breaks every handshake in
 * the mesh; an expired leaf breaks its pod's.
 */
import type { Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { type CertificateView, daysLeft } from '../../model/envoy/certificates.js';
import { formatPod } from '../../model/pod.js';
import type { CertsRule, ProxyCertEvidence } from './evidence.js';
import { readProxies } from './evidence.js';
import { certificateEvidence, rootSecretFor } from './support.js';

/** A leaf with a quarter or less of its life left has missed its renewal at one half. */
const ROTATION_OVERDUE = 0.25;

type Role = 'workload' | 'root';

function podTarget(p: ProxyCertEvidence) {
  return { kind: 'Pod', namespace: p.pod.namespace, name: p.pod.name };
}

function invalidity(c: CertificateView, now: Date): string | undefined {
  if (c.notAfter.getTime() <= now.getTime()) return `expired ${c.notAfter.toISOString()}`;
  if (c.notBefore.getTime() > now.getTime()) return `not valid before ${c.notBefore.toISOString()} (a clock ahead on the CA, or behind on the node)`;
  return undefined;
}

function validityFinding(p: ProxyCertEvidence, role: Role, c: CertificateView, why: string, now: Date): Finding {
  const root = role === 'root';
  return makeFinding('MD5001', {
    message: root
      ? `The root certificate ${formatPod(p.pod)} trusts is ${why}: every mTLS handshake that chains to it fails (CERTIFICATE_VERIFY_FAILED / certificate expired).`
      : `The workload certificate of ${formatPod(p.pod)} (${c.spiffe?.uri ?? c.serial}) is ${why}: its peers reject its handshakes, and its own mTLS connections fail.`,
    target: root ? rootSecretFor(c) : podTarget(p),
    evidence: [certificateEvidence(p, [c], root ? 'the trust root (SDS ROOTCA)' : 'the workload certificate (SDS default)', now)],
    remediation: root
      ? { text: 'Rotate the mesh root: plug in a new root (cacerts) or let istiod generate one, then restart the workloads so they get certificates and roots from it (Istio: "Plug in CA certificates", "Manage root CA rotation").' }
      : { text: `Check that istiod (or the external CA) answers ${formatPod(p.pod)}'s CSRs (the istio-proxy log shows SDS errors) and that the node's clock is right; restarting the pod makes pilot-agent request a new certificate.`, command: `kubectl logs ${p.pod.name} -n ${p.pod.namespace} -c istio-proxy | grep -i -E 'sds|csr|cert'` },
    assumes: root ? ['the root lives in istio-system/istio-ca-secret (Istio\'s self-signed CA, whose subject is only O=<trust domain>) or istio-system/cacerts (a plugged-in CA)'] : [],
  });
}

function expiringFinding(p: ProxyCertEvidence, role: Role, c: CertificateView, now: Date, warnDays: number): Finding | undefined {
  const left = daysLeft(c, now);
  const life = c.notAfter.getTime() - c.notBefore.getTime();
  const remaining = c.notAfter.getTime() - now.getTime();
  if (role === 'workload' && life > 0 && remaining / life > ROTATION_OVERDUE) return undefined;
  if (role === 'root' && left > warnDays) return undefined;
  return makeFinding('MD5002', {
    message: role === 'root'
      ? `The root certificate ${formatPod(p.pod)} trusts ends in ${left} days (${c.notAfter.toISOString()}), within --warn-days ${warnDays}: when it ends, every handshake that chains to it fails.`
      : `The workload certificate of ${formatPod(p.pod)} has ${left} days (${Math.round((remaining / life) * 100)}% of its life) left: pilot-agent renews at half its life, so renewal is overdue.`,
    target: role === 'root' ? rootSecretFor(c) : podTarget(p),
    evidence: [certificateEvidence(p, [c], role === 'root' ? 'the trust root (SDS ROOTCA)' : 'the workload certificate (SDS default)', now)],
    remediation: role === 'root'
      ? { text: 'Plan the root rotation now (Istio: "Manage root CA rotation"): add the new root alongside the old one, re-issue workload certificates, then remove the old root.' }
      : { text: `Check that istiod (or the external CA) answers ${formatPod(p.pod)}'s CSRs: the istio-proxy log shows the failed renewals.`, command: `kubectl logs ${p.pod.name} -n ${p.pod.namespace} -c istio-proxy | grep -i -E 'sds|csr|cert'` },
  });
}

/** Each read proxy's leaf and roots, with their role. */
function certificatesOf(e: Parameters<CertsRule['check']>[0]) {
  return readProxies(e).flatMap((p) => [
    ...(p.leaf ? [{ p, role: 'workload' as Role, c: p.leaf }] : []),
    ...p.certs.roots.map((c) => ({ p, role: 'root' as Role, c })),
  ]);
}

/** A root shared by many proxies is one finding (on the first proxy), not one per proxy. */
function oncePerRoot<T extends { role: Role; c: CertificateView }>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((x) => x.role !== 'root' || (!seen.has(x.c.serial) && Boolean(seen.add(x.c.serial))));
}

export const certificateValidity: CertsRule = {
  id: 'md5001-certificate-validity',
  code: 'MD5001',
  description: 'A workload certificate or trust root is expired or not yet valid',
  needs: ['certificates'],
  check(e) {
    return oncePerRoot(certificatesOf(e).map((x) => ({ ...x, why: invalidity(x.c, e.now) })).filter((x) => x.why !== undefined))
      .map((x) => validityFinding(x.p, x.role, x.c, x.why!, e.now));
  },
};

export const certificateExpiring: CertsRule = {
  id: 'md5002-certificate-expiring',
  code: 'MD5002',
  description: 'A trust root ends within --warn-days, or a workload certificate missed its renewal',
  needs: ['certificates'],
  check(e) {
    const valid = certificatesOf(e).filter((x) => invalidity(x.c, e.now) === undefined);
    return oncePerRoot(valid).map((x) => expiringFinding(x.p, x.role, x.c, e.now, e.warnDays)).filter((f): f is Finding => f !== undefined);
  },
};
