/**
 * MD6005: the ALLOW policies that apply to the server have no rules. An ALLOW
 * policy without rules matches nothing, so it denies every request (istio.io
 * "allow-nothing"); istiod writes it as a policy whose permission is
 * `not_rule: {any: true}`. Only the verdict when no other ALLOW policy could
 * admit the request.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { denialLines, describeRequest, patchCommand, policyExcerpt, rbacExcerpt } from './support.js';

export const allowNothing: AuthzRule = {
  id: 'md6005-allow-policy-without-rules',
  code: 'MD6005',
  description: 'The only ALLOW policies for the workload have no rules: they deny every request',
  needs: [{ anyOf: ['AuthorizationPolicy'], because: 'no AuthorizationPolicy applies to the server' }],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'no-allow-match') return [];
    const allows = e.policies.filter((p) => p.action === 'ALLOW');
    if (!allows.length || allows.some((p) => !p.noRules)) return [];
    const policy = allows[0];
    return [makeFinding('MD6005', {
      message: `AuthorizationPolicy ${policy.namespace}/${policy.name} is an ALLOW policy with no rules${allows.length > 1 ? ` (as are ${allows.slice(1).map((p) => p.name).join(', ')})` : ''}: it matches no request, so ${describeRequest(e)} — and every other request to this workload — is denied.`,
      target: policy.ref,
      evidence: [
        ...denialLines(e, 'no ALLOW policy matched: rbac_access_denied_matched_policy[none]'),
        ...rbacExcerpt(e, 'istiod writes a rule-less ALLOW policy as a policy that matches nothing (not_rule any)'),
        policyExcerpt(policy, 'spec.rules is absent: this policy allows nothing'),
      ],
      remediation: {
        text: `Add spec.rules to AuthorizationPolicy ${policy.namespace}/${policy.name} naming who may call (from.source.principals or namespaces) and what (to.operation), or delete it if denying everything was not the intent.`,
        patch: 'spec:\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/<client-namespace>/sa/<client-service-account>"]',
        command: patchCommand(policy, { rules: [{ from: [{ source: { principals: ['cluster.local/ns/<client-namespace>/sa/<client-service-account>'] } }] }] }),
      },
    })];
  },
};
