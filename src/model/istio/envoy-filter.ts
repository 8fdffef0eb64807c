/**
 * EnvoyFilter (networking.istio.io/v1alpha3): patches istiod applies to the
 * generated Envoy config of the workloads it selects. An EnvoyFilter in the
 * workload's namespace or the root namespace (istio-system) applies when its
 * workloadSelector (or, before 1.6, workloadLabels) matches, or it has none
 * (pilot/pkg/model/envoyfilter.go). The patches it adds are not marked in
 * Envoy's config, so finding the EnvoyFilter behind a filter Envoy rejects
 * means matching the filter the rejection names against each patch's value.
 */
import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { labelsMatch, type Labels } from './common.js';

export interface EnvoyFilterPatch {
  applyTo?: string;
  /** SIDECAR_INBOUND, SIDECAR_OUTBOUND, GATEWAY, ANY */
  context?: string;
  operation?: string;
  /** The patch's value as written (a filter, a cluster, a listener fragment). */
  value: unknown;
}

export interface EnvoyFilterView {
  ref: ObjectRef;
  object: KubeObject;
  patches: EnvoyFilterPatch[];
}

function record(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

function readPatches(spec: Record<string, unknown>): EnvoyFilterPatch[] {
  const patches = Array.isArray(spec.configPatches) ? spec.configPatches : [];
  const out: EnvoyFilterPatch[] = patches.map((p) => {
    const patch = record(record(p)?.patch);
    const match = record(record(p)?.match);
    return {
      ...(typeof record(p)?.applyTo === 'string' ? { applyTo: record(p)!.applyTo as string } : {}),
      ...(typeof match?.context === 'string' ? { context: match.context } : {}),
      ...(typeof patch?.operation === 'string' ? { operation: patch.operation } : {}),
      value: patch?.value,
    };
  });
  // The pre-1.2 form: spec.filters[] with filterName, filterType, filterConfig.
  const legacy = Array.isArray(spec.filters) ? spec.filters : [];
  for (const f of legacy) out.push({ applyTo: 'HTTP_FILTER', value: { name: record(f)?.filterName, config: record(f)?.filterConfig } });
  return out;
}

/** The EnvoyFilters that apply to a workload (namespace, labels), given the mesh's root namespace. */
export function envoyFiltersFor(resources: ResourceSet, workload: { namespace: string; labels: Labels }, rootNamespace = 'istio-system'): EnvoyFilterView[] {
  return resources.of('EnvoyFilter')
    .filter((o) => {
      const ns = o.metadata.namespace ?? 'default';
      if (ns !== workload.namespace && ns !== rootNamespace) return false;
      const spec = record(o.spec) ?? {};
      const selector = (record(record(spec.workloadSelector)?.labels) ?? record(spec.workloadLabels)) as Labels | undefined;
      return !selector || Object.keys(selector).length === 0 || labelsMatch(selector, workload.labels);
    })
    .map((o) => ({ ref: { kind: 'EnvoyFilter', namespace: o.metadata.namespace ?? 'default', name: o.metadata.name }, object: o, patches: readPatches(record(o.spec) ?? {}) }));
}

/**
 * The filters or extensions an Envoy rejection names: the message types of a
 * proto validation failure (`LuaValidationError.DefaultSourceCode` -> `Lua`),
 * an extension without a registered implementation (`'istio.metadata_exchange'`),
 * an unknown `@type`. Envoy's own container types (Listener, FilterChain,
 * HttpConnectionManager, ...) are left out: every listener has them.
 */
export function namedInRejection(details: string): string[] {
  const names = new Set<string>();
  const generic = /^(Listener|FilterChain|Filter|HttpConnectionManager|HttpFilter|RouteConfiguration|VirtualHost|Route|RouteAction|Cluster|TypedExtensionConfig|Any|DataSource|Address|SocketAddress|TransportSocket)$/;
  for (const m of details.matchAll(/\b([A-Z][A-Za-z0-9]*)ValidationError\b/g)) if (!generic.test(m[1]!)) names.add(m[1]!);
  for (const m of details.matchAll(/registered implementation for '([^']+)'/g)) names.add(m[1]!);
  for (const m of details.matchAll(/@type '(?:type\.googleapis\.com\/)?([^']+)'/g)) names.add(m[1]!);
  return [...names];
}

/** The patches of an EnvoyFilter whose value is (or carries) one of the named filters. */
export function patchesNaming(filter: EnvoyFilterView, names: readonly string[]): EnvoyFilterPatch[] {
  return filter.patches.filter((p) => {
    const text = JSON.stringify(p.value ?? '').toLowerCase();
    return names.some((n) => {
      const name = n.toLowerCase();
      // A validation type names the proto (Lua -> envoy.extensions.filters.http.lua.v3.Lua, envoy.lua, envoy.filters.http.lua).
      return text.includes(`"${name}"`) || text.includes(`.${name}"`) || text.includes(`.${name}.`) || new RegExp(`[".]${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(text);
    });
  });
}
