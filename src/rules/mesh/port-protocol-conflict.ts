import type { Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { exportedTo, kubectlGet } from '../../model/istio/common.js';
import { describeProtocol, isHttpFamily, protocolClass, type IstioProtocol } from '../../model/istio/protocol.js';
import { serviceEntries } from '../../model/istio/service-entry.js';
import { services } from '../../model/istio/services.js';
import { formatRef, type ObjectRef } from '../../model/k8s/resources.js';
import { anyOf } from '../rule.js';
import type { MeshRule } from './evidence.js';
import { serviceEntryExcerpt, servicePortExcerpt } from './support.js';

// MD1005: one port number, different protocols

interface PortDeclaration {
  ref: ObjectRef;
  kind: 'Service' | 'ServiceEntry';
  namespace: string;
  hosts: string[];
  port: number;
  protocol: IstioProtocol | undefined;
  /** True when the sidecar binds this port's listener to 0.0.0.0 (HTTP always; others without a VIP). */
  wildcardListener: boolean;
  exportTo?: string[];
  excerpt: string;
  source: string;
}

/**
 * Two cases, both from Istio's code:
 *  - the same host and port with different protocols across ServiceEntries
 *    (IST0177, pkg/config/analysis/analyzers/serviceentry/conflictingserviceentries.go),
 *    extended here to Services and ServiceEntries sharing a hostname;
 *  - the same port number where an HTTP declaration and a non-HTTP one without
 *    a VIP both land on the sidecar's 0.0.0.0:<port> listener: istiod keeps one
 *    and drops the other (pilot_conflict_outbound_listener_tcp_over_current_http
 *    and http_over_current_tcp, pilot/pkg/model/push_context.go).
 * Declarations only conflict when some namespace sees both (exportTo).
 */
type MeshEvidence = Parameters<MeshRule['check']>[0];

/** Every TCP port of every Service and ServiceEntry, with whether the sidecar binds it to 0.0.0.0. */
function portDeclarations({ resources, mesh }: MeshEvidence): PortDeclaration[] {
  const declarations: PortDeclaration[] = [];
  for (const svc of services(resources)) {
    for (const port of svc.ports) {
      if (port.transport.toUpperCase() === 'UDP') continue;
      declarations.push({
        ref: svc.ref, kind: 'Service', namespace: svc.namespace, hosts: svc.hosts, port: port.port, protocol: port.protocol.protocol,
        // Headless Services get per-pod-IP listeners (PILOT_ENABLE_HEADLESS_SERVICE_POD_LISTENERS, on by default), not 0.0.0.0.
        wildcardListener: isHttpFamily(port.protocol.protocol),
        ...(svc.exportTo ? { exportTo: svc.exportTo } : {}),
        excerpt: servicePortExcerpt(svc, [port]), source: kubectlGet(svc.ref),
      });
    }
  }
  const autoAllocated = mesh.dnsCapture && mesh.dnsAutoAllocate;
  for (const se of serviceEntries(resources)) {
    const hasVip = se.addresses.length > 0 || se.allocatedAddresses.length > 0 || autoAllocated;
    for (const port of se.ports) {
      declarations.push({
        ref: se.ref, kind: 'ServiceEntry', namespace: se.namespace, hosts: se.hosts, port: port.number, protocol: port.protocol.protocol,
        wildcardListener: isHttpFamily(port.protocol.protocol) || !hasVip,
        ...(se.exportTo ? { exportTo: se.exportTo } : {}),
        excerpt: serviceEntryExcerpt(se, [port]), source: kubectlGet(se.ref),
      });
    }
  }
  return declarations;
}

/** Why two declarations of one port conflict, or undefined when they do not. */
function conflictReason(a: PortDeclaration, b: PortDeclaration, port: number): string | undefined {
  const sharedHost = a.hosts.find((h) => b.hosts.includes(h));
  if (sharedHost && (a.protocol ?? '') !== (b.protocol ?? '')) {
    return `host ${sharedHost} port ${port} is declared as ${describeProtocol(a.protocol)} and as ${describeProtocol(b.protocol)}`;
  }
  if (a.wildcardListener && b.wildcardListener) {
    const classes = new Set([protocolClass(a.protocol), protocolClass(b.protocol)]);
    if (classes.has('http') && classes.has('tcp')) {
      return `both land on the sidecar listener 0.0.0.0:${port}, one as HTTP and one as opaque TCP without a VIP; istiod keeps only one of them`;
    }
  }
  return undefined;
}

interface PortConflicts {
  others: Map<PortDeclaration, Set<PortDeclaration>>;
  reasons: Map<PortDeclaration, string>;
}

/** The conflicting pairs among one port's declarations, seen from each side. */
function conflictsOnPort(list: PortDeclaration[], port: number, overlap: (a: PortDeclaration, b: PortDeclaration) => boolean): PortConflicts {
  const sameResource = (a: PortDeclaration, b: PortDeclaration): boolean => a.ref.kind === b.ref.kind && a.ref.namespace === b.ref.namespace && a.ref.name === b.ref.name;
  const others = new Map<PortDeclaration, Set<PortDeclaration>>();
  const reasons = new Map<PortDeclaration, string>();
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const [a, b] = [list[i], list[j]];
      if (sameResource(a, b) || !overlap(a, b)) continue;
      const reason = conflictReason(a, b, port);
      if (!reason) continue;
      for (const [x, y] of [[a, b], [b, a]] as const) {
        others.set(x, (others.get(x) ?? new Set()).add(y));
        if (!reasons.has(x)) reasons.set(x, reason);
      }
    }
  }
  return { others, reasons };
}

