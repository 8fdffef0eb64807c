import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { formatRef } from '../k8s/resources.js';
import {
  asArray, asLabels, asNumber, asRecord, asString, asStringArray, byAge, describeExportTo, exportedTo, hostMatches,
  labelsMatch, namespaceOf, refFor, type Labels,
} from './common.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from './mesh-config.js';
import { serviceEntryView, type ServiceEntryView } from './service-entry.js';
import { serviceView, type ServiceView } from './services.js';

export interface EgressHost {
  // As written: `./*`, `istio-system/*`, `*/httpbin.org`, `~/*`.
  raw: string;
  /** `*`, `.`, `~` or a namespace name. */
  namespace: string;
  /** A hostname, possibly wildcarded. */
  host: string;
}

export interface EgressListenerView {
  port?: { number: number; protocol?: string; name?: string };
  bind?: string;
  captureMode?: string;
  hosts: EgressHost[];
  /** Entries that are not `namespace/host` (validation rejects them; istiod skips them). */
  invalidHosts: string[];
}

export interface SidecarView {
  kind: 'Sidecar';
  namespace: string;
  name: string;
  workloadSelector?: Labels;
  // Empty in the YAML means Istio's default egress `*/*` (pilot/pkg/model/sidecar.go).
  egress: EgressListenerView[];
  egressWritten: boolean;
  outboundTrafficPolicyMode?: string;
  ref: ObjectRef;
  object: KubeObject;
}

export function parseEgressHost(raw: string): EgressHost | undefined {
  const slash = raw.indexOf('/');
  if (slash <= 0 || slash === raw.length - 1) return undefined;
  return { raw, namespace: raw.slice(0, slash), host: raw.slice(slash + 1) };
}

export function sidecarView(object: KubeObject): SidecarView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const egress: EgressListenerView[] = [];
  for (const entry of asArray(spec.egress)) {
    const e = asRecord(entry);
    if (!e) continue;
    const hosts: EgressHost[] = [];
    const invalidHosts: string[] = [];
    for (const h of asStringArray(e.hosts)) {
      const parsed = parseEgressHost(h);
      if (parsed) hosts.push(parsed);
      else invalidHosts.push(h);
    }
    const portRaw = asRecord(e.port);
    const portNumber = asNumber(portRaw?.number);
    const bind = asString(e.bind);
    const captureMode = asString(e.captureMode);
    egress.push({
      ...(portNumber !== undefined ? { port: { number: portNumber, ...(asString(portRaw?.protocol) ? { protocol: asString(portRaw?.protocol) } : {}), ...(asString(portRaw?.name) ? { name: asString(portRaw?.name) } : {}) } } : {}),
      ...(bind !== undefined ? { bind } : {}),
      ...(captureMode !== undefined ? { captureMode } : {}),
      hosts,
      invalidHosts,
    });
  }
  const selector = asLabels(asRecord(spec.workloadSelector)?.labels);
  const mode = asString(asRecord(spec.outboundTrafficPolicy)?.mode);
  return {
    kind: 'Sidecar',
    namespace,
    name: String(object.metadata?.name ?? ''),
    ...(selector && Object.keys(selector).length > 0 ? { workloadSelector: selector } : {}),
    egress: egress.length > 0 ? egress : [{ hosts: [{ raw: '*/*', namespace: '*', host: '*' }], invalidHosts: [] }],
    egressWritten: egress.length > 0,
    ...(mode !== undefined ? { outboundTrafficPolicyMode: mode } : {}),
    ref: refFor(object, namespace),
    object,
  };
}

/** A workload as visibility cares: namespace and labels (a PodView fits). */
export interface WorkloadIdentity {
  namespace: string;
  labels?: Labels;
  name?: string;
}

function describeWorkload(workload: WorkloadIdentity): string {
  return workload.name ? `pod ${workload.namespace}/${workload.name}` : `workloads in namespace ${workload.namespace}`;
}

/**
 * The Sidecar that scopes a workload (pilot/pkg/model/push_context.go
 * getSidecarScope, sidecar.go): a Sidecar in the workload's namespace whose
 * workloadSelector matches its labels (oldest first); else the namespace's
 * Sidecar without selector; else the root namespace's Sidecar without
 * selector; else none (everything exported to the namespace is visible).
 */
