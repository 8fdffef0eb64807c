import { parse } from 'yaml';
import { ParseError } from '../../errors.js';
import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { asBoolean, asRecord, asString, asStringArray, refFor } from './common.js';

/**
 * The mesh config istiod reads: ConfigMap `istio` (or `istio-<revision>`) in
 * istiod's namespace, key `mesh`, a YAML MeshConfig. Only the fields
 * mesh-doctor's rules use are typed; `raw` keeps the rest.
 * Defaults are istio's (pkg/config/mesh/mesh.go DefaultMeshConfig):
 * outboundTrafficPolicy ALLOW_ANY, enableAutoMtls true (since 1.5),
 * rootNamespace istio-system, trustDomain cluster.local, exportTo defaults `*`.
 */
export type OutboundTrafficPolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface MeshConfigView {
  outboundTrafficPolicyMode: OutboundTrafficPolicyMode;
  enableAutoMtls: boolean;
  rootNamespace: string;
  trustDomain: string;
  defaultServiceExportTo: string[];
  defaultDestinationRuleExportTo: string[];
  defaultVirtualServiceExportTo: string[];
  /** defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE == "true" */
  dnsCapture: boolean;
  /** defaultConfig.proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE == "true" (gives ServiceEntries without addresses a VIP, with DNS capture) */
  dnsAutoAllocate: boolean;
  /** Fields written in the config (dotted paths), as opposed to defaulted. */
  explicit: string[];
  /** The ConfigMap it came from; undefined when defaults were used. */
  source?: ObjectRef;
  raw: Record<string, unknown>;
}

export const DEFAULT_MESH_CONFIG: Readonly<MeshConfigView> = Object.freeze({
  outboundTrafficPolicyMode: 'ALLOW_ANY',
  enableAutoMtls: true,
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  defaultServiceExportTo: ['*'],
  defaultDestinationRuleExportTo: ['*'],
  defaultVirtualServiceExportTo: ['*'],
  dnsCapture: false,
  dnsAutoAllocate: false,
  explicit: [],
  raw: {},
}) as MeshConfigView;

/** Parses the `mesh` key's YAML. Throws ParseError when it is not YAML or not a mapping. */
export function parseMeshConfig(text: string, what = 'mesh config'): MeshConfigView {
  let value: unknown;
  try {
    value = parse(text, { prettyErrors: false, uniqueKeys: false, maxAliasCount: 1000 });
  } catch (error) {
    throw new ParseError(what, `not valid YAML (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
  if (value === null || value === undefined) return meshConfigFromObject({});
  const record = asRecord(value);
  if (!record) throw new ParseError(what, 'is not a YAML mapping');
  return meshConfigFromObject(record);
}

export function meshConfigFromObject(raw: Record<string, unknown>): MeshConfigView {
  const explicit: string[] = [];
  const out: MeshConfigView = { ...DEFAULT_MESH_CONFIG, explicit, raw };
  const mode = asString(asRecord(raw.outboundTrafficPolicy)?.mode);
  if (mode === 'REGISTRY_ONLY' || mode === 'ALLOW_ANY') {
    out.outboundTrafficPolicyMode = mode;
    explicit.push('outboundTrafficPolicy.mode');
  }
  const autoMtls = asBoolean(raw.enableAutoMtls);
  if (autoMtls !== undefined) {
    out.enableAutoMtls = autoMtls;
    explicit.push('enableAutoMtls');
  }
  const root = asString(raw.rootNamespace);
  if (root) {
    out.rootNamespace = root;
    explicit.push('rootNamespace');
  }
  const trustDomain = asString(raw.trustDomain);
  if (trustDomain) {
    out.trustDomain = trustDomain;
    explicit.push('trustDomain');
  }
  for (const [key, field] of [
    ['defaultServiceExportTo', 'defaultServiceExportTo'],
    ['defaultDestinationRuleExportTo', 'defaultDestinationRuleExportTo'],
    ['defaultVirtualServiceExportTo', 'defaultVirtualServiceExportTo'],
  ] as const) {
    const values = asStringArray(raw[key]);
    if (values.length > 0) {
      out[field] = values;
      explicit.push(key);
    }
  }
  const proxyMetadata = asRecord(asRecord(raw.defaultConfig)?.proxyMetadata);
  if (proxyMetadata) {
    out.dnsCapture = asString(proxyMetadata.ISTIO_META_DNS_CAPTURE) === 'true';
    out.dnsAutoAllocate = asString(proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE) === 'true';
  }
  return out;
}

export interface MeshConfigLookup {
  /** `istio-<revision>` is preferred when given. */
  revision?: string;
  /** Where istiod runs; default istio-system. */
  istiodNamespace?: string;
}

/**
 * The mesh config among a set's ConfigMaps: `istio-<revision>` then `istio` in
 * istiod's namespace (then any namespace). Returns the defaults, with
 * `source` undefined, when there is none. Throws ParseError when the
 * ConfigMap's `mesh` key is not YAML.
 */
export function meshConfigFrom(set: ResourceSet, lookup: MeshConfigLookup = {}): MeshConfigView {
  const configMap = findMeshConfigMap(set, lookup);
  if (!configMap) return { ...DEFAULT_MESH_CONFIG, explicit: [], raw: {} };
  const data = asRecord(configMap.data);
  const text = asString(data?.mesh) ?? '';
  const ref = refFor(configMap);
  const view = parseMeshConfig(text, `mesh config in ConfigMap ${ref.namespace ?? ''}/${ref.name}`);
  return { ...view, source: ref };
}

export function findMeshConfigMap(set: ResourceSet, lookup: MeshConfigLookup = {}): KubeObject | undefined {
  const ns = lookup.istiodNamespace ?? 'istio-system';
  const names = lookup.revision && lookup.revision !== 'default' ? [`istio-${lookup.revision}`, 'istio'] : ['istio'];
  for (const name of names) {
    const found = set.get('ConfigMap', ns, name);
    if (found && asRecord(found.data)) return found;
  }
  for (const name of names) {
    const found = set.of('ConfigMap').find((o) => o.metadata?.name === name && asString(asRecord(o.data)?.mesh) !== undefined);
    if (found) return found;
  }
  return undefined;
}
