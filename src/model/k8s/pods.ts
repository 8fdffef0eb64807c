import type { KubeObject } from './resources.js';
import { proxyKindFromPod, type ProxyKind } from '../proxy-kind.js';

export const PROXY_CONTAINER = 'istio-proxy';

/** A pod as mesh-doctor cares about it: does it carry a sidecar, is it ready, what is its IP. */
/** spec.serviceAccountName ('default' when unset, as Kubernetes fills it). */
export function serviceAccountOf(pod: KubeObject): string {
  return String(pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default');
}

export interface PodView {
  namespace: string;
  name: string;
  ip?: string;
  labels: Record<string, string>;
  containers: string[];
  initContainers: string[];
  /** An istio-proxy container (a sidecar, or a gateway's or waypoint's proxy: see proxyKind). */
  hasSidecar: boolean;
  /** What that proxy runs as, from its pilot-agent arguments (model/proxy-kind.ts). */
  proxyKind?: ProxyKind;
  proxyReady: boolean | undefined;
  phase?: string;
  object: KubeObject;
}

export function podView(object: KubeObject): PodView {
  const spec = object.spec ?? {};
  const status = object.status ?? {};
  const containers: string[] = (spec.containers ?? []).map((c: { name: string }) => c.name);
  const initContainers: string[] = (spec.initContainers ?? []).map((c: { name: string }) => c.name);
  // Native sidecars (Istio 1.19+ with k8s 1.28+) put istio-proxy among the init containers.
  const hasSidecar = containers.includes(PROXY_CONTAINER) || initContainers.includes(PROXY_CONTAINER);
  const statuses: Array<{ name: string; ready?: boolean }> = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])];
  const proxyStatus = statuses.find((s) => s.name === PROXY_CONTAINER);
  const proxyKind = proxyKindFromPod(object);
  return {
    namespace: object.metadata.namespace ?? 'default',
    name: object.metadata.name,
    ip: status.podIP,
    labels: object.metadata.labels ?? {},
    containers,
    initContainers,
    hasSidecar,
    ...(proxyKind ? { proxyKind } : {}),
    proxyReady: proxyStatus?.ready,
    phase: status.phase,
    object,
  };
}

/** The app containers: everything but the sidecar, in declaration order. */
export function appContainers(pod: PodView): string[] {
  return pod.containers.filter((c) => c !== PROXY_CONTAINER);
}
