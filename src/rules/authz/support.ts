/**
 * Evidence items the why-403 rules share: the AuthorizationPolicy as kubectl
 * shows it (cut to the rule that matters), the RBAC policy Envoy enforces,
 * the server's 403 lines, and the exact field a fix changes.
 */
import type { EvidenceItem } from '../../findings/finding.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import type { AuthorizationPolicyView } from '../../model/istio/authorization-policy.js';
import { formatPod } from '../../model/pod.js';
import type { PolicyMatch } from '../../model/envoy/rbac-match.js';
import type { AuthzEvidence } from './evidence.js';

const MAX_LINES = 3;

/** The policy as `kubectl get` shows it; with `rule`, only that rule of spec.rules. */
export function policyExcerpt(policy: AuthorizationPolicyView, note: string, rule?: number): EvidenceItem {
  const spec = { ...((policy.object.spec ?? {}) as Record<string, unknown>) };
  // One rule of several: shown alone, and the note says which index it has.
  if (rule !== undefined && Array.isArray(spec.rules) && spec.rules.length > 1) spec.rules = [spec.rules[rule]];
  return {
    source: kubectlGet({ kind: 'authorizationpolicy', namespace: policy.namespace, name: policy.name }),
    excerpt: toYaml({ apiVersion: policy.object.apiVersion, kind: 'AuthorizationPolicy', metadata: { name: policy.name, namespace: policy.namespace }, spec }),
    note: rule !== undefined && policy.rules.length > 1 ? `spec.rules[${rule}] of ${policy.rules.length}: ${note}` : note,
  };
}

/** The server's 403 lines (the last three). */
export function denialLines(e: AuthzEvidence, note: string): EvidenceItem[] {
  const d = e.denials;
  if (!d?.entries.length) return [];
  const shown = d.entries.slice(-MAX_LINES).map((x) => x.raw);
  const more = d.entries.length > MAX_LINES ? `\n... and ${d.entries.length - MAX_LINES} more 403s like these` : '';
  return [{ source: d.source, ...(d.file ? { file: d.file } : {}), excerpt: shown.join('\n') + more, note }];
}

/** The RBAC filters of the server's inbound chain, each policy with whether it matched this request and why not. */
export function rbacExcerpt(e: AuthzEvidence, note: string, only?: (m: PolicyMatch) => boolean): EvidenceItem[] {
  const a = e.authorization;
  if (!a) return [];
  const lines: string[] = [`${a.chain.listener} chain ${a.chain.chain}${a.chain.transport ? ` (${a.chain.transport})` : ''}, ${a.chain.layer} filters:`];
  for (const { filter, matches } of a.decision.evaluations) {
    const rules = filter.purpose === 'custom-trigger' ? filter.shadow : filter.rules;
    lines.push(`  ${filter.layer === 'http' ? 'envoy.filters.http.rbac' : 'envoy.filters.network.rbac'} ${filter.purpose === 'custom-trigger' ? 'shadow_rules (CUSTOM trigger)' : `rules action ${rules?.action ?? '(none: allows all)'}`}${rules && !rules.policies.length ? ', no policies' : ''}`);
    for (const m of matches.filter((x) => !only || only(x))) {
      lines.push(`    ${m.policy.name}: ${m.matched === true ? 'matches' : m.matched === false ? 'no match' : 'undecided'}${m.matched === true ? '' : m.why.length ? ` (${[...new Set(m.why)].slice(0, 2).join('; ')})` : ''}`);
    }
  }
  if (a.chain.extAuthz.length) lines.push(...a.chain.extAuthz.map((x) => `  envoy.filters.http.ext_authz -> ${x.cluster ?? x.uri ?? '?'}`));
  return [{ source: `istioctl proxy-config listeners ${formatPod(e.server.pod)} --port ${e.server.port} -o json`, ...(a.file ? { file: a.file } : {}), excerpt: lines.join('\n'), note }];
}

/** `kubectl patch` for a merge patch of an AuthorizationPolicy's spec. */
export function patchCommand(policy: AuthorizationPolicyView, spec: Record<string, unknown>): string {
  return `kubectl patch authorizationpolicy ${policy.name} -n ${policy.namespace} --type merge -p '${JSON.stringify({ spec })}'`;
}

export function describeRequest(e: AuthzEvidence): string {
  return `${requestWords(e)} on port ${e.request.port} from ${formatPod(e.client.pod)}`;
}

/**
 * Whether the request is a TCP connection: the server's chain for the port
 * carries the network RBAC filter (a Service port Istio treats as TCP), where
 * there is no method or path and a denial closes the connection instead of a 403.
 */
export function isTcp(e: AuthzEvidence): boolean {
  return e.authorization?.chain.layer === 'network';
}

/** The request in words: `GET /headers`, or `a TCP connection`. */
export function requestWords(e: AuthzEvidence): string {
  return isTcp(e) ? 'a TCP connection' : `${e.request.method} ${e.request.path}`;
}
