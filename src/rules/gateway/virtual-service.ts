/**
 * The VirtualService side of a gateway 404 (pilot/pkg/networking/core/gateway.go
 * buildGatewayVirtualHosts, pilot/pkg/model/push_context.go VirtualServicesForGateway):
 * a VirtualService's routes reach a gateway server only when it is exported to
 * the gateway pod's namespace (MD8004), its `gateways:` names that server's
 * Gateway (MD8005), and one of its hosts is among the server's hosts (MD8006).
 * Otherwise the server's route config holds no virtual host for the request's
 * :authority (Istio's `blackhole:<port>` when nothing binds) and Envoy answers 404 NR.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { describeExportTo, toYaml } from '../../model/istio/common.js';
import { gatewayKey } from '../../model/istio/gateway.js';
import { serverHasHost, serversOnPort, virtualServicesForHost, visibleToGateway, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText, virtualServiceEvidence, walkEvidence } from './support.js';

const notFound = (ending: string) => ending === 'no-route' || ending === 'no-chain';

export const virtualServiceNotExported: GatewayRule = {
  id: 'md8004-virtualservice-not-exported-to-gateway',
  code: 'MD8004',
  description: "The VirtualService's exportTo hides it from the gateway pod's namespace",
  needs: ['config-dump', 'VirtualService'],
  check(e): Finding[] {
    if (!notFound(e.ending)) return [];
    const bound = new Set(serversOnPort(e).map(({ gateway }) => gatewayKey(gateway)));
    return virtualServicesForHost(e)
      .filter((vs) => !visibleToGateway(vs, e) && vs.gateways.some((g) => bound.has(g)))
      .map((vs) => makeFinding('MD8004', {
        message: `VirtualService ${vs.namespace}/${vs.name} routes ${e.request.host} through the gateway, but its ${describeExportTo(vs.exportTo)} does not include the gateway pod's namespace ${e.pod.namespace}: istiod leaves it out of ${e.podArg}'s config, so ${requestText(e)} gets 404.`,
        target: vs.ref,
        evidence: [virtualServiceEvidence(vs, `exportTo is checked against the namespace of the proxy (${e.pod.namespace}), not of the Gateway resource`), walkEvidence(e)],
        remediation: { text: `Export the VirtualService to the gateway's namespace too (or remove exportTo).`, patch: toYaml({ spec: { exportTo: [...new Set([...(vs.exportTo ?? []), e.pod.namespace])] } }) },
      }));
  },
};

export const virtualServiceNamesOtherGateway: GatewayRule = {
  id: 'md8005-virtualservice-names-another-gateway',
  code: 'MD8005',
  description: "The VirtualService's gateways: names no Gateway that serves the host on this gateway pod",
  needs: ['config-dump', 'VirtualService', 'Gateway'],
  check(e, { earlier }): Finding[] {
    if (!notFound(e.ending) || earlier.length) return [];
    const serving = serversOnPort(e).filter(({ server }) => serverHasHost(server, e.request.host));
    if (serving.length === 0) return [];
    const keys = new Set(serving.map(({ gateway }) => gatewayKey(gateway)));
    const right = serving[0].gateway;
    return virtualServicesForHost(e)
      .filter((vs) => visibleToGateway(vs, e) && !vs.gateways.some((g) => keys.has(g)))
      .map((vs) => {
        const sameName = vs.gatewayNames.find((g, i) => vs.gateways[i].split('/')[1] === right.name);
        const why = vs.gateways.length === 0
          ? 'has no gateways: field, so it applies to sidecars only (gateways defaults to mesh)'
          : sameName && !sameName.includes('/')
            ? `names gateway ${sameName}, which means ${vs.namespace}/${sameName} (a bare name is looked up in the VirtualService's own namespace), but the Gateway is ${gatewayKey(right)}`
            : sameName
              ? `names gateway ${sameName}, but the Gateway is ${gatewayKey(right)} (wrong namespace)`
              : `names ${vs.gatewayNames.join(', ')} (resolved: ${vs.gateways.join(', ')}), none of which is ${[...keys].join(' or ')}`;
        return makeFinding('MD8005', {
          message: `VirtualService ${vs.namespace}/${vs.name} ${why}: its routes never reach ${e.podArg}, so ${requestText(e)} gets 404.`,
          target: vs.ref,
          evidence: [virtualServiceEvidence(vs, 'spec.gateways'), gatewayEvidence(right, serving.filter((x) => x.gateway === right).map((x) => x.server), `the Gateway that serves ${e.request.host} on this gateway pod`), walkEvidence(e)],
          remediation: { text: `Name the Gateway with its namespace in spec.gateways (keep mesh if sidecars use the VirtualService too).`, patch: toYaml({ spec: { gateways: [...vs.gatewayNames.filter((g) => g === 'mesh'), gatewayKey(right)] } }) },
        });
      });
  },
};

export const hostNotInGateway: GatewayRule = {
  id: 'md8006-host-not-in-gateway-hosts',
  code: 'MD8006',
  description: "The VirtualService binds the Gateway, but the Gateway's server on this port does not list the host",
  needs: ['config-dump', 'VirtualService', 'Gateway'],
  check(e, { earlier }): Finding[] {
    if (!notFound(e.ending) || earlier.length) return [];
    const onPort = serversOnPort(e);
    const findings: Finding[] = [];
    for (const vs of virtualServicesForHost(e).filter((x) => visibleToGateway(x, e))) {
      const bound = onPort.filter(({ gateway }) => vs.gateways.includes(gatewayKey(gateway)));
      if (bound.length === 0 || bound.some(({ server }) => serverHasHost(server, e.request.host))) continue;
      const { gateway: g } = bound[0];
      findings.push(makeFinding('MD8006', {
        message: `VirtualService ${vs.namespace}/${vs.name} binds Gateway ${gatewayKey(g)} for ${e.request.host}, but the Gateway's server on port ${e.request.port} lists only ${bound.flatMap(({ server }) => server.hosts.map((h) => h.host)).join(', ')}: istiod keeps a VirtualService host only where it meets a server host, so ${requestText(e)} gets ${e.ending === 'no-chain' ? 'no TLS filter chain for its SNI' : '404'}.`,
        target: g.ref,
        evidence: [gatewayEvidence(g, bound.map((b) => b.server), `spec.servers[${bound[0].server.index}].hosts`), virtualServiceEvidence(vs), walkEvidence(e)],
        remediation: { text: `Add ${e.request.host} to the server's hosts (or fix the host in the VirtualService if the Gateway is right).`, patch: toYaml({ spec: { servers: [{ port: bound[0].server.port, hosts: [...bound[0].server.hosts.map((h) => h.host), e.request.host] }] } }) + `\n# servers[${bound[0].server.index}] of Gateway ${gatewayKey(g)}; a merge patch replaces the whole servers list` },
      }));
    }
    return findings;
  },
};
