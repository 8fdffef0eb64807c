/**
 * Who owns a port in a sidecar: every filter chain that can take the port's
 * traffic, as istioctl prints it, with the resource behind it, and which
 * chain wins for traffic no other chain claims (the question of incident 4:
 * a ServiceEntry without addresses makes a catch-all chain on 0.0.0.0:PORT
 * that captures every connection to that port).
 * Also the static view, from resources alone, when there is no proxy data.
 */
import type { ConfigDump } from '../envoy/config-dump.js';
import { listenerTable, type ListenerRow } from '../envoy/listener-table.js';
import { formatRef, type ObjectRef, type ResourceSet } from '../k8s/resources.js';
import { describeExportTo, exportedTo } from '../istio/common.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from '../istio/mesh-config.js';
import { describeProtocol, isHttpFamily } from '../istio/protocol.js';
import { serviceEntries } from '../istio/service-entry.js';
import { services } from '../istio/services.js';
import { sidecarView, visibleTo } from '../istio/sidecar.js';
import { destinationClusters, ownersOfChain, virtualServicesOfChain } from '../owner.js';
import { httpsConnection, type OutboundConnection } from './connection.js';
import { isBlackHole, isCatchAllChain, isPassthrough, simulateOutbound, type SimulationResult } from './simulate.js';

/** A host no ServiceEntry names, to ask "where does traffic nobody claims go?". */
export const UNCLAIMED_HOST = 'unclaimed-host.mesh-doctor.invalid';

export interface PortChain {
  addresses: string;
  port: number;
  match: string;
  destination: string;
  owners: ObjectRef[];
  listener: string;
  filterChain: string;
  /** No criterion of its own besides the port: takes what other chains of its listener do not. */
  catchAll: boolean;
  /** A catch-all on a 0.0.0.0 listener that sends to a service rather than PassthroughCluster/BlackHoleCluster: owns every unmatched connection to the port. */
  capturesUnmatched: boolean;
  /** A catch-all HTTP connection manager on a 0.0.0.0 listener: TLS to the port reaches it and fails (incident 1). */
  httpCatchAll: boolean;
  row: ListenerRow;
}

export interface PortOwnership {
  port: number;
  chains: PortChain[];
  /** Where a TLS connection to an unlisted host on this port ends (no --ip: an external address). */
  unmatchedTls: SimulationResult;
  /** Its owner, when the winner is a service. */
  unmatchedOwners: ObjectRef[];
}

function ownersOf(row: ListenerRow, resources: ResourceSet, dump: ConfigDump): ObjectRef[] {
  const refs = [...ownersOfChain(row.filterChain, resources, dump), ...virtualServicesOfChain(row.filterChain, dump)];
  const seen = new Set<string>();
  return refs.filter((r) => (seen.has(formatRef(r)) ? false : (seen.add(formatRef(r)), true)));
}

export function portOwnership(dump: ConfigDump, port: number, resources: ResourceSet, probe: Partial<OutboundConnection> = {}, options: { istioVersion?: string } = {}): PortOwnership {
  const rows = listenerTable(dump, { port });
  const chains: PortChain[] = rows.map((row) => {
    const catchAll = isCatchAllChain(row.filterChain);
    const clusters = destinationClusters(row.filterChain, dump);
    const wildcard = row.addresses.split(',').some((a) => a === '0.0.0.0' || a === '::');
    const toService = clusters.length > 0 && clusters.every((c) => !isPassthrough(c) && !isBlackHole(c)) && Boolean(row.filterChain.tcpProxy);
    return {
      addresses: row.addresses,
      port: row.port,
      match: row.match,
      destination: row.destination,
      owners: ownersOf(row, resources, dump),
      listener: row.listener.name,
      filterChain: row.filterChain.name,
      catchAll,
      capturesUnmatched: catchAll && wildcard && toService,
      httpCatchAll: catchAll && wildcard && Boolean(row.filterChain.httpConnectionManager) && !row.filterChain.terminatesTls,
      row,
    };
  });
  const unmatchedTls = simulateOutbound(dump, { ...httpsConnection(UNCLAIMED_HOST, { port }), ...probe }, options);
  const unmatchedOwners = unmatchedTls.chain ? ownersOfChain(unmatchedTls.chain, resources, dump) : [];
  return { port, chains, unmatchedTls, unmatchedOwners };
}

// ---------------------------------------------------------------------------
// Static view: no proxy data, only resources.

export interface PortDeclaration {
  ref: ObjectRef;
  hosts: string[];
  protocol: string;
  /** Where the protocol came from (port name prefix, appProtocol, protocol field, default). */
  protocolFrom: string;
  addresses: string[];
  exportTo: string;
  /** Namespaces (of those that hold pods or Sidecars) whose sidecars get this declaration. */
  visibleIn: string[];
  hiddenIn: Array<{ namespace: string; because: string }>;
  /** Without addresses, a non-HTTP port lands on 0.0.0.0:PORT in every sidecar that sees it. */
  wildcardListener: boolean;
}

export function staticPortDeclarations(resources: ResourceSet, port: number, options: { mesh?: MeshConfigView; namespaces?: string[] } = {}): PortDeclaration[] {
  const mesh = options.mesh ?? DEFAULT_MESH_CONFIG;
  const namespaces = [...new Set([
    ...(options.namespaces ?? []),
    ...resources.of('Pod').map((p) => p.metadata.namespace ?? 'default'),
    ...resources.of('Sidecar').map((s) => sidecarView(s).namespace),
  ])].sort();
  const out: PortDeclaration[] = [];
  const visibility = (resource: Parameters<typeof visibleTo>[1], ownerNs: string, exportToList: string[] | undefined) => {
    const visibleIn: string[] = [];
    const hiddenIn: Array<{ namespace: string; because: string }> = [];
    for (const ns of namespaces) {
      if (!exportedTo(exportToList, ownerNs, ns, mesh.defaultServiceExportTo)) {
        hiddenIn.push({ namespace: ns, because: `exportTo ${describeExportTo(exportToList, mesh.defaultServiceExportTo)}` });
        continue;
      }
      const v = visibleTo({ namespace: ns }, resource, resources, { mesh });
      if (v.visible) visibleIn.push(ns);
      else hiddenIn.push({ namespace: ns, because: v.because });
    }
    return { visibleIn, hiddenIn };
  };
  for (const svc of services(resources)) {
    for (const p of svc.ports.filter((x) => x.port === port)) {
      const protocol = p.protocol.protocol;
      out.push({
        ref: svc.ref,
        hosts: svc.hosts,
        protocol: describeProtocol(protocol),
        protocolFrom: p.protocol.detail,
        addresses: svc.clusterIPs,
        exportTo: describeExportTo(svc.exportTo, mesh.defaultServiceExportTo),
        ...visibility(svc, svc.namespace, svc.exportTo),
        wildcardListener: isHttpFamily(protocol),
      });
    }
  }
  for (const se of serviceEntries(resources)) {
    for (const p of se.ports.filter((x) => x.number === port)) {
      const protocol = p.protocol.protocol;
      out.push({
        ref: se.ref,
        hosts: se.hosts,
        protocol: describeProtocol(protocol),
        protocolFrom: p.protocol.detail,
        addresses: [...se.addresses, ...se.allocatedAddresses],
        exportTo: describeExportTo(se.exportTo, mesh.defaultServiceExportTo),
        ...visibility(se, se.namespace, se.exportTo),
        wildcardListener: se.addresses.length === 0 && se.allocatedAddresses.length === 0,
      });
    }
  }
  return out;
}
