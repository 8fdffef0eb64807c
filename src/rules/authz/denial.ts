/**
 * Who denied the request — derived once for all why-403 rules. The server's
 * access log wins when it says: Envoy writes the RBAC policy that denied into
 * `response_code_details` (`rbac_access_denied_matched_policy[ns[foo]-policy[deny-all]-rule[0]]`,
 * `[none]` when an ALLOW filter found no match; on TCP chains into the
 * connection termination details), `ext_authz_denied` / flag `UAEX` when a
 * CUSTOM provider said no. Without a 403 line, the server's RBAC filters
 * evaluated over the request decide.
 */
import { policyOrigin, rbacDenialPolicy } from '../../model/envoy/rbac.js';
import type { AuthorizationPolicyView } from '../../model/istio/authorization-policy.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { AuthzEvidence, Denial } from './evidence.js';

/** The RBAC policy an access-log line names, from either details field. */
export function loggedPolicy(entry: AccessLogEntry): string | undefined {
  return rbacDenialPolicy(entry.responseCodeDetails) ?? rbacDenialPolicy(entry.connectionTerminationDetails);
}

export function isExtAuthzDenial(entry: AccessLogEntry): boolean {
  return entry.responseFlags.includes('UAEX') || (entry.responseCodeDetails ?? '').startsWith('ext_authz');
}

function policyView(e: AuthzEvidence, name: string | undefined): { origin?: Denial['origin']; policy?: AuthorizationPolicyView } {
  const origin = name ? policyOrigin(name) : undefined;
  const policy = origin ? e.policies.find((p) => p.namespace === origin.namespace && p.name === origin.name) : undefined;
  return { ...(origin ? { origin } : {}), ...(policy ? { policy } : {}) };
}

/** An RBAC or ext_authz denial, as the access log writes it. */
export function isAuthzDenial(entry: AccessLogEntry): boolean {
  return loggedPolicy(entry) !== undefined || isExtAuthzDenial(entry);
}

export function decideDenial(e: AuthzEvidence): Denial {
  if (e.lastAnswer && !isAuthzDenial(e.lastAnswer)) {
    const answer = e.lastAnswer.method ? `was answered ${e.lastAnswer.responseCode ?? '-'} ${e.lastAnswer.responseCodeDetails ?? ''}`.trim() : 'is a TCP connection the server let through';
    return { kind: 'allowed', basis: 'access-log', because: `the server's last access-log entry for the request ${answer}` };
  }
  const last = e.denials?.entries.at(-1);
  if (last && isExtAuthzDenial(last)) {
    const custom = e.policies.find((p) => p.action === 'CUSTOM');
    return { kind: 'ext-authz', basis: 'access-log', ...(custom ? { policy: custom } : {}), because: `the server's access log: ${last.responseCode ?? '-'} ${last.responseFlags.join(',') || '-'} ${last.responseCodeDetails ?? ''}`.trim() };
  }
  const logged = last ? loggedPolicy(last) : undefined;
  if (logged === 'none') return { kind: 'no-allow-match', basis: 'access-log', because: 'the server\'s access log: rbac_access_denied_matched_policy[none] (an ALLOW filter found no matching policy)' };
  if (logged) return { kind: 'deny-policy', basis: 'access-log', rbacPolicy: logged, ...policyView(e, logged), because: `the server's access log names the DENY policy ${logged}` };
  const outcome = e.authorization?.decision.outcome;
  if (!outcome) return { kind: 'unknown', basis: 'config', because: 'neither a 403 line in the server\'s access log nor the server\'s RBAC filters could be read' };
  switch (outcome.kind) {
    case 'denied-by-deny':
      return { kind: 'deny-policy', basis: 'config', rbacPolicy: outcome.policy.name, ...policyView(e, outcome.policy.name), because: `the server's ${outcome.filter.layer} RBAC DENY filter matches the request with ${outcome.policy.name}` };
    case 'denied-no-allow':
      return { kind: 'no-allow-match', basis: 'config', because: `no policy of the server's ${outcome.filter.layer} RBAC ALLOW filter matches the request` };
    case 'ext-authz':
      return { kind: 'ext-authz', basis: 'config', rbacPolicy: outcome.policy.name, ...policyView(e, outcome.policy.name), because: `the request matches CUSTOM policy ${outcome.policy.name}: the provider decides (ext_authz)` };
    case 'allowed':
      return { kind: 'allowed', basis: 'config', because: 'the server\'s RBAC filters allow this request' };
    default:
      return { kind: 'unknown', basis: 'config', because: outcome.because };
  }
}
