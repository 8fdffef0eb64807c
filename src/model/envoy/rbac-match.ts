/**
 * Evaluates Envoy RBAC policies against one request, the way Envoy does
 * (source/extensions/filters/common/rbac/matchers.cc, engine_impl.cc): a
 * policy matches when any permission and any principal match; an ALLOW
 * filter lets a request through when some policy matches, a DENY filter
 * stops it when some policy matches, and the filters run in HTTP filter
 * order. What the request does not tell (a header not given, the source IP)
 * is `unknown`, never guessed.
 */
import { type JsonObject, bool, field, isObject, obj, objs, str } from './json.js';
import { portOf, type ChainAuthorization, type RbacFilter, type RbacPolicy } from './rbac.js';

export type Tri = boolean | 'unknown';

export interface RbacRequest {
  method: string;
  path: string;
  port: number;
  /** `:authority` / Host. */
  host?: string;
  /** The URI SAN of the client certificate the server saw; undefined: none (plaintext, or TLS without one). */
  peerPrincipal?: string;
  headers?: Record<string, string>;
}

/** One leaf's verdict and, when it did not match, why in words. */
interface Leaf {
  result: Tri;
  why?: string;
}

export interface PolicyMatch {
  policy: RbacPolicy;
  permission: Tri;
  principal: Tri;
  matched: Tri;
  /** Why the policy did not match (or could not be decided), one line per leaf that failed. */
  why: string[];
}

export type AuthzOutcome =
  | { kind: 'allowed' }
  | { kind: 'denied-by-deny'; policy: RbacPolicy; filter: RbacFilter }
  | { kind: 'denied-no-allow'; filter: RbacFilter }
  | { kind: 'ext-authz'; policy: RbacPolicy; filter: RbacFilter }
  | { kind: 'unknown'; because: string };

export interface FilterEvaluation {
  filter: RbacFilter;
  matches: PolicyMatch[];
}

export interface AuthzDecision {
  outcome: AuthzOutcome;
  evaluations: FilterEvaluation[];
}

const and = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === 'unknown' || b === 'unknown' ? 'unknown' : true);
const or = (a: Tri, b: Tri): Tri => (a === true || b === true ? true : a === 'unknown' || b === 'unknown' ? 'unknown' : false);
const not = (a: Tri): Tri => (a === 'unknown' ? a : !a);

/** envoy.type.matcher.v3.StringMatcher (and the deprecated header `exact_match`-style fields). */
export function stringMatches(matcher: JsonObject | undefined, value: string): Tri {
  if (!matcher) return 'unknown';
  const ignoreCase = bool(matcher, 'ignore_case') ?? false;
  const v = ignoreCase ? value.toLowerCase() : value;
  const want = (key: string): string | undefined => {
    const s = str(matcher, key);
    return s !== undefined && ignoreCase ? s.toLowerCase() : s;
  };
  const exact = want('exact');
  if (exact !== undefined) return v === exact;
  const prefix = want('prefix');
  if (prefix !== undefined) return v.startsWith(prefix);
  const suffix = want('suffix');
  if (suffix !== undefined) return v.endsWith(suffix);
  const contains = want('contains');
  if (contains !== undefined) return v.includes(contains);
  const regex = str(obj(matcher, 'safe_regex'), 'regex');
  if (regex !== undefined) {
    try {
      // RE2 full match; the patterns Istio writes (`.*/ns/foo/.*`, `.+`) mean the same in JS.
      return new RegExp(`^(?:${regex})$`, ignoreCase ? 'i' : '').test(value);
    } catch {
      return 'unknown';
    }
  }
  return 'unknown';
}

function describe(matcher: JsonObject | undefined): string {
  if (!matcher) return '?';
  for (const key of ['exact', 'prefix', 'suffix', 'contains']) {
    const s = str(matcher, key);
    if (s !== undefined) return `${key} "${s}"`;
  }
  const regex = str(obj(matcher, 'safe_regex'), 'regex');
  return regex !== undefined ? `regex "${regex}"` : JSON.stringify(matcher);
}