function conflictFinding(d: PortDeclaration, otherList: PortDeclaration[], port: number, reason: string | undefined): Finding {
  return makeFinding('MD1005', {
    message: `${formatRef(d.ref)} declares port ${port} as ${describeProtocol(d.protocol)}, and ${otherList.map((o) => `${formatRef(o.ref)} as ${describeProtocol(o.protocol)}`).join(', ')}: ${reason}. `
      + 'Sidecars that see both get one protocol for the port, so traffic for the other is handled with the wrong protocol or dropped.',
    target: d.ref,
    evidence: [d, ...otherList].map((x) => ({ source: x.source, excerpt: x.excerpt })),
    remediation: {
      text: `Declare one protocol for port ${port} across these resources (rename the port or set appProtocol / protocol), give the non-HTTP one an address (ServiceEntry addresses), or limit their exportTo so no namespace sees both.`,
    },
  });
}

export const portProtocolConflict: MeshRule = {
  id: 'md1005-port-protocol-conflict',
  code: 'MD1005',
  description: 'One port number declared with conflicting protocols across Services and ServiceEntries',
  needs: [anyOf('Service', 'ServiceEntry')],
  check(evidence) {
    const { mesh } = evidence;
    const declarations = portDeclarations(evidence);
    const namespaces = new Set<string>(declarations.map((d) => d.namespace));
    const overlap = (a: PortDeclaration, b: PortDeclaration): boolean => {
      for (const ns of [...namespaces, '__elsewhere__']) {
        if (exportedTo(a.exportTo, a.namespace, ns, mesh.defaultServiceExportTo) && exportedTo(b.exportTo, b.namespace, ns, mesh.defaultServiceExportTo)) return true;
      }
      return false;
    };
    const findings: Finding[] = [];
    const reported = new Set<string>();
    const byPort = new Map<number, PortDeclaration[]>();
    for (const d of declarations) byPort.set(d.port, [...(byPort.get(d.port) ?? []), d]);
    for (const [port, list] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
      const { others, reasons } = conflictsOnPort(list, port, overlap);
      for (const [d, otherSet] of others) {
        const key = `${d.ref.kind}/${d.ref.namespace}/${d.ref.name}/${port}`;
        if (reported.has(key)) continue;
        reported.add(key);
        findings.push(conflictFinding(d, [...otherSet], port, reasons.get(d)));
      }
    }
    return findings;
  },
};
