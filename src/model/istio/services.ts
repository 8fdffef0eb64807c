import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { asArray, asLabels, asNumber, asRecord, asString, asStringArray, labelsMatch, namespaceOf, refFor, type Labels } from './common.js';
import { serviceProtocol, type DerivedProtocol } from './protocol.js';

/** pilot/pkg/serviceregistry/kube/conversion.go: ServiceExportAnnotation. */
export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

export interface ServicePortView {
  /** Position in `spec.ports`, for pointing at the YAML. */
  index: number;
  name?: string;
  port: number;
  /** As written; undefined means "same as port" (Kubernetes defaulting). */
  targetPort?: number | string;
  appProtocol?: string;
  /** Kubernetes transport protocol (TCP unless written otherwise). */
  transport: string;
  /** Istio's protocol for the port (appProtocol, else name prefix). */
  protocol: DerivedProtocol;
  /** The raw port entry, for excerpts. */
  raw: Record<string, unknown>;
}

export interface ServiceView {
  kind: 'Service';
  namespace: string;
  name: string;
  /** The FQDN Istio registers: `name.ns.svc.<domainSuffix>`. */
  host: string;
  hosts: string[];
  type: string;
  /** ClusterIPs without `None`; empty for headless services. */
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: ServicePortView[];
  /** undefined: no selector (endpoints managed by hand). */
  selector?: Labels;
  /** From the `networking.istio.io/exportTo` annotation, split on commas; undefined when absent. */
  exportTo?: string[];
  ref: ObjectRef;
  object: KubeObject;
}

export function serviceView(object: KubeObject, options: { domainSuffix?: string } = {}): ServiceView {
  const domainSuffix = options.domainSuffix ?? 'cluster.local';
  const namespace = namespaceOf(object);
  const name = String(object.metadata?.name ?? '');
  const spec = asRecord(object.spec) ?? {};
  const ips = new Set<string>();
  const clusterIP = asString(spec.clusterIP);
  if (clusterIP && clusterIP !== 'None') ips.add(clusterIP);
  for (const ip of asStringArray(spec.clusterIPs)) if (ip !== 'None') ips.add(ip);
  const ports: ServicePortView[] = [];
  asArray(spec.ports).forEach((entry, index) => {
    const raw = asRecord(entry);
    if (!raw) return;
    const port = asNumber(raw.port);
    if (port === undefined) return;
    const target = raw.targetPort;
    const targetPort = typeof target === 'number' ? target : typeof target === 'string' && target !== '' ? (/^\d+$/.test(target) ? Number(target) : target) : undefined;
    const portName = asString(raw.name);
    const appProtocol = asString(raw.appProtocol);
    const transport = asString(raw.protocol) ?? 'TCP';
    ports.push({
      index,
      ...(portName !== undefined ? { name: portName } : {}),
      port,
      ...(targetPort !== undefined ? { targetPort } : {}),
      ...(appProtocol !== undefined ? { appProtocol } : {}),
      transport,
      protocol: serviceProtocol({ name: portName, port, appProtocol, protocol: transport }),
      raw,
    });
  });
  const selector = asLabels(spec.selector);
  const annotation = asString(asRecord(object.metadata?.annotations)?.[EXPORT_TO_ANNOTATION]);
  const exportTo = annotation !== undefined && annotation.trim() !== ''
    ? annotation.split(',').map((s) => s.trim()).filter((s) => s !== '')
    : undefined;
  const host = `${name}.${namespace}.svc.${domainSuffix}`;
  const externalName = asString(spec.externalName);
  return {
    kind: 'Service',
    namespace,
    name,
    host,
    hosts: [host],
    type: asString(spec.type) ?? 'ClusterIP',
    clusterIPs: [...ips],
    headless: clusterIP === 'None',
    ...(externalName !== undefined ? { externalName } : {}),
    ports,
    ...(selector !== undefined && Object.keys(selector).length > 0 ? { selector } : {}),
    ...(exportTo !== undefined ? { exportTo } : {}),
    ref: refFor(object, namespace),
    object,
  };
}

export function services(set: ResourceSet, options: { domainSuffix?: string } = {}): ServiceView[] {
  return set.view(`Service ${options.domainSuffix ?? ''}`, () => set.of('Service').map((o) => serviceView(o, options)));
}

/** A pod as far as selection cares: namespace and labels. PodView and KubeObject both fit through `podIdentity`. */
export interface PodIdentity {
  namespace: string;
  name: string;
  labels: Labels;
}

export function podIdentity(pod: KubeObject | PodIdentity): PodIdentity {
  if ('metadata' in pod && asRecord((pod as KubeObject).metadata)) {
    const object = pod as KubeObject;
    return { namespace: namespaceOf(object), name: String(object.metadata.name ?? ''), labels: asLabels(object.metadata.labels) ?? {} };
  }
  const identity = pod as PodIdentity;
  return { namespace: identity.namespace, name: identity.name, labels: identity.labels ?? {} };
}

/** Kubernetes selection: same namespace, a non-empty selector that is a subset of the pod's labels. */
export function selectsPod(service: ServiceView, pod: KubeObject | PodIdentity): boolean {
  const identity = podIdentity(pod);
  if (service.namespace !== identity.namespace) return false;
  if (!service.selector) return false;
  return labelsMatch(service.selector, identity.labels);
}

export function servicesSelecting(set: ResourceSet, pod: KubeObject | PodIdentity, options: { domainSuffix?: string } = {}): ServiceView[] {
  return services(set, options).filter((s) => selectsPod(s, pod));
}

export interface ContainerPortView {
  container: string;
  name?: string;
  containerPort: number;
  protocol: string;
}

export function containerPorts(pod: KubeObject): ContainerPortView[] {
  const spec = asRecord(pod.spec) ?? {};
  const out: ContainerPortView[] = [];
  for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
    const container = asRecord(c);
    if (!container) continue;
    const containerName = asString(container.name) ?? '';
    for (const p of asArray(container.ports)) {
      const port = asRecord(p);
      const number = port ? asNumber(port.containerPort) : undefined;
      if (!port || number === undefined) continue;
      const name = asString(port.name);
      out.push({ container: containerName, ...(name !== undefined ? { name } : {}), containerPort: number, protocol: asString(port.protocol) ?? 'TCP' });
    }
  }
  return out;
}

export interface TargetPortResolution {
  /** The port the pod receives on, when it can be known. */
  port?: number;
  /** The container declaring it, when one does. */
  container?: string;
  resolved: boolean;
  because: string;
}

/**
 * Where a Service port lands on a pod. Numeric targetPorts need no declaration
 * (Kubernetes forwards to the number whether or not a container lists it);
 * a named targetPort must match a container port's name, or the endpoint is
 * not created for that pod.
 */
export function resolveTargetPort(port: ServicePortView, pod: KubeObject): TargetPortResolution {
  const declared = containerPorts(pod);
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') {
    const match = declared.find((c) => c.containerPort === target);
    return match
      ? { port: target, container: match.container, resolved: true, because: `targetPort ${target} is container ${match.container}'s port ${target}${match.name ? ` (${match.name})` : ''}` }
      : { port: target, resolved: true, because: `targetPort ${target} (no container declares it; Kubernetes forwards to it anyway)` };
  }
  const match = declared.find((c) => c.name === target);
  return match
    ? { port: match.containerPort, container: match.container, resolved: true, because: `targetPort "${target}" is container ${match.container}'s port ${match.containerPort}` }
    : { resolved: false, because: `targetPort "${target}" matches no container port name (declared: ${declared.map((c) => c.name ?? String(c.containerPort)).join(', ') || 'none'})` };
}
