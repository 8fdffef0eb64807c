/**
 * MD5006 and MD5005: the server presents an identity the client's cluster
 * does not accept. Istio writes the SANs a client accepts into its cluster
 * (`match_subject_alt_names`: the service accounts behind the host, a
 * DestinationRule's or ServiceEntry's `subjectAltNames`, each trust-domain
 * alias); Envoy then refuses any server certificate without one of them —
 * `CERTIFICATE_VERIFY_FAILED` with the detail "verify cert failed: SAN
 * matcher, certificate SANs are [...]" on the client (Envoy 1.40 in the mesh
 * lab; older Envoys say "verify SAN list"), `503 UF` (or `UH` once outlier
 * detection ejected the host), and `SSLV3_ALERT_CERTIFICATE_UNKNOWN` on the
 * server at debug; the server never logs a request.
 *
 * MD5006 is the trust-domain case: the same namespace and service account,
 * another trust domain (a trust-domain change without restarts, a second
 * cluster with its own trust domain and no `trustDomainAliases`). MD5005 is
 * every other mismatch, blamed on the resource that wrote the expectation.
 */
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { parseSpiffe, type SpiffeId } from '../../model/envoy/certificates.js';
import { sanAccepted } from '../../model/envoy/tls.js';
import { kubectlGet } from '../../model/istio/common.js';
import { formatPod } from '../../model/pod.js';
import type { UpstreamEvidence } from '../upstream/evidence.js';
import type { UpstreamRule } from '../upstream/rule.js';
import { podTarget, ruleExcerpt, rulePatch } from '../upstream/support.js';
import { expectationEvidence, istioHandshakes, leafOf, presentedEvidence, type Handshake } from './handshake.js';

const NEEDS = [
  { anyOf: ['client:certificates'] as const, because: "the client's certificates were not read (its config dump has no SDS secrets)" },
  { anyOf: ['server:certificates'] as const, because: "no server sidecar's certificate was read (no config dump with SDS secrets, no /certs)" },
];

/** The handshakes whose server certificate fails the client's SAN check. */
function refused(e: UpstreamEvidence): Handshake[] {
  return istioHandshakes(e).filter((h) => !sanAccepted(h.expects, leafOf(h.serverCerts.certs)));
}

/** The SPIFFE identities the client expects (exact matchers only: the ones Istio writes). */
function expectedIds(h: Handshake): SpiffeId[] {
  return h.expects.filter((m) => m.kind === 'exact').map((m) => parseSpiffe(m.value)).filter((s): s is SpiffeId => s !== undefined);
}

/** Same namespace and service account, another trust domain. */
function trustDomainOnly(h: Handshake): { presented: SpiffeId; expected: SpiffeId } | undefined {
  const presented = leafOf(h.serverCerts.certs).spiffe;
  if (!presented?.serviceAccount) return undefined;
  const expected = expectedIds(h).find((x) => x.namespace === presented.namespace && x.serviceAccount === presented.serviceAccount && x.trustDomain !== presented.trustDomain);
  return expected ? { presented, expected } : undefined;
}

function handshakeEvidence(e: UpstreamEvidence, h: Handshake): EvidenceItem[] {
  return [
    presentedEvidence(h.server.pod, h.serverCerts, e.now, 'chain', 'the certificate the server sidecar presents (SDS default)'),
    expectationEvidence(h),
  ];
}

export const trustDomainMismatch: UpstreamRule = {
  id: 'md5006-trust-domain-mismatch',
  code: 'MD5006',
  description: "The server's certificate is from another trust domain than the client accepts",
  needs: NEEDS,
  check(e) {
    return refused(e).flatMap((h) => {
      const td = trustDomainOnly(h);
      if (!td) return [];
      const meshIs = e.mesh.trustDomain;
      const serverStale = td.presented.trustDomain !== meshIs;
      return [makeFinding('MD5006', {
        message: `${formatPod(h.server.pod)} presents ${td.presented.uri} but ${formatPod(e.client.pod)} accepts only trust domain ${td.expected.trustDomain} for it (${td.expected.uri}): the handshake fails with CERTIFICATE_VERIFY_FAILED (SAN matcher). The mesh config's trust domain is ${meshIs}.`,
        target: serverStale ? podTarget(h.server.pod) : { kind: 'ConfigMap', namespace: e.mesh.source?.namespace ?? 'istio-system', name: e.mesh.source?.name ?? 'istio' },
        evidence: handshakeEvidence(e, h),
        remediation: serverStale
          ? {
            text: `${formatPod(h.server.pod)} holds a certificate from trust domain ${td.presented.trustDomain}, not the mesh's ${meshIs}: restart it so pilot-agent requests a certificate in ${meshIs}, or, if ${td.presented.trustDomain} is meant to be trusted (a migration, another cluster), add it to meshConfig.trustDomainAliases.`,
            command: `istioctl proxy-config secret ${formatPod(h.server.pod)}`,
          }
          : { text: `Add ${td.presented.trustDomain} to meshConfig.trustDomainAliases (ConfigMap ${e.mesh.source?.namespace ?? 'istio-system'}/${e.mesh.source?.name ?? 'istio'}) so clients accept both, or give both sides one trust domain.` },
      })];
    });
  },
};

