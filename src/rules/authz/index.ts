/**
 * why-403's rules, in order: who denied is decided once (denial.ts); a
 * DENY match, a broken CUSTOM action or the CUSTOM provider's denial first, then why no ALLOW policy
 * matched, most specific first, and the general "no ALLOW matches" last
 * (it stands down when an earlier rule explained the denial).
 */
import { runRules as runEngine, type RuleRun } from '../engine.js';
import { allowNothing } from './allow-nothing.js';
import { badCustomProvider } from './bad-custom-provider.js';
import { customProviderDenied } from './custom-provider-denied.js';
import { denyPolicy } from './deny-policy.js';
import { decideDenial } from './denial.js';
import { authzEvidence, type AuthzEvidence, type AuthzRule, type Denial } from './evidence.js';
import { foreignTrustDomain } from './foreign-trust-domain.js';
import { noAllowMatch } from './no-allow-match.js';
import { noPeerIdentity } from './no-peer-identity.js';
import { requestPrincipalsWithoutAuthn } from './request-principals.js';

export const AUTHZ_RULES: readonly AuthzRule[] = [
  badCustomProvider,
  denyPolicy,
  customProviderDenied,
  allowNothing,
  noPeerIdentity,
  foreignTrustDomain,
  requestPrincipalsWithoutAuthn,
  noAllowMatch,
];

export function runAuthzRules(e: AuthzEvidence, rules: readonly AuthzRule[] = AUTHZ_RULES): RuleRun & { denial: Denial } {
  const denial = decideDenial(e);
  return { ...runEngine(rules, authzEvidence(e), { denial }), denial };
}
