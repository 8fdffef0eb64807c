/**
 * MD6007: no ALLOW policy matches the request, and no more specific rule
 * (MD6002–MD6005) says why: the verdict names the ALLOW policies and, for
 * each of their rules, what of the request did not match (path, method,
 * peer identity), as Envoy's RBAC matchers decide it.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { denialLines, describeRequest, policyExcerpt, rbacExcerpt, requestWords } from './support.js';

export const noAllowMatch: AuthzRule = {
  id: 'md6007-no-allow-policy-matches',
  code: 'MD6007',
  description: 'No ALLOW policy matches the request',
  needs: [{ anyOf: ['AuthorizationPolicy', 'server:config-dump'], because: 'neither the AuthorizationPolicies nor the server\'s RBAC filters are available' }],
  check(e: AuthzEvidence, { denial, earlier }: AuthzContext): Finding[] {
    if (denial.kind !== 'no-allow-match' || earlier.some((f) => f.code.startsWith('MD600'))) return [];
    const allows = e.policies.filter((p) => p.action === 'ALLOW');
    const policy = allows[0];
    const identity = e.request.peerPrincipal ?? 'no peer identity';
    return [makeFinding('MD6007', {
      message: `No ALLOW policy matches ${describeRequest(e)} (peer identity: ${identity}): ${allows.length ? `${allows.map((p) => `${p.namespace}/${p.name}`).join(', ')} apply to the server and none of their rules matches` : 'the server\'s RBAC ALLOW filter has no matching policy'}, so Envoy denies it.`,
      target: policy ? policy.ref : { kind: 'Pod', namespace: e.server.pod.namespace, name: e.server.pod.name },
      evidence: [
        ...denialLines(e, 'no ALLOW policy matched: rbac_access_denied_matched_policy[none]'),
        ...rbacExcerpt(e, 'each ALLOW policy and what of the request it did not match'),
        ...allows.slice(0, 2).map((p) => policyExcerpt(p, 'an ALLOW policy applying to the server')),
      ],
      remediation: {
        text: `Add or widen a rule in ${policy ? `AuthorizationPolicy ${policy.namespace}/${policy.name}` : 'an ALLOW AuthorizationPolicy selecting the server'} so it matches this request (from.source for ${identity}, to.operation for ${requestWords(e)}); the lines above say which part of each rule did not match.`,
      },
    })];
  },
};
