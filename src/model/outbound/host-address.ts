/**
 * Where a proxy's own config places a host the listed resources do not
 * declare (a snapshot without that namespace's Services, a Service the user
 * may not list), so a diagnosis does not assume an external IP for an in-mesh
 * host. istiod names outbound clusters `outbound|PORT|SUBSET|HOST`, binds a
 * per-VIP listener `VIP_PORT` whose chain goes to that cluster for a Service or
 * an addressed ServiceEntry, and lists the VIP beside the host among an HTTP
 * route's virtual host domains (`10.96.0.12`, `10.96.0.12:8000`)
 * (pilot/pkg/networking/core/listener.go, httproute.go).
 */
import type { ConfigDump } from '../envoy/config-dump.js';
import { listenerTable } from '../envoy/listener-table.js';

export interface HostAddress {
  /** The VIP the proxy has for the host; absent when it knows the host but no address. */
  ip?: string;
  because: string;
}

const IPV4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/;

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/** From a per-VIP listener whose chain names the host's cluster. */
function fromListener(dump: ConfigDump, cluster: string, port: number): HostAddress | undefined {
  const row = listenerTable(dump, { port }).find((r) => r.destination.split(/[\s,]+/).some((d) => d.endsWith(cluster)) && !isWildcard(r.addresses.split(',')[0]!));
  if (!row) return undefined;
  const ip = row.addresses.split(',')[0]!;
  return { ip, because: `the sidecar's listener ${row.listener.name} sends ${ip}:${port} to ${cluster}: ${ip} is the host's address in the mesh` };
}

/** From a virtual host that lists the host among its domains, with an IPv4 VIP beside it. */
function fromRoutes(dump: ConfigDump, host: string, port: number): HostAddress | undefined {
  for (const rc of dump.routeConfigs) {
    for (const vh of rc.virtualHosts) {
      if (!vh.domains.includes(host) && !vh.domains.includes(`${host}:${port}`)) continue;
      const vip = vh.domains.map((d) => IPV4.exec(d)?.[1]).find((x) => x);
      if (vip) return { ip: vip, because: `the sidecar's route config ${rc.name} lists ${vip} beside ${host} (virtual host ${vh.name}): ${vip} is the host's address in the mesh` };
    }
  }
  return undefined;
}

/** The host's address in the proxy's config; undefined when the proxy does not know the host at all. */
export function hostAddressInDump(dump: ConfigDump, host: string, port: number): HostAddress | undefined {
  const cluster = `outbound|${port}||${host}`;
  const address = fromListener(dump, cluster, port) ?? fromRoutes(dump, host, port);
  if (address) return address;
  if (dump.cluster(cluster)) return { because: `the sidecar has cluster ${cluster} but no listener or route gives ${host} an address (an in-mesh host without a VIP)` };
  return undefined;
}
