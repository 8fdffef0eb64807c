/**
 * Static checks over Istio/Kubernetes resources: pure rules, ESLint-style.
 * Each rule declares the finding code it reports and the kinds it needs; the
 * runner reports a rule as skipped (with the reason) when its inputs are
 * absent, as Istio's analyzers do (pkg/config/analysis: Metadata.Inputs).
 *
 *   md1003-serviceentry-without-addresses   MD1003
 *   md1004-http-on-443                      MD1004
 *   md1005-port-protocol-conflict           MD1005
 */
import type { FindingCode } from '../../findings/catalog.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { formatRef, type ObjectRef, type ResourceSet } from '../k8s/resources.js';
import { exportedTo, kubectlGet, toYaml } from './common.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from './mesh-config.js';
import { describeProtocol, isHttpFamily, isOpaqueTcp, isTlsProtocol, protocolClass, type IstioProtocol } from './protocol.js';
import { serviceEntries, type ServiceEntryPortView, type ServiceEntryView } from './service-entry.js';
import { services, type ServicePortView, type ServiceView } from './services.js';
import { httpOn443Breaks, type IstioVersion } from './version-behaviour.js';

export interface RuleContext {
  resources: ResourceSet;
  mesh: MeshConfigView;
  /** The Istio version of the control plane / proxies, when known. */
  istioVersion?: IstioVersion;
}

export interface StaticRule {
  id: string;
  code: FindingCode;
  description: string;
  /** Kinds the rule reads. */
  needs: readonly string[];
  /** 'all': every kind must be present; 'any': one is enough. */
  needsMode: 'all' | 'any';
  check(context: RuleContext): Finding[];
}

export interface RuleOutcome {
  rule: string;
  code: FindingCode;
  status: 'ran' | 'skipped';
  /** Why it was skipped. */
  because?: string;
  findings: number;
}

// ---------------------------------------------------------------------------
// Shared excerpt builders

function serviceEntryExcerpt(se: ServiceEntryView, ports: ServiceEntryPortView[] = se.ports): string {
  const spec: Record<string, unknown> = { hosts: se.hosts };
  if (se.addresses.length > 0) spec.addresses = se.addresses;
  spec.location = se.location;
  spec.resolution = se.resolution;
  spec.ports = ports.map((p) => p.raw);
  if (se.exportTo) spec.exportTo = se.exportTo;
  const lines = toYaml({ spec });
  return se.addresses.length === 0 ? `${lines}\n# (no spec.addresses)` : lines;
}

function servicePortExcerpt(svc: ServiceView, ports: ServicePortView[]): string {
  const spec: Record<string, unknown> = {};
  if (svc.clusterIPs.length > 0 || svc.headless) spec.clusterIP = svc.headless ? 'None' : svc.clusterIPs[0];
  spec.ports = ports.map((p) => p.raw);
  return toYaml({ spec });
}

function scopeText(exportTo: string[] | undefined, namespace: string, mesh: MeshConfigView): string {
  const values = exportTo && exportTo.length > 0 ? exportTo : mesh.defaultServiceExportTo;
  if (values.includes('*')) return 'every namespace in the mesh';
  if (values.includes('~')) return 'no namespace';
  const names = values.map((v) => (v === '.' ? namespace : v));
  return `namespace${names.length > 1 ? 's' : ''} ${[...new Set(names)].join(', ')}`;
}

// ---------------------------------------------------------------------------
// MD1003: ServiceEntry without addresses on a TCP/unset or TLS/HTTPS port

/**
 * Without `addresses` the sidecar builds the entry's non-HTTP listeners on
 * 0.0.0.0:<port>. For TCP and unset protocols the filter chain has no match,
 * so it captures every connection to that port from every sidecar that sees
 * the entry (istio/istio #27990, #29992, #58696); istioctl analyze IST0134
 * (pkg/config/analysis/analyzers/serviceentry/protocoladdresses.go) flags
 * exactly protocol "" or "TCP", and stays silent when DNS capture with
 * auto-allocation is on.
 * TLS/HTTPS ports: since istio/istio#11735 (Istio 1.1) a TLS port without a
 * VIP and without a TLS VirtualService gets `SNI: <host>`
 * (pilot/pkg/networking/core/v1alpha3 buildSidecarOutboundTLSFilterChainOpts),
 * so current Istio captures only TLS naming the entry's hosts. Seed 003
 * nevertheless saw `0.0.0.0 443 ALL Cluster: outbound|443||traefik.cutom-name`
 * on 1.11 for an entry of this shape, and a wildcard host captures a whole
 * domain (with resolution NONE, #49476) — hence a warning, not silence.
 */
