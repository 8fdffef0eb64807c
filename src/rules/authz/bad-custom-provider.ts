/**
 * MD6006: a CUSTOM AuthorizationPolicy whose provider istiod cannot build —
 * not in the mesh config's `extensionProviders`, or its service not found.
 * istiod then writes a DENY rule named `...-deny-due-to-bad-CUSTOM-action`
 * instead of the ext_authz filter (pilot/pkg/security/authz/builder/extauthz.go,
 * badCustomActionSuffix), so every request the policy's rules match is denied.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { kubectlGet } from '../../model/istio/common.js';
import { extensionProviderNames } from '../../model/istio/authorization-policy.js';
import type { AuthzContext, AuthzEvidence, AuthzRule } from './evidence.js';
import { denialLines, policyExcerpt, rbacExcerpt } from './support.js';

export const badCustomProvider: AuthzRule = {
  id: 'md6006-custom-provider-not-built',
  code: 'MD6006',
  description: 'A CUSTOM policy names a provider istiod cannot build, so its rules deny',
  needs: [{ anyOf: ['server:access-log', 'server:config-dump'], because: 'neither a 403 line nor the server\'s RBAC filters are available' }],
  check(e: AuthzEvidence, { denial }: AuthzContext): Finding[] {
    if (denial.kind !== 'deny-policy' || !denial.origin?.badCustomAction) return [];
    const origin = denial.origin;
    const provider = denial.policy?.provider ?? origin.provider ?? '?';
    const defined = extensionProviderNames(e.mesh.raw);
    const meshRef = e.mesh.source ?? { kind: 'ConfigMap', namespace: e.mesh.rootNamespace, name: 'istio' };
    const missing = !defined.includes(provider);
    return [makeFinding('MD6006', {
      message: `The CUSTOM AuthorizationPolicy ${origin.namespace}/${origin.name} names provider ${provider}, which istiod could not build (${missing ? 'the mesh config\'s extensionProviders does not define it' : 'defined in the mesh config, but its service or port was not found'}); istiod replaced its rule ${origin.rule} with a DENY rule (${denial.rbacPolicy}), so every request it matches is denied.`,
      target: { kind: 'AuthorizationPolicy', namespace: origin.namespace, name: origin.name },
      evidence: [
        ...denialLines(e, 'Envoy names the DENY rule istiod generated for the broken CUSTOM action'),
        ...rbacExcerpt(e, 'a DENY filter with a -deny-due-to-bad-CUSTOM-action policy, and no ext_authz filter'),
        ...(denial.policy ? [policyExcerpt(denial.policy, `spec.provider.name: ${provider}`)] : []),
        { source: kubectlGet(meshRef), excerpt: `extensionProviders: ${defined.length ? defined.join(', ') : '(none)'}`, note: missing ? `no provider named ${provider}` : `${provider} is defined; check its service and port exist` },
      ],
      remediation: {
        text: missing
          ? `Define ${provider} under meshConfig.extensionProviders (envoyExtAuthzHttp or envoyExtAuthzGrpc with its service and port) in the mesh config, or set spec.provider.name of ${origin.namespace}/${origin.name} to a provider that is defined${defined.length ? ` (${defined.join(', ')})` : ''}.`
          : `Make the service named by extensionProviders ${provider} exist (service: <name>.<namespace>.svc.cluster.local and its port), then istiod generates the ext_authz filter again.`,
      },
    })];
  },
};