/** What wrote the expectation the server fails: a DestinationRule, a ServiceEntry, else the server's service account. */
function sanCulprit(e: UpstreamEvidence, h: Handshake, presented: string): Pick<Finding, 'target' | 'remediation'> & { extra: EvidenceItem[] } {
  const rule = e.client.tls?.rule;
  const sans = rule?.trafficPolicy?.tls?.subjectAltNames;
  if (rule && sans?.length) {
    return {
      target: rule.ref,
      remediation: { text: `Make tls.subjectAltNames in DestinationRule ${rule.namespace}/${rule.name} name ${presented}, or remove them: ISTIO_MUTUAL then accepts the service accounts behind the host.`, ...rulePatch(rule, 'trafficPolicy', { tls: { ...rule.trafficPolicy!.tls, subjectAltNames: [presented] } }) },
      extra: [ruleExcerpt(rule, 'subjectAltNames here replace the identities Istio would accept')],
    };
  }
  const entry = e.destination.serviceEntry;
  const entrySans = (entry?.object.spec as { subjectAltNames?: string[] } | undefined)?.subjectAltNames;
  if (entry && entrySans?.length) {
    return {
      target: { kind: 'ServiceEntry', namespace: entry.namespace, name: entry.name },
      remediation: { text: `Make subjectAltNames in ServiceEntry ${entry.namespace}/${entry.name} include ${presented} (the identity its workloads present).` },
      extra: [{ source: kubectlGet({ kind: 'ServiceEntry', namespace: entry.namespace, name: entry.name }), excerpt: `subjectAltNames:\n${entrySans.map((s) => `- ${s}`).join('\n')}`, note: 'the identities the ServiceEntry says its workloads present' }],
    };
  }
  const account = h.server.serviceAccount ?? 'default';
  return {
    target: podTarget(h.server.pod),
    remediation: {
      text: presented.endsWith(`/sa/${account}`)
        ? `${formatPod(h.server.pod)} presents its own service account (${account}), which the client's cluster does not list: the client's config is stale; check \`istioctl proxy-status\` for ${formatPod(e.client.pod)}.`
        : `${formatPod(h.server.pod)} runs as service account ${account} but its certificate says ${presented}: restart it so it gets a certificate for ${account} (a certificate from before a service-account change), or run it under the service account the client expects.`,
      command: `istioctl proxy-config secret ${formatPod(h.server.pod)}`,
    },
    extra: [],
  };
}

export const sanMismatch: UpstreamRule = {
  id: 'md5005-san-mismatch',
  code: 'MD5005',
  description: "The server's certificate does not carry an identity (SAN) the client's cluster accepts",
  needs: NEEDS,
  check(e, analysis) {
    const explained = new Set(analysis.earlier.filter((f) => f.code === 'MD5006').map((f) => f.target.name));
    return refused(e).filter((h) => !trustDomainOnly(h) && !explained.has(h.server.pod.name)).map((h) => {
      const leaf = leafOf(h.serverCerts.certs);
      const presented = leaf.spiffe?.uri ?? leaf.uris[0] ?? leaf.dnsNames[0] ?? `serial ${leaf.serial}`;
      const culprit = sanCulprit(e, h, presented);
      return makeFinding('MD5005', {
        message: `${formatPod(h.server.pod)} presents ${presented}, which ${formatPod(e.client.pod)}'s cluster for ${e.destination.host} does not accept (${h.expects.map((m) => m.value).join(', ')}): the handshake fails with CERTIFICATE_VERIFY_FAILED (SAN matcher) and the client logs 503 UF.`,
        target: culprit.target,
        evidence: [...handshakeEvidence(e, h), ...culprit.extra],
        remediation: culprit.remediation,
      });
    });
  },
};
