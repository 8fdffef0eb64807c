/**
 * The mTLS rules: a handshake between two sidecars judged from both sides'
 * certificates and the client's expectations, before or without any failed
 * request. They run inside why-503's rule list (one place for the logic):
 * `why-mtls-fails` and `why-503` give the same verdicts on the same evidence.
 *
 *   md5001-handshake-certificate-validity  MD5001  a certificate in the handshake expired / not yet valid
 *   md5006-trust-domain-mismatch           MD5006  same service account, another trust domain
 *   md5007-root-mismatch                   MD5007  a chain that does not lead to the peer's root
 *   md5005-san-mismatch                    MD5005  an identity the client's cluster does not accept
 *   md5008-double-tls                      MD5008  the client sidecar's own TLS to a sidecar'd server
 */
import type { UpstreamRule } from '../upstream/rule.js';
import { doubleTls } from './double-tls.js';
import { sanMismatch, trustDomainMismatch } from './identity.js';
import { rootMismatch } from './roots.js';
import { handshakeValidity } from './validity.js';

export const MTLS_RULES: readonly UpstreamRule[] = [handshakeValidity, trustDomainMismatch, rootMismatch, sanMismatch, doubleTls];

/** The codes these rules report: a generic verification finding (MD3005) stands down for them. */
export const MTLS_CODES: ReadonlySet<string> = new Set(MTLS_RULES.map((r) => r.code));
