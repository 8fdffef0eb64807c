/**
 * MD8008: the Gateway accepts the host, but no VirtualService routes it.
 * A server with hosts and no bound VirtualService gets Istio's `blackhole:<port>`
 * virtual host with no routes (pilot/pkg/networking/core/gateway.go
 * buildGatewayHTTPRouteConfig): every request is 404 NR. Reported only when
 * none of the more specific causes (MD8004-MD8007) applies.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { toYaml } from '../../model/istio/common.js';
import { gatewayKey } from '../../model/istio/gateway.js';
import { serverHasHost, serversOnPort, virtualServicesForHost, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText, walkEvidence } from './support.js';

export const noVirtualServiceForHost: GatewayRule = {
  id: 'md8008-no-virtualservice-for-host',
  code: 'MD8008',
  description: 'The Gateway accepts the host but no VirtualService routes it through this Gateway',
  needs: ['config-dump', 'Gateway', 'VirtualService'],
  check(e, { earlier }): Finding[] {
    if (e.ending !== 'no-route' || earlier.length || virtualServicesForHost(e).length > 0) return [];
    const serving = serversOnPort(e).filter(({ server }) => serverHasHost(server, e.request.host));
    if (serving.length === 0) return [];
    const { gateway: g, server: s } = serving[0];
    return [makeFinding('MD8008', {
      message: `Gateway ${gatewayKey(g)} accepts ${e.request.host} on port ${s.port.number}, but no VirtualService has ${e.request.host} in its hosts: the gateway has no route for it and ${requestText(e)} gets 404.`,
      target: g.ref,
      evidence: [gatewayEvidence(g, [s]), walkEvidence(e, 'no virtual host for the :authority (Istio writes blackhole when nothing binds)')],
      remediation: { text: `Create a VirtualService for ${e.request.host} bound to ${gatewayKey(g)}.`, patch: toYaml({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: e.request.host.split('.')[0], namespace: g.namespace }, spec: { hosts: [e.request.host], gateways: [gatewayKey(g)], http: [{ route: [{ destination: { host: 'SERVICE', port: { number: 8000 } } }] }] } }) },
    })];
  },
};
