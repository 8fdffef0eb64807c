/**
 * What a why-403 verdict rests on when a config dump is missing (evidence
 * fusion, issue "no false health"). Without the server's dump its RBAC filters
 * are not evaluated: the decision comes from the AuthorizationPolicies and the
 * server's access log. Without the client's dump the identity the server sees
 * is predicted from the DestinationRule and auto mTLS. A decision the access
 * log shows is observed (medium); one from the policies alone is a prediction (low).
 */
import type { VerdictConfidence } from '../../findings/finding.js';

export interface AuthzEvidenceSeen {
  serverDump: boolean;
  clientDump: boolean;
  /** A client without a sidecar sends what its app sends: no client dump to miss. */
  clientHasSidecar: boolean;
  /** Where the decision came from: the server's access log (observed) or its config (evaluated or predicted). */
  basis: 'access-log' | 'config';
}

export const NO_SERVER_RBAC = 'the server\'s config dump (its RBAC filters were not evaluated: the decision comes from the AuthorizationPolicies and the access log)';
export const NO_CLIENT_TLS = 'the client\'s config dump (its TLS mode, so the identity the server sees, was predicted from the DestinationRule and auto mTLS)';

/** The confidence of a why-403 verdict; undefined when every dump it needs was read. */
export function authzConfidence(seen: AuthzEvidenceSeen): VerdictConfidence | undefined {
  const missing = [!seen.serverDump ? NO_SERVER_RBAC : '', !seen.clientDump && seen.clientHasSidecar ? NO_CLIENT_TLS : ''].filter(Boolean);
  if (!missing.length) return undefined;
  return { level: seen.basis === 'access-log' ? 'medium' : 'low', missing };
}
