import { stringify } from 'yaml';
import type { KubeObject, ObjectRef } from '../k8s/resources.js';

/**
 * Small, total readers over the untyped `spec` of Kubernetes/Istio objects.
 * The views in this folder read user-written YAML: any field may be missing
 * or of the wrong type, and a view must then see "absent", never throw.
 */

export type Labels = Record<string, string>;

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Numbers as YAML gives them; also "8080" (kubectl never writes it, people do). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export function asStringArray(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string');
}

/** A label map: only string values survive (numbers are stringified, as the API server would reject them anyway). */
export function asLabels(value: unknown): Labels | undefined {
  const record = asRecord(value);
  if (!record) return undefined;
  const out: Labels = {};
  for (const [key, v] of Object.entries(record)) {
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
  }
  return out;
}

/** `selector ⊆ labels`. An empty selector selects everything (callers decide whether that is meaningful). */
export function labelsMatch(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => Object.prototype.hasOwnProperty.call(labels, key) && labels[key] === value);
}

export function namespaceOf(object: KubeObject, fallback = 'default'): string {
  const ns = object.metadata?.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : fallback;
}

export function refFor(object: KubeObject, namespace?: string): ObjectRef {
  return { kind: object.kind, namespace: namespace ?? object.metadata?.namespace, name: object.metadata?.name ?? '' };
}

export function creationTime(object: KubeObject): number {
  const raw = object.metadata?.creationTimestamp;
  const ms = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Oldest first, then by namespace/name: Istio's tie-break for configs of equal standing (sortConfigByCreationTime). */
export function byAge<T extends { object: KubeObject; namespace: string; name: string }>(a: T, b: T): number {
  const ta = creationTime(a.object);
  const tb = creationTime(b.object);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
}

// ---------------------------------------------------------------------------
// Hostnames (pkg/config/host/name.go)

/**
 * Istio hostname matching (host.Name.Matches): exact, or a wildcard `*.example.com`
 * matching any name ending in `.example.com` (and a more specific wildcard), `*` matching all.
 */
export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === hostname) return true;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    if (hostname.startsWith('*')) return hostname.slice(1).endsWith(suffix);
    return hostname.endsWith(suffix);
  }
  // A concrete pattern also "matches" a wildcard name that covers it (Matches is symmetric for wildcards).
  if (hostname.startsWith('*')) return pattern.endsWith(hostname.slice(1));
  return false;
}

export function isWildcardHost(hostname: string): boolean {
  return hostname.startsWith('*');
}

/**
 * ResolveShortnameToFQDN (pilot/pkg/model/config.go): a host without a dot is
 * qualified with the config's namespace and `svc.<domainSuffix>`; anything with
 * a dot (even `httpbin.foo`) is taken as written; `*` stays `*`.
 */
export function resolveShortname(hostname: string, namespace: string, domainSuffix = 'cluster.local'): string {
  if (hostname === '' || hostname === '*') return hostname;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(hostname) || hostname.includes(':')) return hostname;
  if (!hostname.includes('.')) return `${hostname}.${namespace}.svc.${domainSuffix}`;
  return hostname;
}

/** `name.ns.svc.cluster.local` -> `ns`, when the host is a Kubernetes Service name. */
export function kubeServiceNamespace(hostname: string, domainSuffix = 'cluster.local'): string | undefined {
  const suffix = `.svc.${domainSuffix}`;
  if (!hostname.endsWith(suffix)) return undefined;
  const parts = hostname.slice(0, -suffix.length).split('.');
  return parts.length === 2 && parts[0] !== '*' ? parts[1] : undefined;
}

// ---------------------------------------------------------------------------
// exportTo (pkg/config/visibility; PushContext.initServiceRegistry / SetDestinationRules)

/**
 * Whether a config in `ownerNamespace` with `exportTo` (undefined = not set,
 * then `defaults` from mesh config) is visible to a client in `clientNamespace`.
 * Mirrors initServiceRegistry: `*` wins over everything, then `~` hides from all,
 * `.` (or the owner's own namespace) means private, other values are namespaces.
 */
export function exportedTo(exportTo: string[] | undefined, ownerNamespace: string, clientNamespace: string, defaults: string[] = ['*']): boolean {
  const values = exportTo && exportTo.length > 0 ? exportTo : defaults;
  if (values.length === 0 || values.includes('*')) return true;
  if (values.includes('~')) return false;
  return values.some((v) => (v === '.' ? ownerNamespace : v) === clientNamespace);
}

export function describeExportTo(exportTo: string[] | undefined, defaults: string[] = ['*']): string {
  if (!exportTo || exportTo.length === 0) return `exportTo not set (mesh default ${JSON.stringify(defaults)})`;
  return `exportTo ${JSON.stringify(exportTo)}`;
}

// ---------------------------------------------------------------------------
// Evidence helpers

const KUBECTL_RESOURCE: Record<string, string> = {
  Service: 'service',
  ServiceEntry: 'serviceentry',
  DestinationRule: 'destinationrule',
  PeerAuthentication: 'peerauthentication',
  Sidecar: 'sidecar',
  ConfigMap: 'configmap',
  MeshPolicy: 'meshpolicy',
  Policy: 'policies.authentication.istio.io',
  VirtualService: 'virtualservice',
  Pod: 'pod',
};

/** The command that shows an object: `kubectl get serviceentry traefik -n ingress -o yaml`. */
export function kubectlGet(ref: ObjectRef): string {
  const resource = KUBECTL_RESOURCE[ref.kind] ?? ref.kind.toLowerCase();
  const ns = ref.namespace ? ` -n ${ref.namespace}` : '';
  return `kubectl get ${resource} ${ref.name}${ns} -o yaml`;
}

/** YAML lines for an excerpt, without a trailing newline. */
export function toYaml(value: unknown): string {
  try {
    // kubectl's layout: sequences not indented under their key.
    return stringify(value, { lineWidth: 0, indentSeq: false }).trimEnd();
  } catch {
    return String(value);
  }
}

/** An Istio API duration (`500ms`, `1s`, `1m30s`, `3600s`) in seconds; a bare number is seconds. */
export function istioDurationSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (!parts.length) return /^\d+$/.test(text) ? Number(text) : undefined;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((t, [, v, u]) => t + Number(v) * unit[u], 0);
}
