import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import { describeProtocol, isOpaqueTcp, isTlsProtocol } from '../../model/istio/protocol.js';
import { serviceEntries, type ServiceEntryPortView, type ServiceEntryView } from '../../model/istio/service-entry.js';
import { services } from '../../model/istio/services.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { MeshRule } from './evidence.js';
import { scopeText, serviceEntryExcerpt } from './support.js';

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
export const serviceEntryWithoutAddresses: MeshRule = {
  id: 'md1003-serviceentry-without-addresses',
  code: 'MD1003',
  description: 'ServiceEntry without spec.addresses on a TCP, unset-protocol, TLS or HTTPS port',
  needs: ['ServiceEntry'],
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
            + `but the same shape produced a catch-all ALL chain on Istio 1.11, and istioctl analyze (IST0134) does not check TLS ports. Check the listener: \`SNI: ${se.hosts[0]}\` is the current behaviour, \`ALL\` the Istio 1.11 one.`,
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
