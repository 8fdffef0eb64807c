/**
 * Envoy's RBAC filters as a sidecar enforces them: the HTTP filter
 * (`envoy.filters.http.rbac`, extensions.filters.http.rbac.v3.RBAC) in an
 * http_connection_manager and the network filter (`envoy.filters.network.rbac`)
 * on TCP chains, each with enforced `rules` and dry-run `shadow_rules`
 * (config.rbac.v3.RBAC: an action and a map of named policies).
 *
 * Istio's generator (pilot/pkg/security/authz/builder/builder.go) writes one
 * filter per action in the order CUSTOM (a shadow RBAC that triggers
 * ext_authz), DENY, ALLOW, AUDIT, and names each policy after the
 * AuthorizationPolicy rule it came from: `ns[foo]-policy[deny-all]-rule[0]`
 * (policyName()); CUSTOM ones carry `istio-ext-authz-<provider>-`, and a
 * CUSTOM policy whose provider cannot be built becomes a DENY policy with the
 * suffix `-deny-due-to-bad-CUSTOM-action` (extauthz.go, badCustomActionSuffix).
 */
import type { ConfigDump } from './config-dump.js';
import { type JsonObject, field, isObject, num, obj, objs, str } from './json.js';
import type { FilterChain, Listener } from './listeners.js';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

/** Which AuthorizationPolicy rule an RBAC policy was generated from (Istio's naming). */
export interface PolicyOrigin {
  namespace: string;
  name: string;
  rule: number;
  /** The CUSTOM provider, for `istio-ext-authz-<provider>-ns[..]...` names. */
  provider?: string;
  /** A CUSTOM rule istiod turned into a DENY because its provider could not be built. */
  badCustomAction: boolean;
}

export interface RbacPolicy {
  /** The key in `policies`, as Envoy reports it in `rbac_access_denied_matched_policy[...]`. */
  name: string;
  origin?: PolicyOrigin;
  permissions: JsonObject[];
  principals: JsonObject[];
}

export interface RbacRules {
  action: RbacAction;
  /** Sorted by name: Envoy keeps them in an ordered map and reports the first that matches. */
  policies: RbacPolicy[];
}

/** What a filter is there for, in Istio's layout. */
export type RbacPurpose =
  | 'enforce'         // rules enforced (DENY or ALLOW), optional dry-run shadow rules
  | 'custom-trigger'; // CUSTOM: shadow rules only mark requests for ext_authz (stat prefix istio_ext_authz_)

export interface RbacFilter {
  layer: 'http' | 'network';
  purpose: RbacPurpose;
  /** Absent: the filter enforces nothing (Envoy allows everything). */
  rules?: RbacRules;
  shadow?: RbacRules;
}

export interface ExtAuthzFilter {
  layer: 'http' | 'network';
  /** The authorization service's cluster (`outbound|8000||ext-authz.foo.svc.cluster.local`). */
  cluster?: string;
  uri?: string;
}

/** The authorization an inbound filter chain applies, in filter order. */
export interface ChainAuthorization {
  listener: string;
  chain: string;
  /** `tls` / `raw_buffer` from the chain match (undefined: any). */
  transport?: string;
  layer: 'http' | 'network';
  rbac: RbacFilter[];
  extAuthz: ExtAuthzFilter[];
  /** HTTP filter names in order: a requestPrincipals policy reads metadata only jwt_authn writes. */
  httpFilters: string[];
}

const BAD_CUSTOM = '-deny-due-to-bad-CUSTOM-action';
const POLICY_NAME = /^(?:istio-ext-authz-(?:(.+)-)?)?ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$/;

/** Parses Istio's policy name (builder.go policyName()); undefined for names Istio did not write. */
export function policyOrigin(name: string): PolicyOrigin | undefined {
  const badCustomAction = name.endsWith(BAD_CUSTOM);
  const m = POLICY_NAME.exec(badCustomAction ? name.slice(0, -BAD_CUSTOM.length) : name);
  if (!m) return undefined;
  return { namespace: m[2], name: m[3], rule: Number(m[4]), ...(m[1] ? { provider: m[1] } : {}), badCustomAction };
}

