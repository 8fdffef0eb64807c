/**
 * Who takes a TLS connection on a port that no chain claims by SNI or
 * address, per sidecar (incidents 1 and 4). The ownership of each port is
 * derived once per proxy (EgressShared); the verdict and its culprit come
 * from the outbound-path explanation, the same one why-https-fails gives for
 * one host.
 *
 *   md1001-tls-port-treated-as-http   MD1001  the port's catch-all is an HTTP connection manager
 *   md1002-catch-all-owns-port        MD1002  a catch-all chain sends the port's traffic to one service
 */
import { isBlackHole, isPassthrough, type PortOwnership } from '../../model/outbound/index.js';
import { serviceEntries } from '../../model/istio/service-entry.js';
import { services } from '../../model/istio/services.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { Finding } from '../../findings/finding.js';
import { anyOf } from '../rule.js';
import { explainOutboundPath } from './outbound-path.js';
import type { EgressRule, EgressShared, ProxyEvidence } from './evidence.js';

/** How the explanation names "whatever host the app meant" for a connection no chain claims. */
export const ANY_HOST = 'any host without its own chain';

const needs = ['config-dump', anyOf('Service', 'ServiceEntry')] as const;

export const tlsPortTreatedAsHttp: EgressRule = {
  id: 'md1001-tls-port-treated-as-http',
  code: 'MD1001',
  description: "TLS on a port whose catch-all chain is an HTTP connection manager (the port is declared HTTP): every HTTPS client of the port fails",
  needs,
  check: (e, shared) => explainPorts(e, shared, (o) => o.unmatchedTls.outcome.kind === 'tls_into_http'),
};

export const catchAllOwnsPort: EgressRule = {
  id: 'md1002-catch-all-owns-port',
  code: 'MD1002',
  description: 'A catch-all chain sends every unmatched TLS connection on the port to one service instead of PassthroughCluster',
  needs,
  check: (e, shared) => explainPorts(e, shared, (o) => {
    const out = o.unmatchedTls.outcome;
    return out.kind === 'cluster' && !isPassthrough(out.cluster) && !isBlackHole(out.cluster);
  }),
};

export const UNMATCHED_TLS_RULES: readonly EgressRule[] = [tlsPortTreatedAsHttp, catchAllOwnsPort];

function explainPorts(e: ProxyEvidence, shared: EgressShared, wanted: (o: PortOwnership) => boolean): Finding[] {
  const findings: Finding[] = [];
  for (const [port, ownership] of shared.ownership) {
    if (!e.dump || !wanted(ownership)) continue;
    findings.push(...explainOutboundPath({
      pod: e.pod, podArg: e.podArg, resources: e.resources, mesh: e.mesh, dump: e.dump,
      ...(e.istioVersion ? { istioVersion: e.istioVersion } : {}),
      host: ANY_HOST, port, simulation: ownership.unmatchedTls,
      dumpSource: e.dumpSource ?? `config_dump of ${e.podArg}`, ...(e.dumpFile ? { dumpFile: e.dumpFile } : {}),
      staticFindings: e.staticFindings, anyHost: true,
    }).findings);
  }
  return findings;
}

/** The ports TLS is declared on in the mesh (443 always): where an unclaimed TLS connection can be captured. */
export function tlsPorts(resources: ResourceSet): number[] {
  const ports = new Set<number>([443]);
  for (const svc of services(resources)) for (const p of svc.ports) if (p.protocol.protocol === 'TLS' || p.protocol.protocol === 'HTTPS') ports.add(p.port);
  for (const se of serviceEntries(resources)) for (const p of se.ports) if (p.protocol.protocol === 'TLS' || p.protocol.protocol === 'HTTPS') ports.add(p.number);
  return [...ports].sort((a, b) => a - b);
}
