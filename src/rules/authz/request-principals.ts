/**
 * MD6004: an ALLOW policy admits callers by `requestPrincipals` (the JWT's
 * iss/sub), but no RequestAuthentication selects the workload: without one
 * istiod writes no jwt_authn filter, nothing validates a token or sets the
 * request principal, and the rule never matches. istiod writes the principal
 * as a metadata matcher on `envoy.filters.http.jwt_authn` (principal.go,
 * requestPrincipals); a chain without that filter cannot match it.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { toYaml } from '../../model/istio/common.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { sourceFields } from './source-fields.js';
import { denialLines, describeRequest, policyExcerpt, rbacExcerpt } from './support.js';

export const requestPrincipalsWithoutAuthn: AuthzRule = {
  id: 'md6004-request-principals-without-requestauthentication',
  code: 'MD6004',
  description: 'An ALLOW policy matches requestPrincipals but no RequestAuthentication selects the workload',
  needs: [{ anyOf: ['AuthorizationPolicy'], because: 'no AuthorizationPolicy applies to the server' }],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'no-allow-match' || e.requestAuthentications.length) return [];
    const fields = sourceFields(e.policies, 'requestPrincipals');
    if (!fields.length) return [];
    const f = fields[0];
    const issuer = f.value && f.value !== '*' ? f.value.split('/').slice(0, -1).join('/') || f.value : 'https://<issuer>';
    const chain = e.authorization?.chain;
    return [makeFinding('MD6004', {
      message: `${describeRequest(e)} is denied: AuthorizationPolicy ${f.policy.namespace}/${f.policy.name} allows only requests whose JWT principal matches ${f.value} (${f.path}), but no RequestAuthentication selects ${e.server.pod.namespace}/${e.server.pod.name}: no token is ever validated, the request principal is never set, and the rule matches no request${chain && !chain.httpFilters.includes('envoy.filters.http.jwt_authn') ? ' (the server\'s chain has no jwt_authn filter)' : ''}.`,
      target: f.policy.ref,
      evidence: [
        ...denialLines(e, 'no ALLOW policy matched: rbac_access_denied_matched_policy[none]'),
        ...rbacExcerpt(e, 'the requestPrincipals rule reads metadata of envoy.filters.http.jwt_authn, which this chain does not have'),
        policyExcerpt(f.policy, `${f.path} = ${f.value}`, f.rule),
        { source: `kubectl get requestauthentications -n ${e.server.pod.namespace} -o yaml; kubectl get requestauthentications -n ${e.mesh.rootNamespace} -o yaml`, excerpt: '(none selects this workload)', note: 'requestPrincipals are set only by a RequestAuthentication\'s jwtRules' },
      ],
      remediation: {
        text: `Add a RequestAuthentication selecting the workload with the issuer the tokens come from (jwtRules[].issuer and jwksUri), so ${f.path} can match; or, if the policy did not mean JWTs, use principals (the mTLS identity) instead of requestPrincipals.`,
        patch: toYaml({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: f.policy.namespace }, spec: { ...(f.policy.selector ? { selector: { matchLabels: f.policy.selector } } : {}), jwtRules: [{ issuer, jwksUri: `${issuer}/.well-known/jwks.json` }] } }),
      },
    })];
  },
};
