import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import {
  asArray, asLabels, asNumber, asRecord, asString, asStringArray, byAge, exportedTo, hostMatches, isWildcardHost,
  kubeServiceNamespace, labelsMatch, namespaceOf, refFor, resolveShortname, type Labels,
} from './common.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from './mesh-config.js';

export type TlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

export interface TlsSettingsView {
  /** As written; an unknown string is kept so a rule can quote it. */
  mode?: TlsMode | string;
  sni?: string;
  credentialName?: string;
  subjectAltNames?: string[];
}

export interface ConnectionPoolView {
  tcp?: { maxConnections?: number; connectTimeout?: string };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: string;
  };
}

export interface OutlierDetectionView {
  /** Legacy (deprecated) field: in Istio it sets consecutive5xxErrors when that is unset. */
  consecutiveErrors?: number;
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  consecutiveLocalOriginFailures?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
  /** consecutive5xxErrors, else the legacy consecutiveErrors. */
  effectiveConsecutive5xxErrors?: number;
}

export interface TrafficPolicyView {
  tls?: TlsSettingsView;
  connectionPool?: ConnectionPoolView;
  outlierDetection?: OutlierDetectionView;
  loadBalancer?: Record<string, unknown>;
  portLevelSettings: Array<{ port: number; policy: TrafficPolicyView }>;
  raw: Record<string, unknown>;
}

export interface SubsetView {
  name: string;
  labels: Labels;
  trafficPolicy?: TrafficPolicyView;
}

export interface DestinationRuleView {
  kind: 'DestinationRule';
  namespace: string;
  name: string;
  /** `spec.host` as written (`httpbin`, `*.local`). */
  host: string;
  /** After ResolveShortnameToFQDN: `httpbin` in foo -> `httpbin.foo.svc.cluster.local`. */
  fqdn: string;
  exportTo?: string[];
  workloadSelector?: Labels;
  trafficPolicy?: TrafficPolicyView;
  subsets: SubsetView[];
  ref: ObjectRef;
  object: KubeObject;
}

function duration(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return `${value}s`;
  return undefined;
}

function defined<T extends Record<string, unknown>>(record: T): T | undefined {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
}

export function trafficPolicyView(value: unknown): TrafficPolicyView | undefined {
  const raw = asRecord(value);
  if (!raw) return undefined;
  const tlsRaw = asRecord(raw.tls);
  const tls = tlsRaw
    ? {
        ...(asString(tlsRaw.mode) !== undefined ? { mode: asString(tlsRaw.mode) } : {}),
        ...(asString(tlsRaw.sni) !== undefined ? { sni: asString(tlsRaw.sni) } : {}),
        ...(asString(tlsRaw.credentialName) !== undefined ? { credentialName: asString(tlsRaw.credentialName) } : {}),
        ...(Array.isArray(tlsRaw.subjectAltNames) ? { subjectAltNames: asStringArray(tlsRaw.subjectAltNames) } : {}),
      }
    : undefined;
  const poolRaw = asRecord(raw.connectionPool);
  let connectionPool: ConnectionPoolView | undefined;
  if (poolRaw) {
    const tcpRaw = asRecord(poolRaw.tcp);
    const httpRaw = asRecord(poolRaw.http);
    const tcp = tcpRaw ? defined({ maxConnections: asNumber(tcpRaw.maxConnections), connectTimeout: duration(tcpRaw.connectTimeout) }) : undefined;
    const http = httpRaw
      ? defined({
          http1MaxPendingRequests: asNumber(httpRaw.http1MaxPendingRequests),
          http2MaxRequests: asNumber(httpRaw.http2MaxRequests),
          maxRequestsPerConnection: asNumber(httpRaw.maxRequestsPerConnection),
          maxRetries: asNumber(httpRaw.maxRetries),
          idleTimeout: duration(httpRaw.idleTimeout),
        })
      : undefined;
    connectionPool = { ...(tcp ? { tcp } : {}), ...(http ? { http } : {}) };
  }
  const odRaw = asRecord(raw.outlierDetection);
  let outlierDetection: OutlierDetectionView | undefined;
  if (odRaw) {
    const consecutiveErrors = asNumber(odRaw.consecutiveErrors);
    const consecutive5xxErrors = asNumber(odRaw.consecutive5xxErrors);
    outlierDetection = {
      ...defined({
        consecutiveErrors,
        consecutive5xxErrors,
        consecutiveGatewayErrors: asNumber(odRaw.consecutiveGatewayErrors),
        consecutiveLocalOriginFailures: asNumber(odRaw.consecutiveLocalOriginFailures),
        interval: duration(odRaw.interval),
        baseEjectionTime: duration(odRaw.baseEjectionTime),
        maxEjectionPercent: asNumber(odRaw.maxEjectionPercent),
        minHealthPercent: asNumber(odRaw.minHealthPercent),
        effectiveConsecutive5xxErrors: consecutive5xxErrors ?? consecutiveErrors,
      }),
    };
  }
  const portLevelSettings: TrafficPolicyView['portLevelSettings'] = [];
  for (const entry of asArray(raw.portLevelSettings)) {
    const record = asRecord(entry);
    const port = asNumber(asRecord(record?.port)?.number);
    const policy = trafficPolicyView({ ...record, portLevelSettings: undefined });
    if (port !== undefined && policy) portLevelSettings.push({ port, policy });
  }
  const loadBalancer = asRecord(raw.loadBalancer);
  return {
    ...(tls ? { tls } : {}),
    ...(connectionPool ? { connectionPool } : {}),
    ...(outlierDetection ? { outlierDetection } : {}),
    ...(loadBalancer ? { loadBalancer } : {}),
    portLevelSettings,
    raw,
  };
}