const serviceEntryWithoutAddresses: StaticRule = {
  id: 'md1003-serviceentry-without-addresses',
  code: 'MD1003',
  description: 'ServiceEntry without spec.addresses on a TCP, unset-protocol, TLS or HTTPS port',
  needs: ['ServiceEntry'],
  needsMode: 'all',
  check({ resources, mesh }) {
    const findings: Finding[] = [];
    const autoAllocated = mesh.dnsCapture && mesh.dnsAutoAllocate;
    for (const se of serviceEntries(resources)) {
      if (se.addresses.length > 0 || se.allocatedAddresses.length > 0 || autoAllocated) continue;
      if (se.hosts.length === 0) continue;
      const tcpPorts = se.ports.filter((p) => isOpaqueTcp(p.protocol.protocol));
      // TLS/HTTPS: current Istio matches by SNI. A MESH_EXTERNAL entry for concrete public hosts is
      // Istio's documented egress pattern and stays quiet; MESH_INTERNAL entries (seed 003's shape)
      // and wildcard hosts are reported.
      const tlsReportable = se.location === 'MESH_INTERNAL' || se.hosts.some((h) => h.startsWith('*'));
      const tlsPorts = tlsReportable ? se.ports.filter((p) => isTlsProtocol(p.protocol.protocol)) : [];
      if (tcpPorts.length === 0 && tlsPorts.length === 0) continue;
      const scope = scopeText(se.exportTo, se.namespace, mesh);
      const evidenceFor = (ports: ServiceEntryPortView[]): EvidenceItem[] => [{
        source: kubectlGet(se.ref),
        excerpt: serviceEntryExcerpt(se, ports),
        note: `Exported to ${scope}; every sidecar there builds these ports on 0.0.0.0.`,
      }];
      const remediationFor = (port: number) => ({
        text: `Give ServiceEntry ${se.namespace}/${se.name} the addresses its clients connect to (the backend's ClusterIP or CIDR), `
          + `and endpoints or a workloadSelector if resolution needs them${se.exportTo ? '' : `; also consider exportTo: ["."] to limit who sees it`}.`,
        patch: addressesPatch(se, resources),
        // Static evidence only shows the declaration; this shows what a sidecar built from it.
        command: `istioctl proxy-config listeners <pod>.<namespace> --port ${port}`,
      });
      if (tcpPorts.length > 0) {
        const ports = tcpPorts.map((p) => `${p.number} (${describeProtocol(p.protocol.protocol)})`).join(', ');
        findings.push(makeFinding('MD1003', {
          severity: 'error',
          message: `ServiceEntry ${se.namespace}/${se.name} (hosts ${se.hosts.join(', ')}) has no addresses and port ${ports}: `
            + `every sidecar in ${scope} gets a catch-all filter chain on 0.0.0.0:${tcpPorts[0].number} that sends every connection to that port to ${se.hosts[0]}, whatever host the client meant: istioctl shows \`0.0.0.0 ${tcpPorts[0].number} ALL Cluster: outbound|${tcpPorts[0].number}||${se.hosts[0]}\` (istioctl analyze reports this as IST0134).`,
          target: se.ref,
          evidence: evidenceFor(tcpPorts),
          remediation: remediationFor(tcpPorts[0].number),
        }));
      }
      if (tlsPorts.length > 0) {
        const ports = tlsPorts.map((p) => `${p.number} (${describeProtocol(p.protocol.protocol)})`).join(', ');
        const wildcard = se.hosts.find((h) => h.startsWith('*'));
        findings.push(makeFinding('MD1003', {
          severity: 'warning',
          message: `ServiceEntry ${se.namespace}/${se.name} (hosts ${se.hosts.join(', ')}) has no addresses and TLS port ${ports}. `
            + `Current Istio matches such a port by SNI (${se.hosts.join(', ')}), so it takes only TLS connections naming those hosts — `
            + (wildcard ? `with the wildcard host ${wildcard} that is every name under the domain${se.resolution === 'NONE' ? ' (resolution NONE: see istio/istio#49476)' : ''}; ` : '')
            + `but the same shape produced a catch-all ALL chain on Istio 1.11 (seed 003), and istioctl analyze (IST0134) does not check TLS ports. Check the listener: \`SNI: ${se.hosts[0]}\` is the current behaviour, \`ALL\` the seed's.`,
          target: se.ref,
          evidence: evidenceFor(tlsPorts),
          remediation: remediationFor(tlsPorts[0].number),
          assumes: ['Istio >= 1.1 gives a TLS/HTTPS port without addresses an SNI match (istio/istio#11735)'],
        }));
      }
    }
    return findings;
  },
};

