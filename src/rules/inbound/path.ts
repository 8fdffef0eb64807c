/**
 * The inbound path of one port, hop by hop, as pure derivations from the
 * evidence (no I/O): the Service port and its targetPort, the inbound
 * listener's filter chain, the inbound cluster and how it forwards (incident 2,
 * istio/istio#30226), and where the app must listen for that to work.
 */
import type { Cluster } from '../../model/envoy/clusters.js';
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import type { FilterChain } from '../../model/envoy/listeners.js';
import { classifyInboundCluster, type InboundForwarding } from '../../model/inbound.js';
import { containerPorts, resolveTargetPort, type ServicePortView, type ServiceView, type TargetPortResolution } from '../../model/istio/services.js';
import type { PodView } from '../../model/k8s/pods.js';

/** One way into the app: a Service port and where it lands, or a bare container port. */
export interface InboundPort {
  service?: ServiceView;
  servicePort?: ServicePortView;
  /** The port the app must accept connections on, when it can be known. */
  appPort?: number;
  resolution: TargetPortResolution;
  /** `Service default/app port 80 (http) -> targetPort 8080`, or `container port 8080`. */
  label: string;
}

/**
 * The ports to check. With `--port P`: the Service ports numbered P, else those
 * whose targetPort lands on P, else P itself. Without: every port of every
 * Service selecting the pod, else every declared container port.
 */
export function inboundPorts(pod: PodView, services: readonly ServiceView[], port?: number): InboundPort[] {
  const all: InboundPort[] = [];
  for (const service of services) {
    for (const sp of service.ports) {
      if (sp.transport !== 'TCP') continue;
      const resolution = resolveTargetPort(sp, pod.object);
      const target = sp.targetPort ?? sp.port;
      all.push({
        service,
        servicePort: sp,
        ...(resolution.port !== undefined ? { appPort: resolution.port } : {}),
        resolution,
        label: `Service ${service.namespace}/${service.name} port ${sp.port}${sp.name ? ` (${sp.name})` : ''} -> targetPort ${target}`,
      });
    }
  }
  const declared = containerPorts(pod.object).filter((c) => c.protocol === 'TCP' && c.container !== 'istio-proxy');
  const bare = (p: number): InboundPort => {
    const c = declared.find((d) => d.containerPort === p);
    return {
      appPort: p,
      resolution: { port: p, resolved: true, ...(c ? { container: c.container } : {}), because: c ? `container ${c.container} declares port ${p}` : `port ${p} as given (no Service port or container port names it)` },
      label: c ? `container ${c.container} port ${p}` : `port ${p}`,
    };
  };
  if (port !== undefined) {
    const byServicePort = all.filter((p) => p.servicePort?.port === port);
    if (byServicePort.length > 0) return byServicePort;
    const byTarget = all.filter((p) => p.appPort === port);
    if (byTarget.length > 0) return byTarget;
    return [bare(port)];
  }
  if (all.length > 0) return all;
  return [...new Set(declared.map((d) => d.containerPort))].map(bare);
}

/** How the sidecar forwards connections for one app port. */
export interface PortForwarding {
  /** The inbound cluster used (`inbound|8080||`), or the passthrough cluster for a port no Service declares. */
  cluster?: Cluster;
  forwarding?: InboundForwarding;
  /** virtualInbound filter chains matching the port (`0.0.0.0_8080`). */
  chains: FilterChain[];
  /** The cluster the matching chain sends to, when it names one. */
  chainCluster?: string;
  because: string;
}

export function forwardingForPort(dump: ConfigDump, appPort: number): PortForwarding {
  const inbound = dump.clusters.filter((c) => c.istioName?.direction === 'inbound' && c.istioName.port === appPort);
  const listener = dump.listener('virtualInbound') ?? dump.listeners.find((l) => l.port === 15006);
  const chains = listener ? listener.filterChains.filter((fc) => fc.match.destinationPort === appPort) : [];
  const chainCluster = chains.map(chainDestination).find((c) => c !== undefined);
  const cluster = (chainCluster ? dump.cluster(chainCluster) : undefined) ?? inbound[0];
  if (cluster) {
    return {
      cluster,
      forwarding: classifyInboundCluster(cluster.raw),
      chains,
      ...(chainCluster ? { chainCluster } : {}),
      because: chains.length > 0
        ? `virtualInbound chain ${chains[0]!.name} matches port ${appPort} and sends to ${cluster.name}`
        : `cluster ${cluster.name} serves port ${appPort}`,
    };
  }
  // A port no Service declares goes through the catch-all chains to InboundPassthroughCluster(Ipv4).
  const passthrough = dump.cluster('InboundPassthroughClusterIpv4') ?? dump.cluster('InboundPassthroughCluster');
  if (passthrough) {
    return {
      cluster: passthrough,
      forwarding: classifyInboundCluster(passthrough.raw),
      chains,
      because: `no inbound cluster for port ${appPort}: connections to it take virtualInbound's catch-all chain to ${passthrough.name}`,
    };
  }
  return { chains, because: `no inbound cluster for port ${appPort} and no InboundPassthroughCluster in the config dump` };
}

function chainDestination(fc: FilterChain): string | undefined {
  const tcp = fc.tcpProxy?.cluster;
  if (tcp) return tcp;
  const hcm = fc.httpConnectionManager;
  return hcm?.inlineRouteConfig?.clusterNames()[0];
}

/** A cluster as the lines that prove how it forwards (for evidence excerpts). */
export function clusterExcerpt(cluster: Cluster): string {
  const raw = cluster.raw;
  const pick: Record<string, unknown> = { name: raw['name'], type: raw['type'] };
  for (const k of ['lb_policy', 'upstream_bind_config', 'load_assignment']) if (raw[k] !== undefined) pick[k] = raw[k];
  return JSON.stringify(pick, null, 2);
}