export function destinationRuleView(object: KubeObject, options: { domainSuffix?: string } = {}): DestinationRuleView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const host = asString(spec.host) ?? '';
  const subsets: SubsetView[] = [];
  for (const entry of asArray(spec.subsets)) {
    const s = asRecord(entry);
    const name = asString(s?.name);
    if (!s || name === undefined) continue;
    const trafficPolicy = trafficPolicyView(s.trafficPolicy);
    subsets.push({ name, labels: asLabels(s.labels) ?? {}, ...(trafficPolicy ? { trafficPolicy } : {}) });
  }
  const selector = asLabels(asRecord(spec.workloadSelector)?.matchLabels);
  const exportTo = Array.isArray(spec.exportTo) ? asStringArray(spec.exportTo) : undefined;
  const trafficPolicy = trafficPolicyView(spec.trafficPolicy);
  return {
    kind: 'DestinationRule',
    namespace,
    name: String(object.metadata?.name ?? ''),
    host,
    fqdn: resolveShortname(host, namespace, options.domainSuffix),
    ...(exportTo && exportTo.length > 0 ? { exportTo } : {}),
    ...(selector && Object.keys(selector).length > 0 ? { workloadSelector: selector } : {}),
    ...(trafficPolicy ? { trafficPolicy } : {}),
    subsets,
    ref: refFor(object, namespace),
    object,
  };
}

export function destinationRules(set: ResourceSet, options: { domainSuffix?: string } = {}): DestinationRuleView[] {
  return set.view(`DestinationRule ${options.domainSuffix ?? ''}`, () => set.of('DestinationRule').map((o) => destinationRuleView(o, options)));
}

/**
 * The effective traffic policy for a port (and subset), after Istio's
 * MergeTrafficPolicy (pilot/pkg/networking/util/util.go):
 * top-level, then its portLevelSettings for the port, then the subset's
 * policy field by field, then the subset's portLevelSettings for the port.
 * Each step replaces whole fields (tls, connectionPool, outlierDetection, loadBalancer).
 */
