/**
 * How a sidecar forwards inbound traffic to its app, read from the inbound
 * cluster (incident 2, istio/istio#30226):
 *
 * - before Istio 1.10: `type: STATIC`, one endpoint 127.0.0.1:PORT (the app
 *   sees the peer as 127.0.0.1; apps bound to localhost only still work);
 * - from 1.10: `type: ORIGINAL_DST`, `lb_policy: CLUSTER_PROVIDED`,
 *   `upstream_bind_config.source_address.address: 127.0.0.6` (the app sees
 *   127.0.0.6 and is reached at the pod IP; ISTIO_OUTPUT's first rule RETURNs
 *   packets from 127.0.0.6 on lo so they do not loop back into Envoy).
 *
 * Input is plain JSON (`unknown`): one cluster as `istioctl proxy-config
 * cluster -o json` prints it, or a config_dump entry (`{cluster: {...}}`);
 * snake_case and camelCase field names are both read.
 */
import { ParseError } from '../errors.js';

export type InboundForwardingMode =
  /** Pre-1.10: STATIC cluster to 127.0.0.1:PORT (or PILOT_ENABLE_INBOUND_PASSTHROUGH=false). */
  | 'static-localhost'
  /** 1.10+: ORIGINAL_DST, bound to 127.0.0.6; the app is reached at the pod IP. */
  | 'original-dst-127.0.0.6'
  /** ORIGINAL_DST without the 127.0.0.6 bind: the proxy's connection leaves from the pod IP (loops unless iptables exempts it). */
  | 'original-dst'
  | 'other';