function readRules(raw: JsonObject | undefined): RbacRules | undefined {
  if (!raw) return undefined;
  const action = (str(raw, 'action') ?? 'ALLOW') as RbacAction;
  const policies = Object.entries(obj(raw, 'policies') ?? {})
    .filter((entry): entry is [string, JsonObject] => isObject(entry[1]))
    .map(([name, p]) => {
      const origin = policyOrigin(name);
      return { name, ...(origin ? { origin } : {}), permissions: objs(p, 'permissions'), principals: objs(p, 'principals') };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { action, policies };
}

function readRbacFilter(config: JsonObject | undefined, layer: 'http' | 'network'): RbacFilter {
  const rules = readRules(obj(config, 'rules'));
  const shadow = readRules(obj(config, 'shadow_rules'));
  const custom = (str(config, 'shadow_rules_stat_prefix') ?? '').startsWith('istio_ext_authz') && !rules?.policies.length;
  return { layer, purpose: custom ? 'custom-trigger' : 'enforce', ...(rules ? { rules } : {}), ...(shadow ? { shadow } : {}) };
}

function readExtAuthz(config: JsonObject | undefined, layer: 'http' | 'network'): ExtAuthzFilter {
  const http = obj(obj(config, 'http_service'), 'server_uri');
  const grpc = obj(obj(config, 'grpc_service'), 'envoy_grpc');
  const cluster = str(http, 'cluster') ?? str(grpc, 'cluster_name');
  const uri = str(http, 'uri');
  return { layer, ...(cluster ? { cluster } : {}), ...(uri ? { uri } : {}) };
}

const isRbac = (name: string): boolean => name === 'envoy.filters.http.rbac' || name === 'envoy.filters.network.rbac' || name === 'envoy.rbac';
const isExtAuthz = (name: string): boolean => name === 'envoy.filters.http.ext_authz' || name === 'envoy.filters.network.ext_authz' || name === 'envoy.ext_authz';

/** The RBAC and ext_authz filters of one filter chain, HTTP ones when it ends in an HCM, network ones otherwise. */
export function chainAuthorization(listener: Listener, chain: FilterChain): ChainAuthorization {
  const hcm = chain.filters.find((f) => f.kind === 'http_connection_manager');
  const transport = chain.match.transportProtocol;
  const base = { listener: listener.name, chain: chain.name, ...(transport ? { transport } : {}) };
  if (hcm) {
    const filters = objs(hcm.typedConfig, 'http_filters');
    return {
      ...base,
      layer: 'http',
      rbac: filters.filter((f) => isRbac(str(f, 'name') ?? '')).map((f) => readRbacFilter(obj(f, 'typed_config'), 'http')),
      extAuthz: filters.filter((f) => isExtAuthz(str(f, 'name') ?? '')).map((f) => readExtAuthz(obj(f, 'typed_config'), 'http')),
      httpFilters: filters.map((f) => str(f, 'name') ?? ''),
    };
  }
  return {
    ...base,
    layer: 'network',
    rbac: chain.filters.filter((f) => isRbac(f.name)).map((f) => readRbacFilter(f.typedConfig, 'network')),
    extAuthz: chain.filters.filter((f) => isExtAuthz(f.name)).map((f) => readExtAuthz(f.typedConfig, 'network')),
    httpFilters: [],
  };
}

/**
 * The inbound chains a connection to `port` can land on: Istio's
 * virtualInbound (0.0.0.0:15006) has per-port chains (`destination_port`)
 * for the workload's service ports and catch-all chains for the rest
 * (`virtualInbound-catchall-http`, `virtualInbound`); older sidecars have a
 * listener per port (`10.0.0.5_8080`). Per-port chains win when present.
 */
export function inboundAuthorization(dump: ConfigDump, port: number): ChainAuthorization[] {
  const inbound = dump.listeners.filter((l) => l.name === 'virtualInbound' || l.trafficDirection === 'INBOUND');
  const perPort: ChainAuthorization[] = [];
  const fallback: ChainAuthorization[] = [];
  for (const listener of inbound) {
    const listenerPort = listener.port;
    for (const chain of listener.allFilterChains) {
      const chainPort = chain.match.destinationPort ?? (listener.name === 'virtualInbound' ? undefined : listenerPort);
      if (chainPort === port) perPort.push(chainAuthorization(listener, chain));
      else if (chainPort === undefined && listener.name === 'virtualInbound' && chain.name !== 'virtualInbound-blackhole') fallback.push(chainAuthorization(listener, chain));
    }
  }
  return perPort.length ? perPort : fallback;
}

/** `rbac_access_denied_matched_policy[ns[foo]-policy[deny-all]-rule[0]]` -> the policy name (`none` when no ALLOW matched). */
export function rbacDenialPolicy(details: string | undefined): string | undefined {
  const m = /rbac_access_denied_matched_policy\[(.*)\]/.exec(details ?? '');
  return m ? m[1] : undefined;
}

/** A number in an RBAC permission (`destination_port`), tolerating protojson's strings. */
export function portOf(permission: JsonObject): number | undefined {
  return num(permission, 'destination_port') ?? (typeof field(permission, 'destination_port') === 'string' ? Number(field(permission, 'destination_port')) : undefined);
}
