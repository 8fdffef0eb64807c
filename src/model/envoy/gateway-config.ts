/**
 * What a gateway proxy's config dump says about the Istio Gateways behind it
 * (Istio's names and shapes, pilot/pkg/model/gateway.go and
 * pilot/pkg/networking/core/gateway.go):
 *   - the proxy kind, from the node id's first field (`router~…` for a gateway),
 *   - one listener per port, `0.0.0.0_<port>` (the resolved target port),
 *   - route configs `http.<port>` (every HTTP server on that port, merged) and
 *     `https.<port>.<port name>.<gateway>.<namespace>` (one per HTTPS server,
 *     ParseGatewayRDSRouteName), with a `blackhole:<port>` virtual host and no
 *     routes when no VirtualService binds (Envoy answers 404 NR),
 *   - SDS secrets per `credentialName`, named `kubernetes://<name>` (SdsCaSuffix
 *     `-cacert` for the CA of MUTUAL), which a listener waits for before serving.
 */
import type { ConfigDump } from './config-dump.js';
import type { FilterChain, Listener } from './listeners.js';
import type { RouteConfig } from './routes.js';
import { str } from './json.js';

export type ProxyKind = 'sidecar' | 'gateway' | 'waypoint' | 'ztunnel' | 'unknown';

/** The node id's first field (`sidecar~`, `router~`, `waypoint~`, `ztunnel~`; pkg/model/proxy.go NodeType). */
export function proxyKind(dump: ConfigDump): ProxyKind {
  const type = dump.node?.id?.split('~')[0];
  switch (type) {
    case 'sidecar': return 'sidecar';
    case 'router': return 'gateway';
    case 'waypoint': return 'waypoint';
    case 'ztunnel': return 'ztunnel';
    default: return 'unknown';
  }
}

export interface GatewayRouteName {
  protocol: 'http' | 'https';
  port: number;
  /** HTTPS only: the server's port name and its Gateway (`namespace/name`). */
  portName?: string;
  gateway?: string;
}

/** ParseGatewayRDSRouteName: `http.8080`, `https.443.https.httpbin-gateway.default`. */
export function parseGatewayRouteName(name: string): GatewayRouteName | undefined {
  const http = /^http\.(\d+)(?:\.\S+)?$/.exec(name);
  if (http) return { protocol: 'http', port: Number(http[1]) };
  const parts = name.split('.');
  if (parts[0] === 'https' && parts.length === 5 && /^\d+$/.test(parts[1])) {
    return { protocol: 'https', port: Number(parts[1]), portName: parts[2], gateway: `${parts[4]}/${parts[3]}` };
  }
  return undefined;
}

/** The `blackhole:<port>` virtual host Istio writes when no VirtualService binds to a server (routes: none). */
export function isBlackholeRouteConfig(config: RouteConfig): boolean {
  const vhs = config.virtualHosts;
  return vhs.length === 1 && vhs[0].name.startsWith('blackhole:') && vhs[0].routes.length === 0;
}

export interface GatewayPortView {
  listener: Listener;
  port: number;
  chains: Array<{ chain: FilterChain; serverNames: readonly string[]; routeConfigName?: string; sdsSecrets: string[] }>;
}

/** The SDS secret names a chain's downstream TLS reads (`kubernetes://httpbin-credential`). */
export function chainSdsSecrets(chain: FilterChain): string[] {
  const names: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if ((k === 'tls_certificate_sds_secret_configs' || k === 'validation_context_sds_secret_config') && x) {
          for (const c of Array.isArray(x) ? x : [x]) {
            const n = str(c as Record<string, unknown>, 'name');
            if (n) names.push(n);
          }
        } else walk(x);
      }
    }
  };
  walk(chain.raw.transport_socket);
  return names;
}

/** The gateway's listeners by port, with each chain's SNI names, route config and SDS secrets. */
export function gatewayPorts(dump: ConfigDump): GatewayPortView[] {
  return dump.listeners
    .filter((l) => l.state !== 'static' && l.port !== undefined)
    .map((listener) => ({
      listener,
      port: listener.port!,
      chains: listener.filterChains.map((chain) => {
        const hcm = chain.terminalFilter?.httpConnectionManager;
        return { chain, serverNames: chain.match.serverNames, ...(hcm?.rdsRouteConfigName ? { routeConfigName: hcm.rdsRouteConfigName } : {}), sdsSecrets: chainSdsSecrets(chain) };
      }),
    }));
}

/** `kubernetes://name` -> `name` (the credentialName); undefined for other SDS names (`default`, `ROOTCA`). */
export function credentialNameOf(sdsName: string): string | undefined {
  const m = /^kubernetes(?:-gateway)?:\/\/(.+?)(-cacert)?$/.exec(sdsName);
  return m ? m[1] : undefined;
}

/** Listeners Envoy holds but does not serve yet: warming (waiting for SDS secrets or RDS). */
export function warmingListeners(dump: ConfigDump): Listener[] {
  return dump.allListeners.filter((l) => l.state === 'warming');
}

/**
 * Listeners whose certificate has not arrived: warming ones, and active ones
 * whose chains use a credential secret Envoy still holds as warming. A
 * listener in the initial LDS response goes straight to active while its SDS
 * secret never comes (seen on the mesh lab's Envoy 1.40: `active_state`, the
 * secret in `dynamic_warming_secrets`); the oracle's dump shows the later
 * shape, the listener in `warming_state`.
 */
export function listenersAwaitingSecrets(dump: ConfigDump, port: number): Listener[] {
  const waiting = new Set(dump.secrets.filter((s) => s.state === 'warming').map((s) => s.name));
  return dump.allListeners.filter((l) => l.port === port && (l.state === 'warming'
    || l.filterChains.some((c) => (JSON.stringify(c.raw.transport_socket ?? {}).match(/kubernetes(?:-gateway)?:\/\/[^"]+/g) ?? []).some((n) => waiting.has(n)))));
}
