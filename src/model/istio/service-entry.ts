import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { asArray, asLabels, asNumber, asRecord, asString, asStringArray, namespaceOf, refFor, type Labels } from './common.js';
import { serviceEntryProtocol, type DerivedProtocol } from './protocol.js';

export type ServiceEntryLocation = 'MESH_EXTERNAL' | 'MESH_INTERNAL';
export type ServiceEntryResolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';

export interface ServiceEntryPortView {
  index: number;
  name?: string;
  number: number;
  targetPort?: number;
  /** `ports[].protocol` as written. */
  declaredProtocol?: string;
  /** Istio's protocol: `protocol` only (see protocol.ts); undefined = auto-detect. */
  protocol: DerivedProtocol;
  raw: Record<string, unknown>;
}

export interface ServiceEntryEndpointView {
  address?: string;
  ports?: Record<string, number>;
  labels?: Labels;
  network?: string;
}

export interface ServiceEntryView {
  kind: 'ServiceEntry';
  namespace: string;
  name: string;
  hosts: string[];
  /** `spec.addresses` (IPs or CIDRs). Empty: the sidecar binds its listeners to 0.0.0.0. */
  addresses: string[];
  /** `status.addresses[].value`: addresses Istio allocated itself (auto-allocation v2), when present. */
  allocatedAddresses: string[];
  ports: ServiceEntryPortView[];
  /** Enum default (0) is MESH_EXTERNAL. */
  location: ServiceEntryLocation;
  /** Enum default (0) is NONE. */
  resolution: ServiceEntryResolution;
  endpoints: ServiceEntryEndpointView[];
  workloadSelector?: Labels;
  exportTo?: string[];
  ref: ObjectRef;
  object: KubeObject;
}

export function serviceEntryView(object: KubeObject): ServiceEntryView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const ports: ServiceEntryPortView[] = [];
  asArray(spec.ports).forEach((entry, index) => {
    const raw = asRecord(entry);
    if (!raw) return;
    const number = asNumber(raw.number);
    if (number === undefined) return;
    const name = asString(raw.name);
    const declaredProtocol = asString(raw.protocol);
    const targetPort = asNumber(raw.targetPort);
    ports.push({
      index,
      ...(name !== undefined ? { name } : {}),
      number,
      ...(targetPort !== undefined && targetPort > 0 ? { targetPort } : {}),
      ...(declaredProtocol !== undefined ? { declaredProtocol } : {}),
      protocol: serviceEntryProtocol({ name, protocol: declaredProtocol }),
      raw,
    });
  });
  const endpoints: ServiceEntryEndpointView[] = [];
  for (const entry of asArray(spec.endpoints)) {
    const e = asRecord(entry);
    if (!e) continue;
    const address = asString(e.address);
    const portsRecord = asRecord(e.ports);
    let endpointPorts: Record<string, number> | undefined;
    if (portsRecord) {
      endpointPorts = {};
      for (const [k, v] of Object.entries(portsRecord)) {
        const n = asNumber(v);
        if (n !== undefined) endpointPorts[k] = n;
      }
    }
    const labels = asLabels(e.labels);
    const network = asString(e.network);
    endpoints.push({
      ...(address !== undefined ? { address } : {}),
      ...(endpointPorts ? { ports: endpointPorts } : {}),
      ...(labels ? { labels } : {}),
      ...(network !== undefined ? { network } : {}),
    });
  }
  const location = asString(spec.location) === 'MESH_INTERNAL' ? 'MESH_INTERNAL' : 'MESH_EXTERNAL';
  const resolutionRaw = asString(spec.resolution);
  const resolution: ServiceEntryResolution = resolutionRaw === 'STATIC' || resolutionRaw === 'DNS' || resolutionRaw === 'DNS_ROUND_ROBIN' || resolutionRaw === 'DYNAMIC_DNS' ? resolutionRaw : 'NONE';
  const selector = asLabels(asRecord(spec.workloadSelector)?.labels);
  const exportTo = Array.isArray(spec.exportTo) ? asStringArray(spec.exportTo) : undefined;
  const status = asRecord(object.status);
  const allocatedAddresses = asArray(status?.addresses)
    .map((a) => asString(asRecord(a)?.value))
    .filter((v): v is string => v !== undefined);
  return {
    kind: 'ServiceEntry',
    namespace,
    name: String(object.metadata?.name ?? ''),
    hosts: asStringArray(spec.hosts),
    addresses: asStringArray(spec.addresses),
    allocatedAddresses,
    ports,
    location,
    resolution,
    endpoints,
    ...(selector && Object.keys(selector).length > 0 ? { workloadSelector: selector } : {}),
    ...(exportTo && exportTo.length > 0 ? { exportTo } : {}),
    ref: refFor(object, namespace),
    object,
  };
}

export function serviceEntries(set: ResourceSet): ServiceEntryView[] {
  return set.view('ServiceEntry', () => set.of('ServiceEntry').map(serviceEntryView));
}