function header(h: JsonObject, request: RbacRequest): Leaf {
  const name = (str(h, 'name') ?? '').toLowerCase();
  const value = name === ':method' ? request.method : name === ':path' ? request.path : name === ':authority' || name === 'host' ? request.host : request.headers?.[name];
  const inverted = bool(h, 'invert_match') ?? false;
  if (value === undefined) {
    if (name.startsWith(':') || request.headers) return { result: inverted, why: `header ${name} absent` };
    return { result: 'unknown', why: `header ${name}: not known for this request` };
  }
  const matcher = obj(h, 'string_match') ?? (str(h, 'exact_match') !== undefined ? { exact: str(h, 'exact_match') } : str(h, 'prefix_match') !== undefined ? { prefix: str(h, 'prefix_match') } : str(h, 'suffix_match') !== undefined ? { suffix: str(h, 'suffix_match') } : undefined);
  const present = bool(h, 'present_match');
  const r = matcher ? stringMatches(matcher, value) : present !== undefined ? present : 'unknown';
  const result = inverted ? not(r) : r;
  return { result, ...(result === true ? {} : { why: `${name} is "${value}", the rule wants ${inverted ? 'not ' : ''}${matcher ? describe(matcher) : 'presence'}` }) };
}

function permission(p: JsonObject, request: RbacRequest, why: string[]): Tri {
  if (bool(p, 'any') === true) return true;
  const andRules = obj(p, 'and_rules');
  if (andRules) return objs(andRules, 'rules').reduce<Tri>((acc, r) => and(acc, permission(r, request, why)), true);
  const orRules = obj(p, 'or_rules');
  if (orRules) return anyOf(objs(orRules, 'rules').map((r) => (w: string[]) => permission(r, request, w)), why);
  const notRule = obj(p, 'not_rule');
  if (notRule) return notOf(permission(notRule, request, []), 'a not_rule matched', why);
  const h = obj(p, 'header');
  if (h) return leaf(header(h, request), why);
  const urlPath = obj(obj(p, 'url_path'), 'path');
  if (urlPath) {
    const path = request.path.split('?')[0];
    return leaf({ result: stringMatches(urlPath, path), why: `path "${path}" is not ${describe(urlPath)}` }, why);
  }
  const port = portOf(p);
  if (port !== undefined) return leaf({ result: port === request.port, why: `port ${request.port} is not ${port}` }, why);
  return leaf({ result: 'unknown', why: `permission ${Object.keys(p).join(',')} is not evaluated offline` }, why);
}

function principal(id: JsonObject, request: RbacRequest, why: string[]): Tri {
  if (bool(id, 'any') === true) return true;
  const andIds = obj(id, 'and_ids');
  if (andIds) return objs(andIds, 'ids').reduce<Tri>((acc, r) => and(acc, principal(r, request, why)), true);
  const orIds = obj(id, 'or_ids');
  if (orIds) return anyOf(objs(orIds, 'ids').map((r) => (w: string[]) => principal(r, request, w)), why);
  const notId = obj(id, 'not_id');
  if (notId) return notOf(principal(notId, request, []), 'a not_id matched', why);
  if (isObject(field(id, 'authenticated'))) {
    const name = obj(obj(id, 'authenticated'), 'principal_name');
    // matchers.cc AuthenticatedMatcher: no TLS peer certificate, no match.
    if (request.peerPrincipal === undefined) return leaf({ result: false, why: `the rule wants a peer identity (${describe(name)}), and the connection carried no client certificate` }, why);
    if (!name) return true;
    return leaf({ result: stringMatches(name, request.peerPrincipal), why: `peer identity ${request.peerPrincipal} is not ${describe(name)}` }, why);
  }
  const h = obj(id, 'header');
  if (h) return leaf(header(h, request), why);
  const metadata = obj(id, 'metadata');
  if (metadata) return leaf({ result: 'unknown', why: `metadata of ${str(metadata, 'filter') ?? '?'} (${objs(metadata, 'path').map((k) => str(k, 'key')).join('.')}): set by a filter at request time` }, why);
  return leaf({ result: 'unknown', why: `principal ${Object.keys(id).join(',')} (source address or filter state) is not evaluated offline` }, why);
}

