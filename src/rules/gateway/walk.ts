/**
 * One request followed through a gateway pod's config, with the resources
 * that should have produced it: the GatewayEvidence the gateway rules read.
 * why-404 walks the request a person names; check walks every request the
 * resources mean the gateway to serve (intendedRequests).
 */
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import { listenersAwaitingSecrets, warmingListeners } from '../../model/envoy/gateway-config.js';
import { gateways, gatewaysSelecting, resolveGatewayName, virtualServices, type GatewayServer } from '../../model/istio/gateway.js';
import { servicesSelecting } from '../../model/istio/services.js';
import { hostMatches } from '../../model/istio/common.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import { simulateOutbound, type OutboundConnection } from '../../model/outbound/index.js';
import { endingOf, listenerPortOf, type GatewayEvidence, type GatewayRequest } from './evidence.js';

export interface GatewayProxy {
  pod: PodView;
  podArg: string;
  dump: ConfigDump;
  dumpSource: string;
  dumpFile?: string;
}

/** The request a client sends: `--host`, `--path`, the Service port it connects to (default 80, or 443 with https). */
export interface RequestedCall {
  host: string;
  path?: string;
  port?: number;
  https?: boolean;
}

/** Pods that look like gateways: the istio-proxy container alone (`proxy router`), for selector checks. */
export function gatewayPodsOf(pods: readonly PodView[]): PodView[] {
  return pods.filter((p) => p.containers.length === 1 && p.containers[0] === 'istio-proxy');
}

export function walkGateway(g: GatewayProxy, resources: ResourceSet, gatewayPods: PodView[], call: RequestedCall): GatewayEvidence {
  const podServices = servicesSelecting(resources, g.pod.object);
  const request = gatewayRequest(call, podServices);
  const simulation = simulateOutbound(g.dump, connectionOf(request), { proxy: 'gateway' });
  const warming = (simulation.outcome.kind === 'no_listener' && warmingListeners(g.dump).some((l) => l.port === request.listenerPort))
    || (request.tls && listenersAwaitingSecrets(g.dump, request.listenerPort).length > 0);
  return {
    pod: g.pod, podArg: g.podArg, gatewayPods, dump: g.dump, dumpSource: g.dumpSource, ...(g.dumpFile ? { dumpFile: g.dumpFile } : {}),
    request, simulation, ending: warming ? 'warming' : endingOf(simulation, g.dump),
    gateways: gateways(resources), virtualServices: virtualServices(resources), podServices,
    listed: new Set(['Pod', 'Service', 'Gateway', 'VirtualService'].filter((k) => k === 'Pod' || k === 'Service' || resources.of(k).length > 0)),
  };
}

function gatewayRequest(call: RequestedCall, podServices: GatewayEvidence['podServices']): GatewayRequest {
  const tls = call.https ?? call.port === 443;
  const port = call.port ?? (tls ? 443 : 80);
  const listenerPort = listenerPortOf({ index: 0, port: { number: port, protocol: '' }, hosts: [] }, podServices);
  return { host: call.host.toLowerCase(), path: call.path ?? '/', port, listenerPort, tls };
}

/** The request as the gateway pod receives it: on the listener port, TLS with SNI for HTTPS (Host inside). */
function connectionOf(r: GatewayRequest): OutboundConnection {
  return r.tls
    ? { port: r.listenerPort, transport: 'tls', sni: r.host, alpn: ['h2', 'http/1.1'], host: r.host, path: r.path }
    : { port: r.listenerPort, transport: 'plaintext', host: r.port === 80 ? r.host : `${r.host}:${r.port}`, path: r.path, httpVersion: 'http/1.1' };
}

const MAX_REQUESTS = 50;
const WEB = new Set(['HTTP', 'HTTPS', 'HTTP2', 'GRPC']);

/**
 * Every request the resources clearly mean this gateway pod to serve, so
 * check can follow each as why-404 follows one:
 *  - each host of a VirtualService bound to a Gateway, on that Gateway's
 *    HTTP(S) servers (the Gateways selecting this pod when the named one is
 *    not found). When some of its hosts are admitted by the Gateway, only
 *    those: a VirtualService shared with other gateways or the mesh may name
 *    hosts this Gateway never meant to serve; when none is, the binding does
 *    nothing and every host is a request that fails;
 *  - each named host of a Gateway server selecting this pod, when no
 *    VirtualService routes any of that server's hosts (a server that routes
 *    nothing); otherwise its unrouted hosts may be served by other means.
 * The path is the VirtualService's first route's URI (else /); the port is
 * the Service port a client uses for the server (HTTP on 80, HTTPS on 443 when
 * the server's number is not a Service port of the pod), TLS when that Service
 * port is named https/tls or is 443, whatever the server declares. Wildcard hosts name
 * no request. At most MAX_REQUESTS.
 */
export function intendedRequests(pod: PodView, resources: ResourceSet): RequestedCall[] {
  const all = gateways(resources);
  const selecting = gatewaysSelecting(all, pod.labels);
  const servicePorts = new Map(servicesSelecting(resources, pod.object).flatMap((s) => s.ports.map((p) => [p.port, p.name ?? ''] as const)));
  const calls = new Map<string, RequestedCall>();
  const add = (host: string, server: GatewayServer, path = '/') => {
    if (host.includes('*') || !WEB.has(server.port.protocol)) return;
    // Clients speak what the Service port says (https/tls by name, or 443) whatever the server declares.
    const name = servicePorts.get(server.port.number);
    const https = server.port.protocol === 'HTTPS' || (name !== undefined && (/^(https|tls)/.test(name) || server.port.number === 443));
    const port = servicePorts.size && name === undefined ? (https ? 443 : 80) : server.port.number;
    calls.set(`${host} ${port} ${https}`, { host, port, https, path });
  };
  const routed = new Set<string>();
  for (const vs of virtualServices(resources)) {
    const path = firstPath(vs);
    for (const name of vs.gateways.filter((n) => n !== 'mesh')) {
      const named = all.find((g) => `${g.namespace}/${g.name}` === resolveGatewayName(name, vs.namespace));
      for (const g of named ? [named] : selecting) {
        for (const server of g.servers) {
          const admitted = vs.hosts.filter((h) => server.hosts.some((s) => hostMatches(s.host, h)));
          for (const h of server.hosts) if (vs.hosts.some((v) => hostMatches(h.host, v))) routed.add(`${g.namespace}/${g.name}#${server.index}`);
          for (const host of admitted.length ? admitted : vs.hosts) add(host, server, path);
        }
      }
    }
  }
  for (const g of selecting) {
    for (const server of g.servers.filter((s) => !routed.has(`${g.namespace}/${g.name}#${s.index}`))) for (const h of server.hosts) add(h.host, server);
  }
  return [...calls.values()].slice(0, MAX_REQUESTS);
}

/** A path the VirtualService's first route matches (`prefix /status` → /status), else /. */
function firstPath(vs: ReturnType<typeof virtualServices>[number]): string {
  const uri = vs.http[0]?.uris[0];
  const m = uri ? /^(?:prefix|exact) (\/\S*)$/.exec(uri) : undefined;
  return m?.[1] ?? '/';
}
