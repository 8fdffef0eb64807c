/**
 * Which kind of Istio proxy a pod runs. istiod tells proxies apart by the
 * node id's first field, `TYPE~IP~POD.NS~NS.svc.DOMAIN`, with TYPE one of
 * sidecar, router (gateways), waypoint, ztunnel (istio pkg/model/proxy.go,
 * NodeType). pilot-agent takes TYPE from its first argument after `proxy`
 * (`pilot-agent proxy router`, sidecar when absent: pilot/cmd/pilot-agent/app/cmd.go),
 * so the pod spec tells the same before any dump is read. ztunnel is not
 * Envoy: its pod is recognised by its image.
 */
import type { KubeObject } from './k8s/resources.js';

export type ProxyKind = 'sidecar' | 'router' | 'waypoint' | 'ztunnel';

const KINDS: readonly ProxyKind[] = ['sidecar', 'router', 'waypoint', 'ztunnel'];
const PROXY_CONTAINER = 'istio-proxy';

/** The kinds that run Envoy (listeners, log levels apply): all but ztunnel. */
export const ENVOY_PROXIES: readonly ProxyKind[] = ['sidecar', 'router', 'waypoint'];

/** The kind in a node id (`router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local`); undefined for anything else. */
export function proxyKindFromNodeId(id: string | undefined): ProxyKind | undefined {
  const type = id?.split('~')[0];
  return KINDS.find((k) => k === type);
}

interface Container {
  name?: string;
  image?: string;
  args?: unknown;
}

/** The kind a pod's proxy container runs as; undefined when the pod has none. */
export function proxyKindFromPod(object: KubeObject): ProxyKind | undefined {
  const spec = object.spec ?? {};
  const containers: Container[] = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])];
  if (containers.some((c) => /\/ztunnel[:@]/.test(c.image ?? ''))) return 'ztunnel';
  const proxy = containers.find((c) => c.name === PROXY_CONTAINER);
  if (!proxy) return undefined;
  const args = Array.isArray(proxy.args) ? proxy.args.map(String) : [];
  const at = args.indexOf('proxy');
  return proxyKindFromNodeId(at >= 0 ? args[at + 1] : undefined) ?? 'sidecar';
}

/** `a gateway (router)`, `a waypoint`, ... for messages. */
export function describeProxyKind(kind: ProxyKind): string {
  return { sidecar: 'a sidecar', router: 'a gateway (router)', waypoint: 'a waypoint', ztunnel: 'ztunnel (the ambient node proxy, not Envoy)' }[kind];
}