function addressesPatch(se: ServiceEntryView, resources: ResourceSet): string {
  // A Service named like the entry's first host label in the same namespace is the likely backend (seed 003: traefik.cutom-name -> Service abc/traefik).
  const firstLabel = se.hosts[0]?.split('.')[0];
  const backend = services(resources).find((s) => s.namespace === se.namespace && s.name === firstLabel && s.clusterIPs.length > 0);
  const address = backend ? backend.clusterIPs[0] : '<the ClusterIP or CIDR clients connect to>';
  const patch: Record<string, unknown> = { addresses: [address] };
  if (se.endpoints.length === 0 && !se.workloadSelector) {
    if (se.resolution === 'STATIC') patch.endpoints = [{ address: '<backend IP>' }];
    else if (se.resolution === 'DNS' && backend) patch.endpoints = [{ address: backend.host }];
  }
  const yaml = toYaml({ spec: patch });
  return backend ? `${yaml}\n# ${address} is the ClusterIP of Service ${backend.namespace}/${backend.name}` : yaml;
}

// ---------------------------------------------------------------------------
// MD1004: HTTP-family protocol on port 443

const httpOn443: StaticRule = {
  id: 'md1004-http-on-443',
  code: 'MD1004',
  description: 'A Service or ServiceEntry declares port 443 with an HTTP-family protocol',
  needs: ['Service', 'ServiceEntry'],
  needsMode: 'any',
  check({ resources, istioVersion, mesh }) {
    const findings: Finding[] = [];
    const bug = httpOn443Breaks(istioVersion);
    const declarations: Array<{ ref: ObjectRef; protocol: IstioProtocol; how: string; excerpt: string; patch: string; exportTo?: string[]; namespace: string }> = [];
    for (const svc of services(resources, { domainSuffix: 'cluster.local' })) {
      for (const port of svc.ports.filter((p) => p.port === 443 && isHttpFamily(p.protocol.protocol))) {
        const fixed = { ...port.raw };
        if (port.protocol.from === 'appProtocol') fixed.appProtocol = 'https';
        else fixed.name = 'https';
        declarations.push({
          ref: svc.ref,
          protocol: port.protocol.protocol!,
          how: port.protocol.detail,
          excerpt: servicePortExcerpt(svc, [port]),
          patch: `${toYaml({ spec: { ports: [fixed] } })}\n# or keep the name and set appProtocol: https (Istio reads appProtocol first)`,
          ...(svc.exportTo ? { exportTo: svc.exportTo } : {}),
          namespace: svc.namespace,
        });
      }
    }
    for (const se of serviceEntries(resources)) {
      for (const port of se.ports.filter((p) => p.number === 443 && isHttpFamily(p.protocol.protocol))) {
        declarations.push({
          ref: se.ref,
          protocol: port.protocol.protocol!,
          how: port.protocol.detail,
          excerpt: serviceEntryExcerpt(se, [port]),
          patch: toYaml({ spec: { ports: [{ ...port.raw, name: 'https', protocol: 'HTTPS' }] } }),
          ...(se.exportTo ? { exportTo: se.exportTo } : {}),
          namespace: se.namespace,
        });
      }
    }
    for (const d of declarations) {
      const scope = scopeText(d.exportTo, d.namespace, mesh);
      const impact = bug.known
        ? bug.applies
          ? `${bug.because}: every sidecar in ${scope} treats outbound port 443 as HTTP, so HTTPS to any host fails (curl: SSL23_GET_SERVER_HELLO:unknown protocol).`
          : `${bug.because}: only traffic to this ${d.ref.kind} on 443 is handled as HTTP; on Istio < 1.8 or ASM <= 1.9 the same declaration breaks HTTPS for every sidecar.`
        : 'Before Istio 1.8 (Anthos Service Mesh before 1.10) this made every sidecar treat outbound 443 as HTTP and broke all HTTPS in the mesh; on later versions only traffic to this service on 443 is handled as HTTP.';
      findings.push(makeFinding('MD1004', {
        severity: bug.known && bug.applies ? 'error' : 'warning',
        message: `${formatRef(d.ref)} declares port 443 as ${d.protocol} (${d.how}). ${impact}`,
        target: d.ref,
        evidence: [{ source: kubectlGet(d.ref), excerpt: d.excerpt }],
        remediation: {
          text: 'Declare the port as what it carries on 443: name it https (or set appProtocol: https), or move plain HTTP off port 443. Upgrading to Istio 1.8+ / ASM 1.10+ removes the mesh-wide effect.',
          patch: d.patch,
          // On affected versions the 0.0.0.0_443 chain without an SNI match holds http_connection_manager instead of tcp_proxy to PassthroughCluster.
          command: 'istioctl proxy-config listeners <pod>.<namespace> --port 443 -o json',
        },
        assumes: [bug.because],
      }));
    }
    return findings;
  },
};