export interface InboundForwarding {
  /** The cluster's name (`inbound|9080||`, `inbound|9080|http|productpage.default.svc.cluster.local`, `InboundPassthroughClusterIpv4`). */
  name?: string;
  mode: InboundForwardingMode;
  /** The app port: from the cluster name, else the endpoint. Undefined for the passthrough clusters. */
  port?: number;
  /** upstream_bind_config.source_address.address: what the app sees as the peer. */
  sourceAddress?: string;
  /** Where the proxy connects: the STATIC endpoint's address; undefined for ORIGINAL_DST (the pod IP the client dialed). */
  targetAddress?: string;
  /** Envoy cluster type / discovery type as written (STATIC, ORIGINAL_DST, EDS...). */
  type?: string;
  lbPolicy?: string;
  /** True when the name says inbound (`inbound|...`, `InboundPassthroughCluster...`). */
  inbound: boolean;
  /** One sentence for a reader: what the app sees and where it must listen. */
  explanation: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Json, snake: string): unknown {
  if (snake in o) return o[snake];
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return o[camel];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function portValue(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** `inbound|9080||` -> 9080; `inbound|9080|http|productpage.default.svc.cluster.local` -> 9080. */
export function inboundClusterPort(name: string): number | undefined {
  const m = /^inbound\|(\d+)\|/.exec(name);
  return m ? portValue(m[1]) : undefined;
}

export function classifyInboundCluster(clusterJson: unknown): InboundForwarding {
  const what = 'inbound cluster';
  if (!isObject(clusterJson)) throw new ParseError(what, `expected a cluster object, got ${Array.isArray(clusterJson) ? 'an array' : clusterJson === null ? 'null' : typeof clusterJson}`);
  // config_dump wraps each dynamic cluster: {version_info, cluster: {...}, last_updated}.
  const inner = field(clusterJson, 'cluster');
  const c: Json = isObject(inner) && (str(field(inner, 'name')) !== undefined || field(inner, 'type') !== undefined) ? inner : clusterJson;
  const name = str(field(c, 'name'));
  const type = str(field(c, 'type')) ?? (isObject(field(c, 'cluster_type')) ? str(field(field(c, 'cluster_type') as Json, 'name')) : undefined);
  const lbPolicy = str(field(c, 'lb_policy'));
  const inbound = name !== undefined && (/^inbound\|/.test(name) || /^InboundPassthroughCluster/.test(name));

  let sourceAddress: string | undefined;
  const bind = field(c, 'upstream_bind_config');
  if (isObject(bind)) {
    const sa = field(bind, 'source_address');
    if (isObject(sa)) sourceAddress = str(field(sa, 'address'));
  }

  const endpoints = staticEndpoints(c);
  const port = (name !== undefined ? inboundClusterPort(name) : undefined) ?? endpoints[0]?.port;

  const base = {
    ...(name !== undefined ? { name } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(sourceAddress !== undefined ? { sourceAddress } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(lbPolicy !== undefined ? { lbPolicy } : {}),
    inbound,
  };
  const where = port !== undefined ? `:${port}` : '';

  if (type === 'STATIC' && endpoints.length > 0 && endpoints.every((e) => isLoopback(e.address))) {
    const target = endpoints[0]!.address;
    return {
      ...base,
      mode: 'static-localhost',
      targetAddress: target,
      explanation: `Envoy forwards to ${target}${where} over lo (Istio before 1.10): the app sees the peer as ${sourceAddress ?? '127.0.0.1'} and is reached even if it listens on localhost only.`,
    };
  }
  if (type === 'ORIGINAL_DST') {
    if (sourceAddress === '127.0.0.6' || sourceAddress === '::6') {
      return {
        ...base,
        mode: 'original-dst-127.0.0.6',
        explanation: `Envoy forwards to the address the client dialed (the pod IP${where}) from ${sourceAddress} (Istio 1.10+): the app must listen on the pod IP or 0.0.0.0, and sees the peer as ${sourceAddress}.`,
      };
    }
    return {
      ...base,
      mode: 'original-dst',
      explanation: `Envoy forwards to the address the client dialed (the pod IP${where})${sourceAddress ? ` from ${sourceAddress}` : ' without the 127.0.0.6 bind'}: the app must listen on the pod IP or 0.0.0.0.`,
    };
  }
  const targetAddress = endpoints[0]?.address;
  return {
    ...base,
    mode: 'other',
    ...(targetAddress !== undefined ? { targetAddress } : {}),
    explanation: `cluster type ${type ?? '(none)'}${targetAddress ? ` to ${targetAddress}` : ''}: not one of the inbound forwarding shapes Istio uses.`,
  };
}

interface SocketAddress {
  address: string;
  port?: number;
}

function staticEndpoints(c: Json): SocketAddress[] {
  const out: SocketAddress[] = [];
  const la = field(c, 'load_assignment');
  if (!isObject(la)) return out;
  const eps = field(la, 'endpoints');
  if (!Array.isArray(eps)) return out;
  for (const loc of eps) {
    if (!isObject(loc)) continue;
    const lbs = field(loc, 'lb_endpoints');
    if (!Array.isArray(lbs)) continue;
    for (const lb of lbs) {
      if (!isObject(lb)) continue;
      const ep = field(lb, 'endpoint');
      if (!isObject(ep)) continue;
      const addr = field(ep, 'address');
      if (!isObject(addr)) continue;
      const sa = field(addr, 'socket_address');
      if (!isObject(sa)) continue;
      const a = str(field(sa, 'address'));
      if (a === undefined) continue;
      const p = portValue(field(sa, 'port_value'));
      out.push({ address: a, ...(p !== undefined ? { port: p } : {}) });
    }
  }
  return out;
}

function isLoopback(a: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === '::1' || a === 'localhost';
}

/**
 * Every inbound cluster of a config dump (`/config_dump` JSON object), classified.
 * Reads the ClustersConfigDump's static and dynamic active clusters; anything else is ignored.
 */
export function inboundForwardingFromConfigDump(dump: unknown): InboundForwarding[] {
  const what = 'config_dump';
  if (!isObject(dump)) throw new ParseError(what, 'expected a JSON object with "configs"');
  const configs = dump['configs'];
  if (!Array.isArray(configs)) throw new ParseError(what, 'no "configs" array; is this a /config_dump response?');
  const out: InboundForwarding[] = [];
  for (const cfg of configs) {
    if (!isObject(cfg) || !String(cfg['@type'] ?? '').endsWith('ClustersConfigDump')) continue;
    for (const key of ['static_clusters', 'dynamic_active_clusters']) {
      const list = field(cfg, key);
      if (!Array.isArray(list)) continue;
      for (const entry of list) {
        if (!isObject(entry)) continue;
        const cl = field(entry, 'cluster');
        if (!isObject(cl)) continue;
        const name = str(field(cl, 'name'));
        if (name === undefined || !(/^inbound\|/.test(name) || /^InboundPassthroughCluster/.test(name))) continue;
        out.push(classifyInboundCluster(cl));
      }
    }
  }
  return out;
}
