/**
 * why-404's evidence: one request followed through a gateway pod's real
 * config, and the Istio resources that should have produced that config.
 * Rules (./index.ts) read it and explain where the request fell out.
 */
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import { isBlackholeRouteConfig } from '../../model/envoy/gateway-config.js';
import { exportedTo, hostMatches } from '../../model/istio/common.js';
import type { GatewayServer, GatewayView, VirtualServiceView } from '../../model/istio/gateway.js';
import type { ServiceView } from '../../model/istio/services.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { SimulationResult } from '../../model/outbound/simulate.js';
import type { EvidenceKind, EvidenceModel, Rule } from '../rule.js';

export interface GatewayRequest {
  host: string;
  path: string;
  /** The port the client connects to (the gateway Service's port). */
  port: number;
  /** The gateway pod's port it lands on (the Service's targetPort, else the same number). */
  listenerPort: number;
  tls: boolean;
}

/** The request as a URL: `https://httpbin.example.com/status/200`, the port only when not the scheme's. */
export function requestUrl(r: GatewayRequest): string {
  return `${r.tls ? 'https' : 'http'}://${r.host}${(r.tls && r.port !== 443) || (!r.tls && r.port !== 80) ? `:${r.port}` : ''}${r.path}`;
}

/** How the request ended, in why-404's terms. */
export type Ending =
  | 'routed'          // a route to a cluster the gateway has
  | 'no-listener'     // nothing listens on the port
  | 'no-chain'        // no filter chain for the SNI (or plaintext on a TLS port)
  | 'tls-into-http'   // TLS sent to a plaintext HTTP server
  | 'no-route'        // 404 NR: no virtual host or no route
  | 'no-cluster'      // 503: the route's cluster is not on the gateway (NC; NR in older Envoy)
  | 'redirect'        // 301: httpsRedirect
  | 'warming'         // the listener waits for its secrets
  | 'unknown';

export interface GatewayEvidence {
  pod: PodView;
  podArg: string;
  /** Pods that look like gateways (istio-proxy only, `proxy router`), for selector checks. */
  gatewayPods: PodView[];
  dump: ConfigDump;
  dumpSource: string;
  dumpFile?: string;
  request: GatewayRequest;
  simulation: SimulationResult;
  ending: Ending;
  gateways: GatewayView[];
  virtualServices: VirtualServiceView[];
  /** Services that select the gateway pod (their ports map client ports to listener ports). */
  podServices: ServiceView[];
  /** Resource kinds the source listed. */
  listed: ReadonlySet<string>;
}

export type GatewayRule = Rule<GatewayEvidence>;

export function gatewayEvidenceModel(e: GatewayEvidence): EvidenceModel<GatewayEvidence> {
  return { evidence: e, holds: (kind: EvidenceKind) => kind === 'config-dump' || e.listed.has(kind) };
}

/** The ending of a simulated request, with the gateway's own knowledge (clusters, blackhole). */
export function endingOf(sim: SimulationResult, dump: ConfigDump): Ending {
  switch (sim.outcome.kind) {
    case 'no_listener': return 'no-listener';
    case 'no_filter_chain': return 'no-chain';
    case 'tls_into_http': return 'tls-into-http';
    case 'no_route': return 'no-route';
    case 'redirect': return 'redirect';
    case 'direct_response': return sim.outcome.status === 404 ? 'no-route' : 'unknown';
    case 'cluster': return sim.outcome.cluster && !dump.cluster(sim.outcome.cluster) ? 'no-cluster' : 'routed';
    default: return 'unknown';
  }
}

export function failed(e: GatewayEvidence): boolean {
  return e.ending !== 'routed' && e.ending !== 'redirect';
}

/** True when the route config the request reached is Istio's `blackhole` (no VirtualService bound to that server). */
export function reachedBlackhole(e: GatewayEvidence): boolean {
  return Boolean(e.simulation.routeConfig && isBlackholeRouteConfig(e.simulation.routeConfig));
}

/** The listener port a Gateway server lands on for this pod (resolvePorts: a Service port's targetPort, else the number). */
export function listenerPortOf(server: GatewayServer, podServices: readonly ServiceView[]): number {
  for (const svc of podServices) {
    const p = svc.ports.find((x) => x.port === server.port.number);
    if (p) return typeof p.targetPort === 'number' ? p.targetPort : p.port;
  }
  return server.port.number;
}

export function selectsPod(g: GatewayView, pod: PodView): boolean {
  return Object.entries(g.selector).every(([k, v]) => pod.labels[k] === v);
}

export interface BoundServer {
  gateway: GatewayView;
  server: GatewayServer;
}

/** Servers of the Gateways selecting this pod that land on the request's listener port. */
export function serversOnPort(e: GatewayEvidence): BoundServer[] {
  return e.gateways
    .filter((g) => selectsPod(g, e.pod))
    .flatMap((gateway) => gateway.servers.map((server) => ({ gateway, server })))
    .filter(({ server }) => listenerPortOf(server, e.podServices) === e.request.listenerPort);
}

export function serverHasHost(server: GatewayServer, host: string): boolean {
  return server.hosts.some((h) => hostMatches(h.host, host));
}

/** VirtualServices with a host matching the request's. */
export function virtualServicesForHost(e: GatewayEvidence): VirtualServiceView[] {
  return e.virtualServices.filter((vs) => vs.hosts.some((h) => hostMatches(h, e.request.host)));
}

/** Whether the gateway pod (its namespace) sees the VirtualService (exportTo, mesh default `*`). */
export function visibleToGateway(vs: VirtualServiceView, e: GatewayEvidence): boolean {
  return exportedTo(vs.exportTo, vs.namespace, e.pod.namespace);
}

export function gatewayTarget(g: GatewayView, server?: GatewayServer): string {
  return `Gateway ${g.namespace}/${g.name}${server ? ` spec.servers[${server.index}]` : ''}`;
}