// ---------------------------------------------------------------------------
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
const portProtocolConflict: StaticRule = {
  id: 'md1005-port-protocol-conflict',
  code: 'MD1005',
  description: 'One port number declared with conflicting protocols across Services and ServiceEntries',
  needs: ['Service', 'ServiceEntry'],
  needsMode: 'any',
  check({ resources, mesh }) {
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
    const namespaces = new Set<string>(declarations.map((d) => d.namespace));
    const overlap = (a: PortDeclaration, b: PortDeclaration): boolean => {
      for (const ns of [...namespaces, '__elsewhere__']) {
        if (exportedTo(a.exportTo, a.namespace, ns, mesh.defaultServiceExportTo) && exportedTo(b.exportTo, b.namespace, ns, mesh.defaultServiceExportTo)) return true;
      }
      return false;
    };
    const sameResource = (a: PortDeclaration, b: PortDeclaration): boolean => a.ref.kind === b.ref.kind && a.ref.namespace === b.ref.namespace && a.ref.name === b.ref.name;

    const findings: Finding[] = [];
    const reported = new Set<string>();
    const byPort = new Map<number, PortDeclaration[]>();
    for (const d of declarations) byPort.set(d.port, [...(byPort.get(d.port) ?? []), d]);
    for (const [port, list] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
      const conflicts = new Map<PortDeclaration, Set<PortDeclaration>>();
      const reasons = new Map<PortDeclaration, string>();
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i];
          const b = list[j];
          if (sameResource(a, b) || !overlap(a, b)) continue;
          let reason: string | undefined;
          const sharedHost = a.hosts.find((h) => b.hosts.includes(h));
          if (sharedHost && (a.protocol ?? '') !== (b.protocol ?? '')) {
            reason = `host ${sharedHost} port ${port} is declared as ${describeProtocol(a.protocol)} and as ${describeProtocol(b.protocol)}`;
          } else if (a.wildcardListener && b.wildcardListener) {
            const classes = new Set([protocolClass(a.protocol), protocolClass(b.protocol)]);
            if (classes.has('http') && classes.has('tcp')) {
              reason = `both land on the sidecar listener 0.0.0.0:${port}, one as HTTP and one as opaque TCP without a VIP; istiod keeps only one of them`;
            }
          }
          if (!reason) continue;
          for (const [x, y] of [[a, b], [b, a]] as const) {
            conflicts.set(x, (conflicts.get(x) ?? new Set()).add(y));
            if (!reasons.has(x)) reasons.set(x, reason);
          }
        }
      }
      for (const [d, others] of conflicts) {
        const key = `${d.ref.kind}/${d.ref.namespace}/${d.ref.name}/${port}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const otherList = [...others];
        findings.push(makeFinding('MD1005', {
          message: `${formatRef(d.ref)} declares port ${port} as ${describeProtocol(d.protocol)}, and ${otherList.map((o) => `${formatRef(o.ref)} as ${describeProtocol(o.protocol)}`).join(', ')}: ${reasons.get(d)}. `
            + 'Sidecars that see both get one protocol for the port, so traffic for the other is handled with the wrong protocol or dropped.',
          target: d.ref,
          evidence: [d, ...otherList].map((x) => ({ source: x.source, excerpt: x.excerpt })),
          remediation: {
            text: `Declare one protocol for port ${port} across these resources (rename the port or set appProtocol / protocol), give the non-HTTP one an address (ServiceEntry addresses), or limit their exportTo so no namespace sees both.`,
          },
        }));
      }
    }
    return findings;
  },
};

// ---------------------------------------------------------------------------
// Registry and runner

export const STATIC_RULES: readonly StaticRule[] = [serviceEntryWithoutAddresses, httpOn443, portProtocolConflict];

export function runStaticChecks(
  resources: ResourceSet,
  options: { mesh?: MeshConfigView; istioVersion?: IstioVersion; rules?: readonly StaticRule[] } = {},
): { findings: Finding[]; outcomes: RuleOutcome[] } {
  const context: RuleContext = { resources, mesh: options.mesh ?? DEFAULT_MESH_CONFIG, ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}) };
  const findings: Finding[] = [];
  const outcomes: RuleOutcome[] = [];
  const present = new Set(resources.kinds());
  for (const rule of options.rules ?? STATIC_RULES) {
    const missing = rule.needs.filter((k) => !present.has(k));
    const skip = rule.needsMode === 'all' ? missing.length > 0 : missing.length === rule.needs.length;
    if (skip) {
      outcomes.push({
        rule: rule.id,
        code: rule.code,
        status: 'skipped',
        because: `no ${missing.join(rule.needsMode === 'all' ? ' or ' : ' and no ')} objects in the evidence (none exist, or they were not collected)`,
        findings: 0,
      });
      continue;
    }
    const found = rule.check(context);
    findings.push(...found);
    outcomes.push({ rule: rule.id, code: rule.code, status: 'ran', findings: found.length });
  }
  return { findings, outcomes };
}