function leaf(l: Leaf, why: string[]): Tri {
  if (l.result !== true && l.why) why.push(l.why);
  return l.result;
}

function anyOf(items: Array<(why: string[]) => Tri>, why: string[]): Tri {
  const reasons: string[] = [];
  let result: Tri = false;
  for (const item of items) {
    const own: string[] = [];
    const r = item(own);
    result = or(result, r);
    if (r === true) return true;
    reasons.push(...own);
  }
  why.push(...reasons);
  return result;
}

function notOf(inner: Tri, reason: string, why: string[]): Tri {
  const r = not(inner);
  if (r === false) why.push(reason);
  return r;
}

/**
 * A metadata principal reads what another filter wrote (Istio's
 * requestPrincipals read `envoy.filters.http.jwt_authn`'s payload): when the
 * chain has no such filter, nothing ever writes it and the leaf cannot match.
 */
function principalWithFilters(id: JsonObject, request: RbacRequest, httpFilters: readonly string[], why: string[]): Tri {
  const text = JSON.stringify(id);
  const writer = /"filter":"([^"]+)"/.exec(text)?.[1];
  if (writer && !httpFilters.includes(writer)) {
    why.push(`the rule reads metadata of ${writer}, and this filter chain has no ${writer} filter: nothing sets it`);
    return false;
  }
  return principal(id, request, why);
}

export function matchPolicy(policy: RbacPolicy, request: RbacRequest, chain: Pick<ChainAuthorization, 'httpFilters'>): PolicyMatch {
  const why: string[] = [];
  const permissionResult = policy.permissions.length ? anyOf(policy.permissions.map((p) => (w: string[]) => permission(p, request, w)), why) : false;
  const principalResult = policy.principals.length ? anyOf(policy.principals.map((p) => (w: string[]) => principalWithFilters(p, request, chain.httpFilters, w)), why) : false;
  return { policy, permission: permissionResult, principal: principalResult, matched: and(permissionResult, principalResult), why };
}

/** The first policy (by name) that matches, or whether none can. */
function firstMatch(matches: PolicyMatch[]): { policy?: RbacPolicy; undecided: boolean } {
  const hit = matches.find((m) => m.matched === true);
  return hit ? { policy: hit.policy, undecided: false } : { undecided: matches.some((m) => m.matched === 'unknown') };
}

/**
 * Runs a chain's RBAC filters in order over the request: Envoy's decision, or
 * why it cannot be told. Every filter is evaluated (an ALLOW after the DENY
 * that decided still says whether it would have allowed the request).
 */
export function decideAuthorization(chain: ChainAuthorization, request: RbacRequest): AuthzDecision {
  const evaluations: FilterEvaluation[] = chain.rbac.map((filter) => ({
    filter,
    matches: ((filter.purpose === 'custom-trigger' ? filter.shadow : filter.rules)?.policies ?? []).map((p) => matchPolicy(p, request, chain)),
  }));
  return { outcome: outcomeOf(evaluations), evaluations };
}

function outcomeOf(evaluations: FilterEvaluation[]): AuthzOutcome {
  for (const { filter, matches } of evaluations) {
    const rules = filter.purpose === 'custom-trigger' ? filter.shadow : filter.rules;
    if (!rules) continue;
    const { policy, undecided } = firstMatch(matches);
    if (undecided && !policy) {
      const reason = matches.flatMap((m) => m.why).find((w) => w.includes('offline') || w.includes('not known') || w.includes('request time'));
      return { kind: 'unknown', because: `${filter.layer} RBAC ${rules.action} filter: ${reason ?? 'a policy cannot be evaluated offline'}` };
    }
    if (filter.purpose === 'custom-trigger') {
      if (policy) return { kind: 'ext-authz', policy, filter };
      continue;
    }
    if (rules.action === 'DENY' && policy) return { kind: 'denied-by-deny', policy, filter };
    if (rules.action === 'ALLOW' && !policy) return { kind: 'denied-no-allow', filter };
  }
  return { kind: 'allowed' };
}
