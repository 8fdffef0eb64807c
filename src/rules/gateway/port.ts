/**
 * MD8002: the Gateway's server for the host is on another port than the one
 * the request arrives on. istiod resolves a server's port through the
 * gateway's Services (resolvePorts, pilot/pkg/model/gateway.go): a Service
 * port becomes its targetPort, any other number is used as written, so a
 * server on a port the Service does not expose gets a listener no client reaches.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { toYaml } from '../../model/istio/common.js';
import { failed, listenerPortOf, selectsPod, serverHasHost, serversOnPort, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText, walkEvidence } from './support.js';

export const gatewayPortMismatch: GatewayRule = {
  id: 'md8002-gateway-port-mismatch',
  code: 'MD8002',
  description: "The Gateway declares the host on a port the request does not arrive on",
  needs: ['config-dump', 'Gateway'],
  check(e, { earlier }): Finding[] {
    if (!failed(e) || earlier.length || serversOnPort(e).some(({ server }) => serverHasHost(server, e.request.host))) return [];
    const findings: Finding[] = [];
    for (const g of e.gateways.filter((x) => selectsPod(x, e.pod))) {
      const elsewhere = g.servers.filter((s) => serverHasHost(s, e.request.host) && listenerPortOf(s, e.podServices) !== e.request.listenerPort);
      if (elsewhere.length === 0) continue;
      const s = elsewhere[0];
      const exposed = e.podServices.flatMap((svc) => svc.ports.map((p) => `${svc.name} ${p.port}->${p.targetPort ?? p.port}`));
      findings.push(makeFinding('MD8002', {
        message: `Gateway ${g.namespace}/${g.name} declares ${e.request.host} on port ${s.port.number} (listener ${listenerPortOf(s, e.podServices)} on the gateway pod), but ${requestText(e)} arrives on port ${e.request.port}, which the gateway Service forwards to ${e.request.listenerPort}: the server is on a port no client of this request reaches.`,
        target: g.ref,
        evidence: [gatewayEvidence(g, elsewhere, `spec.servers[${s.index}].port.number is resolved through the gateway Service's ports (${exposed.join(', ') || 'none'})`), walkEvidence(e)],
        remediation: { text: `Declare the server on the Service port clients use (${e.request.port}), not the container port or another number.`, patch: toYaml({ spec: { servers: [{ port: { number: e.request.port, name: s.port.name ?? s.port.protocol.toLowerCase(), protocol: s.port.protocol }, hosts: [e.request.host] }] } }) + `\n# servers[${s.index}] of Gateway ${g.namespace}/${g.name}` },
      }));
    }
    return findings;
  },
};
