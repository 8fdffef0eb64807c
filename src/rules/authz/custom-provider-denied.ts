/**
 * MD6008: a CUSTOM AuthorizationPolicy sent the request to its provider
 * (ext_authz), and the provider said no — or could not be asked. Envoy's
 * ext_authz filter logs `403 UAEX ext_authz_denied` when the authorization
 * service answers with a denial, `ext_authz_error` (also UAEX, status 403
 * unless the provider sets statusOnError) when the call fails and failOpen is
 * off (envoy source/extensions/filters/http/ext_authz/ext_authz.cc). Istio only
 * decides *whether* to ask: its shadow RBAC policy
 * `istio-ext-authz-<provider>-ns[..]-policy[..]-rule[N]` matched
 * (pilot/pkg/security/authz/builder/builder.go); the answer is the provider's.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import { extensionProviders } from '../../model/istio/authorization-policy.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { denialLines, describeRequest, policyExcerpt, rbacExcerpt } from './support.js';

export const customProviderDenied: AuthzRule = {
  id: 'md6008-custom-provider-denied',
  code: 'MD6008',
  description: 'The CUSTOM provider (ext_authz) denied the request, or could not be asked',
  needs: [{ anyOf: ['server:access-log'], because: 'the provider\'s answer is only in the server\'s access log (403 UAEX ext_authz_denied / ext_authz_error), and no log was read' }],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'ext-authz' || denial.basis !== 'access-log') return [];
    const last = e.denials!.entries.at(-1)!;
    const failed = (last.responseCodeDetails ?? '').startsWith('ext_authz_error');
    const policy = denial.policy;
    const providerName = policy?.provider ?? '?';
    const provider = extensionProviders(e.mesh.raw).find((p) => p.name === providerName);
    const meshRef = e.mesh.source ?? { kind: 'ConfigMap', namespace: e.mesh.rootNamespace, name: 'istio' };
    const rule = e.authorization?.decision.outcome.kind === 'ext-authz' ? e.authorization.decision.outcome.policy.origin?.rule : undefined;
    const field = rule !== undefined ? `spec.rules[${rule}]` : 'spec.rules';
    const service = provider ? `${provider.service ?? '?'}${provider.port ? `:${provider.port}` : ''}` : 'its service';
    const evidence: EvidenceItem[] = [
      ...denialLines(e, failed ? 'ext_authz_error: the call to the provider failed, and failOpen is off' : 'ext_authz_denied: the provider answered with a denial'),
      ...rbacExcerpt(e, 'Istio\'s shadow RBAC policy only decides which requests go to the provider; ext_authz enforces its answer'),
      ...(policy ? [policyExcerpt(policy, `${field} sends ${describeRequest(e)} to provider ${providerName}`, rule)] : []),
      ...(provider ? [{ source: kubectlGet(meshRef), excerpt: toYaml({ extensionProviders: [provider.raw] }), note: `the provider: ${service}` }] : []),
    ];
    return [makeFinding('MD6008', {
      message: failed
        ? `The CUSTOM AuthorizationPolicy ${policy ? `${policy.namespace}/${policy.name}` : ''} sends ${describeRequest(e)} to provider ${providerName} (${service}), and the call failed (ext_authz_error): with failOpen off, Envoy denies with 403.`
        : `The CUSTOM AuthorizationPolicy ${policy ? `${policy.namespace}/${policy.name}` : ''} sends ${describeRequest(e)} to provider ${providerName} (${service}), and the provider denied it (403 UAEX ext_authz_denied). Istio's config is doing what it says; the decision is the provider's.`,
      target: policy?.ref ?? { kind: 'AuthorizationPolicy', namespace: e.server.pod.namespace, name: 'unknown' },
      evidence,
      remediation: {
        text: failed
          ? `Make the provider ${providerName} reachable from ${e.server.pod.namespace}/${e.server.pod.name} (${service}: its pods, port and, with mTLS, its sidecar), or set failOpen in its extensionProviders entry if requests may pass when it is down.`
          : `Read the provider's log for why it denied ${e.request.method} ${e.request.path} (its policy, the headers it was sent: includeRequestHeadersInCheck), or narrow ${field} of the CUSTOM policy if this request should not be sent to the provider at all.`,
      },
    })];
  },
};
