/**
 * AuthorizationPolicy and RequestAuthentication (security.istio.io v1beta1 /
 * v1: the same spec), and which of them apply to a workload.
 *
 * Selection (pilot/pkg/model/authorization.go, ListAuthorizationPolicies):
 * a policy in the root namespace without a selector applies mesh-wide, one in
 * the workload's namespace without a selector to the whole namespace, one
 * with `selector.matchLabels` to the workloads in its namespace (or, in the
 * root namespace, in every namespace) whose labels match. `targetRefs`
 * (gateways, waypoints) do not select sidecars.
 */
import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { asArray, asLabels, asNumber, asRecord, asString, asStringArray, labelsMatch, namespaceOf, refFor, type Labels } from './common.js';

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthorizationSource {
  principals: string[];
  notPrincipals: string[];
  requestPrincipals: string[];
  notRequestPrincipals: string[];
  namespaces: string[];
  notNamespaces: string[];
  ipBlocks: string[];
}

export interface AuthorizationRuleView {
  /** `spec.rules[i]`. */
  index: number;
  from: AuthorizationSource[];
  /** The raw `to` and `when`, as written. */
  to: unknown[];
  when: unknown[];
}

export interface AuthorizationPolicyView {
  kind: 'AuthorizationPolicy';
  namespace: string;
  name: string;
  action: AuthorizationAction;
  provider?: string;
  selector?: Labels;
  hasTargetRefs: boolean;
  /** `spec.rules`; an ALLOW policy without rules matches nothing (deny all). */
  rules: AuthorizationRuleView[];
  /** `spec.rules` absent or empty. */
  noRules: boolean;
  ref: ObjectRef;
  object: KubeObject;
}

export interface RequestAuthenticationView {
  kind: 'RequestAuthentication';
  namespace: string;
  name: string;
  selector?: Labels;
  issuers: string[];
  ref: ObjectRef;
}

export interface Workload {
  namespace: string;
  labels: Labels;
}

function sourceOf(value: unknown): AuthorizationSource {
  const s = asRecord(asRecord(value)?.source) ?? {};
  return {
    principals: asStringArray(s.principals),
    notPrincipals: asStringArray(s.notPrincipals),
    requestPrincipals: asStringArray(s.requestPrincipals),
    notRequestPrincipals: asStringArray(s.notRequestPrincipals),
    namespaces: asStringArray(s.namespaces),
    notNamespaces: asStringArray(s.notNamespaces),
    ipBlocks: [...asStringArray(s.ipBlocks), ...asStringArray(s.remoteIpBlocks)],
  };
}

export function authorizationPolicyView(object: KubeObject): AuthorizationPolicyView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const action = (asString(spec.action) ?? 'ALLOW') as AuthorizationAction;
  const selector = asLabels(asRecord(spec.selector)?.matchLabels);
  const provider = asString(asRecord(spec.provider)?.name);
  const rules = asArray(spec.rules).map((r, index) => {
    const rule = asRecord(r) ?? {};
    return { index, from: asArray(rule.from).map(sourceOf), to: asArray(rule.to), when: asArray(rule.when) };
  });
  return {
    kind: 'AuthorizationPolicy',
    namespace,
    name: String(object.metadata?.name ?? ''),
    action,
    ...(provider ? { provider } : {}),
    ...(selector && Object.keys(selector).length ? { selector } : {}),
    hasTargetRefs: asArray(spec.targetRefs).length > 0 || asRecord(spec.targetRef) !== undefined,
    rules,
    noRules: rules.length === 0,
    ref: refFor(object, namespace),
    object,
  };
}

function selects(view: { namespace: string; selector?: Labels }, workload: Workload, rootNamespace: string): boolean {
  if (view.namespace !== workload.namespace && view.namespace !== rootNamespace) return false;
  return !view.selector || labelsMatch(view.selector, workload.labels);
}

/** The AuthorizationPolicies that apply to a sidecar workload, root-namespace ones first. */
export function authorizationPoliciesFor(resources: ResourceSet, workload: Workload, rootNamespace: string): AuthorizationPolicyView[] {
  return resources
    .view('AuthorizationPolicy', () => resources.of('AuthorizationPolicy').map(authorizationPolicyView))
    .filter((p) => !p.hasTargetRefs && selects(p, workload, rootNamespace))
    .sort((a, b) => Number(b.namespace === rootNamespace) - Number(a.namespace === rootNamespace) || a.name.localeCompare(b.name));
}

export function requestAuthenticationView(object: KubeObject): RequestAuthenticationView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const selector = asLabels(asRecord(spec.selector)?.matchLabels);
  return {
    kind: 'RequestAuthentication',
    namespace,
    name: String(object.metadata?.name ?? ''),
    ...(selector && Object.keys(selector).length ? { selector } : {}),
    issuers: asArray(spec.jwtRules).map((r) => asString(asRecord(r)?.issuer)).filter((i): i is string => Boolean(i)),
    ref: refFor(object, namespace),
  };
}

export function requestAuthenticationsFor(resources: ResourceSet, workload: Workload, rootNamespace: string): RequestAuthenticationView[] {
  return resources.view('RequestAuthentication', () => resources.of('RequestAuthentication').map(requestAuthenticationView)).filter((r) => selects(r, workload, rootNamespace));
}

/**
 * The trust domain of a principal as written in a policy
 * (`cluster.local/ns/foo/sa/sleep`, `spiffe://td/ns/...`); undefined for `*`
 * and patterns without one (`*\/ns/foo/sa/sleep`).
 */
export function principalTrustDomain(principal: string): string | undefined {
  const bare = principal.startsWith('spiffe://') ? principal.slice('spiffe://'.length) : principal;
  const td = bare.split('/')[0];
  return td && !td.includes('*') && bare.includes('/') ? td : undefined;
}

/** The SPIFFE identity Istio gives a workload: spiffe://<trust domain>/ns/<namespace>/sa/<service account>. */
export function spiffeIdentity(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** `meshConfig.trustDomainAliases`: principals in these trust domains are accepted as the mesh's own. */
export function trustDomainAliases(meshRaw: Record<string, unknown>): string[] {
  return asStringArray(meshRaw.trustDomainAliases);
}

/** One `meshConfig.extensionProviders[]` entry a CUSTOM policy can name (envoyExtAuthzHttp / envoyExtAuthzGrpc). */
export interface ExtensionProvider {
  name: string;
  kind?: string;
  service?: string;
  port?: number;
  failOpen: boolean;
  raw: Record<string, unknown>;
}

export function extensionProviders(meshRaw: Record<string, unknown>): ExtensionProvider[] {
  return asArray(meshRaw.extensionProviders).flatMap((p) => {
    const raw = asRecord(p);
    const name = asString(raw?.name);
    if (!raw || !name) return [];
    const kind = Object.keys(raw).find((k) => k !== 'name');
    const config = kind ? asRecord(raw[kind]) : undefined;
    const service = asString(config?.service);
    const port = asNumber(config?.port);
    return [{ name, ...(kind ? { kind } : {}), ...(service ? { service } : {}), ...(port !== undefined ? { port } : {}), failOpen: config?.failOpen === true, raw }];
  });
}

/** `meshConfig.extensionProviders[].name`: the providers a CUSTOM policy may name. */
export function extensionProviderNames(meshRaw: Record<string, unknown>): string[] {
  return extensionProviders(meshRaw).map((p) => p.name);
}
