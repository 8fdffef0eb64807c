/**
 * MD6001: a DENY AuthorizationPolicy matched the request. Envoy runs Istio's
 * RBAC filters CUSTOM, DENY, then ALLOW (pilot/pkg/security/authz/builder):
 * a matching DENY rule wins even where an ALLOW policy admits the same
 * request. The access log names the rule: `rbac_access_denied_matched_policy[ns[foo]-policy[deny-headers]-rule[1]]`.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { denialLines, describeRequest, isTcp, policyExcerpt, rbacExcerpt, requestWords } from './support.js';

/** ALLOW policies that match the request: the ones a DENY overrides. */
function overriddenAllows(e: AuthzEvidence): string[] {
  const evaluations = e.authorization?.decision.evaluations ?? [];
  return evaluations
    .filter((x) => x.filter.purpose === 'enforce' && x.filter.rules?.action === 'ALLOW')
    .flatMap((x) => x.matches.filter((m) => m.matched === true).map((m) => m.policy.name));
}

export const denyPolicy: AuthzRule = {
  id: 'md6001-deny-policy-matched',
  code: 'MD6001',
  description: 'A DENY AuthorizationPolicy matches the request (DENY is evaluated before ALLOW)',
  needs: [{ anyOf: ['server:access-log', 'server:config-dump'], because: 'neither a 403 line nor the server\'s RBAC filters are available' }],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'deny-policy' || denial.origin?.badCustomAction) return [];
    const origin = denial.origin;
    const policy = denial.policy;
    const field = origin ? `spec.rules[${origin.rule}]` : 'spec.rules';
    const allows = overriddenAllows(e);
    const evidence: EvidenceItem[] = [
      ...denialLines(e, `Envoy names the DENY rule that matched: ${denial.rbacPolicy}`),
      ...rbacExcerpt(e, `the DENY filter runs before the ALLOW filter${allows.length ? `; ${allows.join(', ')} would have allowed the request` : ''}`),
      ...(policy ? [policyExcerpt(policy, `${field} matches ${describeRequest(e)}`, origin?.rule)] : []),
    ];
    const name = policy ? `${policy.namespace}/${policy.name}` : origin ? `${origin.namespace}/${origin.name}` : denial.rbacPolicy ?? '?';
    return [makeFinding('MD6001', {
      message: `The DENY AuthorizationPolicy ${name} denies ${describeRequest(e)}: its ${field} matches (${denial.basis === 'access-log' ? 'named in the server\'s access log' : 'the server\'s RBAC DENY filter matches the request'}). DENY policies are evaluated before ALLOW${allows.length ? `, so ${allows.join(', ')} never gets to allow it` : ''}.`,
      target: { kind: 'AuthorizationPolicy', namespace: origin?.namespace ?? e.server.pod.namespace, name: origin?.name ?? denial.rbacPolicy ?? 'unknown' },
      evidence,
      remediation: {
        text: `Narrow ${field} of AuthorizationPolicy ${name} so it no longer matches ${requestWords(e)} (its ${isTcp(e) ? 'to.operation ports' : 'to.operation paths/methods'}, from.source, when), or delete that rule if the request should pass; an ALLOW policy cannot override a DENY.`,
        ...(policy ? { command: `kubectl edit authorizationpolicy ${policy.name} -n ${policy.namespace}` } : {}),
      },
    })];
  },
};
