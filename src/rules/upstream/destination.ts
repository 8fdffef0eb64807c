/**
 * What `why-503 <client> --to <host[:port] | service>` points at: the Service
 * (or ServiceEntry host) and port, the Envoy cluster the client uses for it
 * (`outbound|PORT|SUBSET|FQDN`), and the names a request for it carries in
 * `:authority` — the keys that pick the destination's lines out of a client's
 * access log. Pure: reads a ResourceSet.
 */
import { hostMatches, resolveShortname } from '../../model/istio/common.js';
import { serviceEntries, type ServiceEntryView } from '../../model/istio/service-entry.js';
import { selectsPod, services, type ServicePortView, type ServiceView } from '../../model/istio/services.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import { parseIstioClusterName } from '../../model/envoy/clusters.js';

export interface Destination {
  /** As the user typed it. */
  input: string;
  /** FQDN for a Service (`httpbin.foo.svc.cluster.local`), else the host as given. */
  host: string;
  port?: number;
  service?: ServiceView;
  servicePort?: ServicePortView;
  serviceEntry?: ServiceEntryView;
  /** `outbound|8000||httpbin.foo.svc.cluster.local` when the port is known. */
  clusterName?: string;
  /** Forms of the name a request may carry in :authority (lower case, with and without the port). */
  authorities: string[];
  /** Cluster IPs (with the port when known), also seen as :authority or downstream local address. */
  addresses: string[];
  /** Why a choice was made (port picked among several, ...). */
  notes: string[];
}

export interface DestinationProblem {
  problem: string;
  /** Nothing by that name (the same exit code as an unknown pod), rather than input that names no host. */
  notFound?: boolean;
  suggestion: string;
}