export function effectivePolicy(rule: DestinationRuleView, options: { port?: number; subset?: string } = {}): { policy: Omit<TrafficPolicyView, 'portLevelSettings' | 'raw'>; sources: Partial<Record<'tls' | 'connectionPool' | 'outlierDetection' | 'loadBalancer', string>> } {
  const policy: Omit<TrafficPolicyView, 'portLevelSettings' | 'raw'> = {};
  const sources: Partial<Record<'tls' | 'connectionPool' | 'outlierDetection' | 'loadBalancer', string>> = {};
  const apply = (p: TrafficPolicyView | undefined, where: string): void => {
    if (!p) return;
    for (const field of ['tls', 'connectionPool', 'outlierDetection', 'loadBalancer'] as const) {
      if (p[field] !== undefined) {
        (policy as Record<string, unknown>)[field] = p[field];
        sources[field] = where;
      }
    }
  };
  const applyWithPorts = (p: TrafficPolicyView | undefined, where: string): void => {
    apply(p, where);
    if (p && options.port !== undefined) {
      const portLevel = p.portLevelSettings.find((s) => s.port === options.port);
      apply(portLevel?.policy, `${where}.portLevelSettings[port ${options.port}]`);
    }
  };
  applyWithPorts(rule.trafficPolicy, 'trafficPolicy');
  if (options.subset !== undefined) {
    const subset = rule.subsets.find((s) => s.name === options.subset);
    applyWithPorts(subset?.trafficPolicy, `subsets[${options.subset}].trafficPolicy`);
  }
  return { policy, sources };
}

/** The TLS mode a client sidecar uses per this rule (absent = the rule says nothing; auto mTLS may then apply). */
export function tlsModeOf(rule: DestinationRuleView, options: { port?: number; subset?: string } = {}): { mode?: string; from?: string } {
  const { policy, sources } = effectivePolicy(rule, options);
  return policy.tls?.mode !== undefined ? { mode: policy.tls.mode, from: sources.tls } : {};
}

// ---------------------------------------------------------------------------
// Lookup (pilot/pkg/model/push_context.go destinationRule, SetDestinationRules;
// pilot/pkg/model/sidecar.go SidecarScope.DestinationRule for workloadSelector)

export type DestinationRuleStep = 'client-namespace' | 'root-namespace-local' | 'service-namespace' | 'root-namespace';

export interface DestinationRuleLookup {
  /** The rule Istio applies, when one does. */
  rule?: DestinationRuleView;
  /** Which lookup step found it. */
  step?: DestinationRuleStep;
  /** Other rules for the same host and namespace that Istio merges into `rule` (oldest wins field by field). */
  mergedWith: DestinationRuleView[];
  /** Rules that match the host but lost to `rule` (e.g. the mesh-wide `*.local`), best first. */
  shadowed: DestinationRuleView[];
  because: string;
}

export interface DestinationRuleClient {
  namespace: string;
  /** The client's labels, for rules with a workloadSelector. */
  labels?: Labels;
}

/**
 * The DestinationRule a client in `client.namespace` gets for `host`:
 *  1. rules in the client's namespace (exportTo unset, `*`, `.` or the namespace) — or, for a client in the
 *     root namespace, the root namespace's private rules;
 *  2. rules exported from the service's namespace (`host`'s namespace for
 *     `name.ns.svc.cluster.local`, or `options.serviceNamespace`);
 *  3. rules exported from the root namespace (mesh-wide `*.local`).
 * In each step an exact host beats a wildcard, and the most specific wildcard
 * wins (MostSpecificHostMatch). Within a namespace, a rule with a
 * workloadSelector applies only to matching clients of that namespace and is
 * preferred over the selector-less one. Several selector-less rules for the
 * same host are merged; the oldest one's fields win.
 */
