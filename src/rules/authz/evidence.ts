/**
 * What the why-403 rules read: the server sidecar's authorization as Envoy
 * enforces it (the RBAC filters of the inbound chain the request lands on),
 * the request and the identity the server saw, the server's 403 access-log
 * lines, and the AuthorizationPolicies / RequestAuthentications that apply
 * to the server. The diagnosis (src/diagnoses/why-403.ts) fetches and parses
 * them; absent pieces are undefined and a rule needing them is skipped.
 */
import type { ChainAuthorization, PolicyOrigin } from '../../model/envoy/rbac.js';
import type { AuthzDecision, RbacRequest } from '../../model/envoy/rbac-match.js';
import type { AuthorizationPolicyView, RequestAuthenticationView } from '../../model/istio/authorization-policy.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { PodRef } from '../../model/pod.js';
import type { Provenance } from '../../model/provenance.js';
import type { ObjectRef } from '../../model/k8s/resources.js';
import type { EvidenceKind, EvidenceModel, Rule, CheckContext } from '../rule.js';

export type Numbered<T> = T & { lineNumber: number };

/** How the client reaches the server, as far as identity goes. */
export interface ClientIdentity {
  pod: PodRef;
  /** The SPIFFE identity its certificate carries (spiffe://td/ns/N/sa/SA): read from the certificate, else from its service account and the mesh's trust domain. */
  identity?: string;
  /** Where the identity came from: the sidecar's own certificate, or predicted from the pod's service account. */
  identityFrom?: 'certificate' | 'service-account';
  /** `istio-mtls` sends that identity; `plaintext` / `tls-*` send none the server can read. */
  transport?: 'istio-mtls' | 'tls-without-client-cert' | 'tls-other-cert' | 'plaintext';
  /** Why the client sends what it sends (the DestinationRule, auto mTLS), in words. */
  because?: string;
  /** The DestinationRule that decided it, and its tls.mode. */
  destinationRule?: ObjectRef;
  ruleTlsMode?: string;
}

export interface ServerSide {
  pod: PodRef;
  labels: Record<string, string>;
  port: number;
  /** The server's mTLS mode for the port (PERMISSIVE lets plaintext in, without an identity). */
  mtlsMode?: string;
  mtlsBecause?: string;
  mtlsDecidedBy?: ObjectRef;
}

export interface AuthzEvidence {
  client: ClientIdentity;
  server: ServerSide;
  /** The request the decision is about: from the 403 line when there is one, else from the flags. */
  request: RbacRequest & { from: 'access-log' | 'flags' };
  /** The inbound chain the request lands on, its filters evaluated. */
  authorization?: Provenance & { chain: ChainAuthorization; decision: AuthzDecision };
  /**
   * What the server's RBAC filter logged for the denied request (logger `rbac`
   * at debug): the `checking request:` line with the peer identity it saw
   * (`ssl: none` = no client certificate), and its decision line.
   */
  serverSaw?: Provenance & { check: string; decision?: string; peer?: string };
  /** The server's last access-log entry for the request (port, and path when given): whether it was denied at all. */
  lastAnswer?: Numbered<AccessLogEntry>;
  /** The server's 403 lines for the port (oldest first). */
  denials?: Provenance & { entries: Array<Numbered<AccessLogEntry>> };
  policies: AuthorizationPolicyView[];
  requestAuthentications: RequestAuthenticationView[];
  mesh: MeshConfigView;
}

/** Who denied the request, decided once for all rules: the access log when it names a policy, else the config evaluated. */
export interface Denial {
  kind: 'deny-policy' | 'no-allow-match' | 'ext-authz' | 'allowed' | 'unknown';
  basis: 'access-log' | 'config';
  /** The RBAC policy name (`ns[foo]-policy[deny-all]-rule[0]`). */
  rbacPolicy?: string;
  origin?: PolicyOrigin;
  /** The AuthorizationPolicy it came from, when the resources hold it. */
  policy?: AuthorizationPolicyView;
  because: string;
}

export interface AuthzShared {
  denial: Denial;
}

export type AuthzRule = Rule<AuthzEvidence, AuthzShared>;
export type AuthzContext = CheckContext<AuthzShared>;

export function authzEvidence(e: AuthzEvidence): EvidenceModel<AuthzEvidence> {
  const held: Partial<Record<EvidenceKind, boolean>> = {
    'server:config-dump': Boolean(e.authorization),
    'server:access-log': Boolean(e.denials),
    'client:tls-settings': Boolean(e.client.transport),
    'server:mtls-demand': Boolean(e.server.mtlsMode),
    'mesh-config': true,
    AuthorizationPolicy: e.policies.length > 0,
    RequestAuthentication: e.requestAuthentications.length > 0,
  };
  return { evidence: e, holds: (kind) => held[kind] ?? false };
}