/** Splits `http://httpbin.foo:8000/get`, `httpbin:8000`, `[fd00::1]:80` into host and port. */
export function splitHostPort(input: string): { host: string; port?: number; scheme?: string } {
  let text = input.trim();
  let scheme: string | undefined;
  const s = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (s) {
    scheme = s[1].toLowerCase();
    text = text.slice(s[0].length);
  }
  text = text.replace(/[/?#].*$/, '').replace(/^[^@]*@/, '');
  let host = text;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (v6) {
    host = v6[1];
    port = v6[2] ? Number(v6[2]) : undefined;
  } else {
    const m = /^([^:]+):(\d{1,5})$/.exec(text);
    if (m) {
      host = m[1];
      port = Number(m[2]);
    }
  }
  if (port === undefined && scheme === 'http') port = 80;
  if (port === undefined && scheme === 'https') port = 443;
  return { host: host.toLowerCase(), ...(port !== undefined ? { port } : {}), ...(scheme ? { scheme } : {}) };
}

function findService(all: ServiceView[], host: string, clientNamespace: string): ServiceView | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')) return all.find((s) => s.clusterIPs.includes(host));
  const labels = host.split('.');
  if (labels.length === 1) return all.find((s) => s.name === host && s.namespace === clientNamespace);
  // name.namespace, name.namespace.svc, name.namespace.svc.<suffix>
  if (labels.length === 2 || labels[2] === 'svc') return all.find((s) => s.name === labels[0] && s.namespace === labels[1]);
  return undefined;
}

/** Resolves `--to`. Returns a problem (for a usage error) when nothing matches. */
export function resolveDestination(input: string, clientNamespace: string, resources: ResourceSet): Destination | DestinationProblem {
  const { host, port } = splitHostPort(input);
  if (!host) return { problem: `--to "${input}" names no host`, suggestion: 'Give a Service (httpbin, httpbin.foo), a host:port, or a URL.' };
  const notes: string[] = [];
  const all = services(resources);
  const service = findService(all, host, clientNamespace);
  if (service) {
    let servicePort = port !== undefined ? service.ports.find((p) => p.port === port) : service.ports.length === 1 ? service.ports[0] : undefined;
    if (!servicePort && port === undefined && service.ports.length > 1) {
      servicePort = service.ports[0];
      notes.push(`Service ${service.namespace}/${service.name} has ${service.ports.length} ports; using ${servicePort.port}${servicePort.name ? ` (${servicePort.name})` : ''} — pass --to ${service.name}.${service.namespace}:PORT to pick another`);
    }
    if (!servicePort && port !== undefined) {
      return {
        problem: `Service ${service.namespace}/${service.name} has no port ${port} (it has ${service.ports.map((p) => p.port).join(', ') || 'none'})`,
        suggestion: `Use one of its ports, e.g. --to ${service.name}.${service.namespace}:${service.ports[0]?.port ?? 80}.`,
      };
    }
    const p = servicePort?.port;
    const short = [service.name, `${service.name}.${service.namespace}`, `${service.name}.${service.namespace}.svc`, service.host];
    const authorities = short.flatMap((h) => (p !== undefined ? [h, `${h}:${p}`] : [h]));
    const addresses = service.clusterIPs.flatMap((ip) => (p !== undefined ? [ip, `${ip}:${p}`] : [ip]));
    return {
      input,
      host: service.host,
      ...(p !== undefined ? { port: p } : {}),
      service,
      ...(servicePort ? { servicePort } : {}),
      ...(p !== undefined ? { clusterName: `outbound|${p}||${service.host}` } : {}),
      authorities,
      addresses,
      notes,
    };
  }
  const fqdn = host.includes('.') ? host : resolveShortname(host, clientNamespace);
  const entry = serviceEntries(resources).find((se) => se.hosts.some((h) => hostMatches(h, fqdn)));
  if (entry) {
    const entryPort = port ?? (entry.ports.length === 1 ? entry.ports[0].number : undefined);
    if (port === undefined && entry.ports.length > 1) notes.push(`ServiceEntry ${entry.namespace}/${entry.name} has several ports; pass --to ${host}:PORT`);
    return {
      input,
      host: fqdn,
      ...(entryPort !== undefined ? { port: entryPort, clusterName: `outbound|${entryPort}||${fqdn}` } : {}),
      serviceEntry: entry,
      authorities: entryPort !== undefined ? [host, `${host}:${entryPort}`] : [host],
      addresses: [],
      notes,
    };
  }
  return {
    problem: `no Service or ServiceEntry matches "${input}" from namespace ${clientNamespace}`,
    notFound: true,
    suggestion: 'Name a Service as name or name.namespace (with :port when it has several), or a ServiceEntry host; or pass --server-pod.',
  };
}

export function isProblem(value: Destination | DestinationProblem): value is DestinationProblem {
  return (value as DestinationProblem).problem !== undefined;
}

/** The pods behind a Service destination (its selector), ready ones first. */
export function podsBehind(destination: Destination, pods: PodView[]): PodView[] {
  const service = destination.service;
  if (!service) return [];
  return pods.filter((p) => selectsPod(service, { namespace: p.namespace, name: p.name, labels: p.labels }))
    .sort((a, b) => Number(b.phase === 'Running') - Number(a.phase === 'Running'));
}

/**
 * Whether an access-log entry of the client is a request to this destination:
 * its upstream cluster is one of the destination's (any subset), or its
 * :authority names it (old formats have no cluster field; seed 004: "httpbin:8000").
 */
export function entryIsFor(destination: Destination, entry: AccessLogEntry): boolean {
  if (entry.upstreamCluster) {
    const parsed = parseIstioClusterName(entry.upstreamCluster);
    if (parsed && parsed.direction === 'outbound') {
      return parsed.host === destination.host && (destination.port === undefined || parsed.port === destination.port);
    }
  }
  const authority = entry.authority?.toLowerCase();
  if (authority && (destination.authorities.includes(authority) || destination.addresses.includes(authority))) return true;
  if (!entry.upstreamCluster && !authority && entry.downstreamLocalAddress) return destination.addresses.includes(entry.downstreamLocalAddress);
  return false;
}