export function sidecarFor(workload: WorkloadIdentity, set: ResourceSet, options: { mesh?: MeshConfigView } = {}): { sidecar?: SidecarView; because: string } {
  const root = (options.mesh ?? DEFAULT_MESH_CONFIG).rootNamespace;
  const all = set.of('Sidecar').map(sidecarView);
  const labels = workload.labels ?? {};
  const selected = all.filter((s) => s.namespace === workload.namespace && s.workloadSelector && labelsMatch(s.workloadSelector, labels)).sort(byAge)[0];
  if (selected) return { sidecar: selected, because: `Sidecar ${selected.namespace}/${selected.name} selects ${describeWorkload(workload)} (workloadSelector ${JSON.stringify(selected.workloadSelector)})` };
  const namespaceDefault = all.filter((s) => s.namespace === workload.namespace && !s.workloadSelector).sort(byAge)[0];
  if (namespaceDefault) return { sidecar: namespaceDefault, because: `Sidecar ${namespaceDefault.namespace}/${namespaceDefault.name} has no workloadSelector and applies to every workload in namespace ${workload.namespace}` };
  const meshDefault = all.filter((s) => s.namespace === root && !s.workloadSelector).sort(byAge)[0];
  if (meshDefault) return { sidecar: meshDefault, because: `Sidecar ${meshDefault.namespace}/${meshDefault.name} in the root namespace applies to namespaces without their own Sidecar` };
  return { because: `no Sidecar applies to ${describeWorkload(workload)}` };
}

export type VisibleResource = KubeObject | ServiceView | ServiceEntryView;

export interface Visibility {
  visible: boolean;
  because: string;
  /** The Sidecar that hides the resource, or the resource itself when its exportTo does. */
  hiddenBy?: ObjectRef;
  /** For ServiceEntries with several hosts: the hosts the workload sees. */
  visibleHosts: string[];
}

function toView(resource: VisibleResource): ServiceView | ServiceEntryView | undefined {
  if ('ref' in resource && (resource.kind === 'Service' || resource.kind === 'ServiceEntry') && 'object' in resource) return resource as ServiceView | ServiceEntryView;
  const object = resource as KubeObject;
  if (object.kind === 'Service') return serviceView(object);
  if (object.kind === 'ServiceEntry') return serviceEntryView(object);
  return undefined;
}

/**
 * Whether a workload's sidecar gets config for a Service or ServiceEntry:
 * first the resource's exportTo must include the workload's namespace
 * (mesh `defaultServiceExportTo` when unset), then the applicable Sidecar's
 * egress hosts must import it: `ns/host` where ns is `*`, `.` (the
 * workload's namespace), `~` (nothing), or a namespace, and host matches one
 * of the resource's hosts (selectServices in pilot/pkg/model/sidecar.go).
 */
export function visibleTo(workload: WorkloadIdentity, resource: VisibleResource, set: ResourceSet, options: { mesh?: MeshConfigView } = {}): Visibility {
  const mesh = options.mesh ?? DEFAULT_MESH_CONFIG;
  const view = toView(resource);
  if (!view) return { visible: false, because: `${(resource as KubeObject).kind ?? 'object'} is not a Service or ServiceEntry`, visibleHosts: [] };
  const what = formatRef(view.ref);
  const who = describeWorkload(workload);
  if (!exportedTo(view.exportTo, view.namespace, workload.namespace, mesh.defaultServiceExportTo)) {
    return {
      visible: false,
      because: `${what} is not exported to namespace ${workload.namespace} (${describeExportTo(view.exportTo, mesh.defaultServiceExportTo)}), so ${who} cannot see it`,
      hiddenBy: view.ref,
      visibleHosts: [],
    };
  }
  const { sidecar, because: sidecarBecause } = sidecarFor(workload, set, options);
  if (!sidecar) return { visible: true, because: `${what} is exported to namespace ${workload.namespace} and ${sidecarBecause}`, visibleHosts: [...view.hosts] };
  const visibleHosts: string[] = [];
  const via: string[] = [];
  for (const hostname of view.hosts) {
    for (const listener of sidecar.egress) {
      const match = listener.hosts.find((h) => egressHostImports(h, view.namespace, hostname, workload.namespace));
      if (match) {
        visibleHosts.push(hostname);
        via.push(`${hostname} via "${match.raw}"`);
        break;
      }
    }
  }
  const egressHosts = sidecar.egress.flatMap((l) => l.hosts.map((h) => h.raw));
  const hostsText = `egress hosts ${JSON.stringify(egressHosts)}${sidecar.egressWritten ? '' : ' (default, no egress written)'}`;
  if (visibleHosts.length === 0) {
    return {
      visible: false,
      because: `${what} is hidden from ${who} by Sidecar ${sidecar.namespace}/${sidecar.name} (${hostsText}): none imports namespace ${view.namespace} with host ${view.hosts.join(', ') || '(none)'}`,
      hiddenBy: sidecar.ref,
      visibleHosts,
    };
  }
  return { visible: true, because: `${what} is visible to ${who} through Sidecar ${sidecar.namespace}/${sidecar.name}: ${via.join('; ')}`, visibleHosts };
}

export function egressHostImports(egress: EgressHost, resourceNamespace: string, hostname: string, workloadNamespace: string): boolean {
  if (egress.namespace === '~') return false;
  const namespace = egress.namespace === '.' ? workloadNamespace : egress.namespace;
  if (namespace !== '*' && namespace !== resourceNamespace) return false;
  return hostMatches(egress.host, hostname);
}
