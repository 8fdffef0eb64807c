import { parseIstioClusterName } from './envoy/clusters.js';
import type { FilterChain } from './envoy/listeners.js';
import type { ConfigDump } from './envoy/config-dump.js';
import { parseGatewayRouteName } from './envoy/gateway-config.js';
import { formatRef, type KubeObject, type ObjectRef, type ResourceSet } from './k8s/resources.js';

/**
 * Which Service or ServiceEntry produced a filter chain: the resource behind
 * the cluster it sends to (`outbound|443||traefik.cutom-name` -> the
 * ServiceEntry with that host). Chains that go to Istio's own clusters
 * (PassthroughCluster, BlackHoleCluster, inbound) or to an RDS route shared by
 * many services have no single owner.
 */
export function ownersOfChain(chain: FilterChain, resources: ResourceSet, dump?: ConfigDump): ObjectRef[] {
  const clusters = destinationClusters(chain, dump);
  const owners = new Map<string, ObjectRef>();
  // A gateway's HTTPS chain is one Gateway server's: its RDS name says which (https.443.NAME.GATEWAY.NS).
  const gateway = parseGatewayRouteName(chain.httpConnectionManager?.rdsRouteConfigName ?? '')?.gateway;
  if (gateway) {
    const [namespace, name] = gateway.split('/');
    owners.set(`Gateway ${gateway}`, { kind: 'Gateway', namespace, name });
  }
  for (const cluster of clusters) {
    const name = parseIstioClusterName(cluster);
    if (!name || name.direction !== 'outbound' || !name.host) continue;
    for (const owner of ownersOfHost(name.host, name.port, resources)) owners.set(formatRef(owner), owner);
    // The cluster's own metadata (filter_metadata.istio.services: host, name, namespace) names the
    // registry entry istiod built it from; it finds owners the host alone does not (a ServiceEntry
    // host that is also a Service name elsewhere, a Service host with a non-default domain).
    for (const svc of dump?.cluster(cluster)?.services ?? []) {
      if (!svc.namespace) continue;
      const service = svc.name ? resources.get('Service', svc.namespace, svc.name) : undefined;
      if (service && (!svc.host || svc.host.startsWith(`${svc.name}.${svc.namespace}.`))) {
        const r = ref(service);
        owners.set(formatRef(r), r);
        continue;
      }
      for (const entry of resources.of('ServiceEntry', svc.namespace)) {
        const hosts: string[] = entry.spec?.hosts ?? [];
        if (svc.host && hosts.includes(svc.host)) {
          const r = ref(entry);
          owners.set(formatRef(r), r);
        }
      }
    }
  }
  return [...owners.values()];
}

/** The clusters a chain can send to: tcp_proxy's, or an inline route's (RDS routes are looked up in the dump when given). */
export function destinationClusters(chain: FilterChain, dump?: ConfigDump): string[] {
  const tcp = chain.tcpProxy;
  if (tcp) return tcp.cluster ? [tcp.cluster] : tcp.weightedClusters.map((w) => w.name);
  const hcm = chain.httpConnectionManager;
  const routeConfig = hcm?.inlineRouteConfig ?? (hcm?.rdsRouteConfigName && dump ? dump.routeConfig(hcm.rdsRouteConfigName) : undefined);
  return routeConfig ? routeConfig.clusterNames() : [];
}

/** The Services and ServiceEntries that declare a host (and, for ServiceEntries, the port). */
export function ownersOfHost(host: string, port: number | undefined, resources: ResourceSet): ObjectRef[] {
  const owners: ObjectRef[] = [];
  // Kubernetes Services: name.namespace.svc.<cluster domain>
  const svc = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(host);
  if (svc) {
    const service = resources.get('Service', svc[2], svc[1]);
    if (service) owners.push(ref(service));
  }
  for (const entry of resources.of('ServiceEntry')) {
    const hosts: string[] = entry.spec?.hosts ?? [];
    const ports: Array<{ number?: number }> = entry.spec?.ports ?? [];
    const hostMatches = hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))));
    const portMatches = port === undefined || ports.length === 0 || ports.some((p) => p.number === port);
    if (hostMatches && portMatches) owners.push(ref(entry));
  }
  return owners;
}

function ref(object: KubeObject): ObjectRef {
  return { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}

/**
 * The VirtualServices whose routes a chain's HTTP route config carries
 * (route `metadata.filter_metadata.istio.config`), for an OWNER column that
 * names who shaped the traffic as well as who declared the host.
 */
export function virtualServicesOfChain(chain: FilterChain, dump?: ConfigDump): ObjectRef[] {
  const hcm = chain.httpConnectionManager;
  const routeConfig = hcm?.inlineRouteConfig ?? (hcm?.rdsRouteConfigName && dump ? dump.routeConfig(hcm.rdsRouteConfigName) : undefined);
  if (!routeConfig) return [];
  const out = new Map<string, ObjectRef>();
  for (const vhost of routeConfig.virtualHosts) {
    for (const route of vhost.routes) {
      const vs = route.virtualService;
      if (vs) {
        const r: ObjectRef = { kind: 'VirtualService', namespace: vs.namespace, name: vs.name };
        out.set(formatRef(r), r);
      }
    }
  }
  return [...out.values()];
}
