/**
 * Istio Gateways and the VirtualServices bound to them, as istiod reads them
 * for a gateway proxy (model.Router):
 *   - a Gateway applies to the gateway pods its `selector` matches (any
 *     namespace unless PILOT_SCOPE_GATEWAY_TO_NAMESPACE; pilot/pkg/model/gateway.go),
 *   - each server's port is resolved against the Services backing the pod: a
 *     server on a Service port becomes a listener on that port's targetPort
 *     (resolvePorts in pilot/pkg/model/gateway.go), else on the number itself,
 *   - a VirtualService reaches a gateway when `gateways:` names it
 *     (`name` = the VirtualService's namespace, `ns/name` otherwise;
 *     pilot/pkg/model/virtualservice.go resolveGatewayName), it is exported to
 *     the gateway pod's namespace, and one of its hosts matches a server host
 *     (`ns/host` on the server restricts the VirtualService's namespace).
 */
import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { asArray, asBoolean, asLabels, asNumber, asRecord, asString, asStringArray, hostMatches, labelsMatch, namespaceOf, refFor, type Labels } from './common.js';

export interface GatewayServerHost {
  /** `*` (any), `.` (the Gateway's namespace) or a namespace, from `ns/host`. */
  namespace: string;
  host: string;
}

export interface GatewayServer {
  /** Position in `spec.servers`, for pointing at the YAML. */
  index: number;
  name?: string;
  port: { number: number; name?: string; protocol: string };
  hosts: GatewayServerHost[];
  tls?: { mode?: string; credentialName?: string; httpsRedirect: boolean };
}

export interface GatewayView {
  namespace: string;
  name: string;
  selector: Labels;
  servers: GatewayServer[];
  ref: ObjectRef;
  object: KubeObject;
}

/** HTTPS/TLS servers terminate or pass TLS: their listener chains match by SNI. */
export function isTlsServer(server: GatewayServer): boolean {
  return server.port.protocol === 'HTTPS' || server.port.protocol === 'TLS';
}

function serverHost(text: string, gatewayNamespace: string): GatewayServerHost {
  const slash = text.indexOf('/');
  if (slash < 0) return { namespace: '*', host: text };
  const ns = text.slice(0, slash);
  return { namespace: ns === '.' ? gatewayNamespace : ns, host: text.slice(slash + 1) };
}

export function gatewayView(object: KubeObject): GatewayView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const servers: GatewayServer[] = [];
  asArray(spec.servers).forEach((entry, index) => {
    const s = asRecord(entry) ?? {};
    const port = asRecord(s.port) ?? {};
    const tls = asRecord(s.tls);
    const number = asNumber(port.number);
    if (number === undefined) return;
    servers.push({
      index,
      ...(asString(s.name) ? { name: asString(s.name) } : {}),
      port: { number, ...(asString(port.name) ? { name: asString(port.name) } : {}), protocol: (asString(port.protocol) ?? '').toUpperCase() },
      hosts: asStringArray(s.hosts).map((h) => serverHost(h, namespace)),
      ...(tls ? { tls: { mode: asString(tls.mode), credentialName: asString(tls.credentialName), httpsRedirect: asBoolean(tls.httpsRedirect) ?? false } } : {}),
    });
  });
  return { namespace, name: object.metadata.name, selector: asLabels(spec.selector) ?? {}, servers, ref: refFor(object, namespace), object };
}

export function gateways(resources: ResourceSet): GatewayView[] {
  return resources.of('Gateway').map(gatewayView);
}

/** Gateways whose selector matches these pod labels (an empty selector matches every gateway pod). */
export function gatewaysSelecting(all: readonly GatewayView[], podLabels: Labels): GatewayView[] {
  return all.filter((g) => labelsMatch(g.selector, podLabels));
}

export interface HttpRouteView {
  name?: string;
  /** `prefix /status`, `exact /`, `regex ...`; empty = every path. */
  uris: string[];
  destinations: { host: string; port?: number; subset?: string }[];
  redirect: boolean;
}

export interface VirtualServiceView {
  namespace: string;
  name: string;
  hosts: string[];
  /** As written. */
  gatewayNames: string[];
  /** Resolved to `ns/name` (or `mesh`); empty means `mesh` only. */
  gateways: string[];
  exportTo?: string[];
  http: HttpRouteView[];
  ref: ObjectRef;
  object: KubeObject;
}

/** resolveGatewayName: a bare name is in the VirtualService's namespace; `mesh` stays `mesh`. */
export function resolveGatewayName(name: string, vsNamespace: string): string {
  if (name === 'mesh' || name.includes('/')) return name;
  // A legacy FQDN form `name.ns.svc.cluster.local` names the namespace too.
  const parts = name.split('.');
  if (parts.length >= 2 && name.endsWith('.svc.cluster.local')) return `${parts[1]}/${parts[0]}`;
  return `${vsNamespace}/${name}`;
}

function uriText(match: Record<string, unknown>): string | undefined {
  const uri = asRecord(match.uri);
  if (!uri) return undefined;
  for (const k of ['exact', 'prefix', 'regex']) if (asString(uri[k]) !== undefined) return `${k} ${asString(uri[k])}`;
  return undefined;
}

export function virtualServiceView(object: KubeObject): VirtualServiceView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const gatewayNames = asStringArray(spec.gateways);
  const http = asArray(spec.http).map((entry): HttpRouteView => {
    const r = asRecord(entry) ?? {};
    return {
      ...(asString(r.name) ? { name: asString(r.name) } : {}),
      uris: asArray(r.match).map((m) => uriText(asRecord(m) ?? {})).filter((u): u is string => u !== undefined),
      destinations: asArray(r.route).map((d) => {
        const dest = asRecord(asRecord(d)?.destination) ?? {};
        const port = asNumber(asRecord(dest.port)?.number);
        return { host: asString(dest.host) ?? '', ...(port !== undefined ? { port } : {}), ...(asString(dest.subset) ? { subset: asString(dest.subset) } : {}) };
      }),
      redirect: asRecord(r.redirect) !== undefined,
    };
  });
  const exportTo = spec.exportTo === undefined ? undefined : asStringArray(spec.exportTo);
  return {
    namespace,
    name: object.metadata.name,
    hosts: asStringArray(spec.hosts),
    gatewayNames,
    gateways: gatewayNames.map((g) => resolveGatewayName(g, namespace)),
    ...(exportTo ? { exportTo } : {}),
    http,
    ref: refFor(object, namespace),
    object,
  };
}

export function virtualServices(resources: ResourceSet): VirtualServiceView[] {
  return resources.of('VirtualService').map(virtualServiceView);
}

/** The server hosts a VirtualService in `vsNamespace` may bind to, and which of its hosts match them. */
export function matchingHosts(server: GatewayServer, gatewayNamespace: string, vs: VirtualServiceView): string[] {
  return vs.hosts.filter((h) => server.hosts.some((sh) => (sh.namespace === '*' || sh.namespace === vs.namespace || (sh.namespace === '.' && gatewayNamespace === vs.namespace)) && (hostMatches(sh.host, h) || hostMatches(h, sh.host))));
}

export function gatewayKey(g: { namespace: string; name: string }): string {
  return `${g.namespace}/${g.name}`;
}
