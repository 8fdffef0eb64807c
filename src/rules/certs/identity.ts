/**
 * MD5004: the SPIFFE identity in a proxy's certificate
 * (spiffe://<trust domain>/ns/<namespace>/sa/<service account>) is what its
 * peers check (DestinationRule subjectAltNames, AuthorizationPolicy
 * principals). istiod signs the identity of the pod's service account in the
 * mesh's trust domain; a certificate naming another account, namespace or
 * trust domain means it was issued for something else (a copied secret, a
 * custom CA, a trust domain changed without restarts), and peers that check
 * the identity reject or deny it.
 */
import { makeFinding } from '../../findings/make.js';
import { formatPod } from '../../model/pod.js';
import { type CertsRule, readProxies } from './evidence.js';
import { certificateEvidence } from './support.js';

export const identityMismatch: CertsRule = {
  id: 'md5004-identity-mismatch',
  code: 'MD5004',
  description: "A proxy's certificate names another identity than its pod's service account in the mesh's trust domain",
  needs: ['certificates'],
  check(e) {
    return readProxies(e).flatMap((p) => {
      const id = p.leaf?.spiffe;
      if (!p.leaf || !id) return [];
      const expected = `spiffe://${e.trustDomain}/ns/${p.pod.namespace}/sa/${p.serviceAccount}`;
      if (id.uri === expected) return [];
      const what = [
        id.trustDomain !== e.trustDomain ? `trust domain ${id.trustDomain} (the mesh's is ${e.trustDomain})` : undefined,
        id.namespace !== p.pod.namespace ? `namespace ${id.namespace ?? '?'}` : undefined,
        id.serviceAccount !== p.serviceAccount ? `service account ${id.serviceAccount ?? '?'} (the pod runs as ${p.serviceAccount})` : undefined,
      ].filter(Boolean).join(', ');
      return [makeFinding('MD5004', {
        message: `${formatPod(p.pod)} presents ${id.uri}, not ${expected}: ${what}. Peers that check the identity (DestinationRule subjectAltNames, AuthorizationPolicy principals) reject or deny it.`,
        target: { kind: 'Pod', namespace: p.pod.namespace, name: p.pod.name },
        evidence: [
          certificateEvidence(p, [p.leaf], 'the workload certificate (SDS default)', e.now),
          { source: `kubectl get pod ${p.pod.name} -n ${p.pod.namespace} -o jsonpath='{.spec.serviceAccountName}'`, excerpt: `serviceAccountName: ${p.serviceAccount}` },
        ],
        remediation: {
          text: id.trustDomain !== e.trustDomain
            ? `The mesh's trust domain is ${e.trustDomain}: restart ${formatPod(p.pod)} so istiod issues a certificate in it, or list ${id.trustDomain} in the mesh config's trustDomainAliases during a migration.`
            : `Restart ${formatPod(p.pod)} so pilot-agent requests a certificate for its own service account; if the certificate comes from a mounted secret, mount the one issued for ${p.serviceAccount}.`,
          command: `kubectl delete pod ${p.pod.name} -n ${p.pod.namespace}`,
        },
      })];
    });
  },
};