export function destinationRuleFor(
  host: string,
  client: string | DestinationRuleClient,
  set: ResourceSet,
  options: { mesh?: MeshConfigView; serviceNamespace?: string; domainSuffix?: string } = {},
): DestinationRuleLookup {
  const mesh = options.mesh ?? DEFAULT_MESH_CONFIG;
  const root = mesh.rootNamespace;
  const clientInfo: DestinationRuleClient = typeof client === 'string' ? { namespace: client } : client;
  const clientNs = clientInfo.namespace;
  const all = destinationRules(set, options).filter((r) => r.fqdn !== '');
  const matching = all.filter((r) => hostMatches(r.fqdn, host) && (!isWildcardHost(host) || r.fqdn === host || isWildcardHost(r.fqdn)));
  const exportDefaults = mesh.defaultDestinationRuleExportTo;
  // SetDestinationRules: a rule is namespace-local when exportTo is empty or has `*`, `.` or its own
  // namespace; "private only" when exportTo is empty and the mesh default is `.`, or is exactly one of `.`/its namespace.
  const namespaceLocal = (r: DestinationRuleView): boolean =>
    !r.exportTo || r.exportTo.some((v) => v === '*' || v === '.' || v === r.namespace);
  const privateOnly = (r: DestinationRuleView): boolean => {
    if (!r.exportTo) return exportDefaults.includes('.');
    const values = new Set(r.exportTo);
    return values.size === 1 && (values.has('.') || values.has(r.namespace));
  };
  const selectorApplies = (r: DestinationRuleView): boolean =>
    !r.workloadSelector || (r.namespace === clientNs && clientInfo.labels !== undefined && labelsMatch(r.workloadSelector, clientInfo.labels));

  const steps: Array<{ step: DestinationRuleStep; candidates: DestinationRuleView[]; where: string }> = [];
  if (clientNs !== root) {
    steps.push({ step: 'client-namespace', candidates: matching.filter((r) => r.namespace === clientNs && namespaceLocal(r)), where: `the client's namespace ${clientNs}` });
  } else {
    steps.push({ step: 'root-namespace-local', candidates: matching.filter((r) => r.namespace === root && privateOnly(r)), where: `the root namespace ${root} (private rules)` });
  }
  const serviceNs = options.serviceNamespace ?? kubeServiceNamespace(host, options.domainSuffix);
  if (serviceNs !== undefined) {
    steps.push({
      step: 'service-namespace',
      candidates: matching.filter((r) => r.namespace === serviceNs && !privateOnly(r) && exportedTo(r.exportTo, r.namespace, clientNs, exportDefaults)),
      where: `the service's namespace ${serviceNs}`,
    });
  }
  steps.push({
    step: 'root-namespace',
    candidates: matching.filter((r) => r.namespace === root && !privateOnly(r) && exportedTo(r.exportTo, r.namespace, clientNs, exportDefaults)),
    where: `the root namespace ${root}`,
  });

  let chosen: { rule: DestinationRuleView; step: DestinationRuleStep; mergedWith: DestinationRuleView[]; where: string } | undefined;
  const shadowed: DestinationRuleView[] = [];
  for (const { step, candidates, where } of steps) {
    const applicable = candidates.filter(selectorApplies);
    const best = mostSpecific(host, applicable);
    if (best.length === 0) continue;
    if (!chosen) {
      const withSelector = best.filter((r) => r.workloadSelector).sort(byAge);
      const plain = best.filter((r) => !r.workloadSelector).sort(byAge);
      const rule = withSelector[0] ?? plain[0];
      chosen = { rule, step, mergedWith: withSelector.length > 0 ? [] : plain.slice(1), where };
      shadowed.push(...applicable.filter((r) => r !== rule && !chosen!.mergedWith.includes(r)));
    } else {
      shadowed.push(...applicable.filter((r) => r !== chosen!.rule && !chosen!.mergedWith.includes(r)));
    }
  }
  if (!chosen) {
    return { mergedWith: [], shadowed: [], because: `no DestinationRule for ${host} is visible to namespace ${clientNs}` };
  }
  const unique = shadowed.filter((r, i) => shadowed.indexOf(r) === i);
  const others = unique.length > 0 ? `; it replaces ${unique.map((r) => `${r.namespace}/${r.name} (host ${r.host})`).join(', ')}` : '';
  return {
    rule: chosen.rule,
    step: chosen.step,
    mergedWith: chosen.mergedWith,
    shadowed: unique,
    because: `DestinationRule ${chosen.rule.namespace}/${chosen.rule.name} (host ${chosen.rule.host}) found in ${chosen.where}${others}`,
  };
}

/** MostSpecificHostMatch: exact fqdn first, else the longest wildcard. Returns all rules sharing the winning host. */
function mostSpecific(host: string, rules: DestinationRuleView[]): DestinationRuleView[] {
  const exact = rules.filter((r) => r.fqdn === host);
  if (exact.length > 0) return exact;
  const wildcards = rules.filter((r) => isWildcardHost(r.fqdn));
  if (wildcards.length === 0) return [];
  const longest = Math.max(...wildcards.map((r) => r.fqdn.length));
  const winner = wildcards.find((r) => r.fqdn.length === longest)!.fqdn;
  return wildcards.filter((r) => r.fqdn === winner);
}
