/**
 * MD6003: an ALLOW policy's `principals` name a trust domain that is not the
 * mesh's (`meshConfig.trustDomain`, default cluster.local) nor one of its
 * `trustDomainAliases`. Workload certificates carry
 * spiffe://<trust domain>/ns/<ns>/sa/<sa>; istiod writes the principal as an
 * exact match on that URI (pilot/pkg/security/authz/model/principal.go), so a
 * principal in another trust domain never matches a workload of this mesh.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { kubectlGet } from '../../model/istio/common.js';
import { principalTrustDomain, trustDomainAliases } from '../../model/istio/authorization-policy.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { sourceFields } from './source-fields.js';
import { denialLines, describeRequest, patchCommand, policyExcerpt, rbacExcerpt } from './support.js';

export const foreignTrustDomain: AuthzRule = {
  id: 'md6003-principal-in-foreign-trust-domain',
  code: 'MD6003',
  description: 'An ALLOW policy names principals in a trust domain that is not the mesh\'s',
  needs: [{ anyOf: ['AuthorizationPolicy'], because: 'no AuthorizationPolicy applies to the server' }],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'no-allow-match') return [];
    const ours = new Set([e.mesh.trustDomain, ...trustDomainAliases(e.mesh.raw)]);
    const foreign = sourceFields(e.policies, 'principals', (p) => {
      const td = principalTrustDomain(p);
      return td !== undefined && !ours.has(td);
    });
    if (!foreign.length) return [];
    const f = foreign[0];
    const td = principalTrustDomain(f.value!)!;
    const fixed = f.value!.replace(/^(spiffe:\/\/)?[^/]+/, `$1${e.mesh.trustDomain}`);
    const meshRef = e.mesh.source ?? { kind: 'ConfigMap', namespace: e.mesh.rootNamespace, name: 'istio' };
    const spec = JSON.parse(JSON.stringify(f.policy.object.spec ?? {})) as { rules: Array<{ from: Array<{ source: Record<string, string[]> }> }> };
    spec.rules[f.rule].from[f.from].source.principals[f.index!] = fixed;
    return [makeFinding('MD6003', {
      message: `${describeRequest(e)} is denied: AuthorizationPolicy ${f.policy.namespace}/${f.policy.name} allows ${f.value} (${f.path}), in trust domain ${td}, but this mesh's trust domain is ${e.mesh.trustDomain}${ours.size > 1 ? ` (aliases: ${[...ours].slice(1).join(', ')})` : ''}: the client's certificate says ${e.client.identity ?? `spiffe://${e.mesh.trustDomain}/ns/…`}, which that principal never matches.`,
      target: f.policy.ref,
      evidence: [
        ...denialLines(e, 'no ALLOW policy matched: rbac_access_denied_matched_policy[none]'),
        ...rbacExcerpt(e, `Envoy compares the peer identity with spiffe://${f.value!.replace(/^spiffe:\/\//, '')} exactly`),
        policyExcerpt(f.policy, `${f.path}: trust domain ${td}`, f.rule),
        { source: kubectlGet(meshRef), excerpt: `trustDomain: ${e.mesh.trustDomain}${e.mesh.explicit.includes('trustDomain') ? '' : ' (default)'}${trustDomainAliases(e.mesh.raw).length ? `\ntrustDomainAliases: ${trustDomainAliases(e.mesh.raw).join(', ')}` : ''}`, note: 'the trust domain every workload certificate of this mesh carries' },
      ],
      remediation: {
        text: `Set ${f.path} of AuthorizationPolicy ${f.policy.namespace}/${f.policy.name} to ${fixed} (the mesh's trust domain ${e.mesh.trustDomain}); if ${td} is a former or federated trust domain, list it in meshConfig.trustDomainAliases instead.`,
        command: patchCommand(f.policy, { rules: spec.rules }),
      },
    })];
  },
};
