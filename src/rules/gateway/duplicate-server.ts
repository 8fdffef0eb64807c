/**
 * MD8007: two Gateways declare the same host on the same TLS port. Envoy
 * rejects two filter chains with the same SNI, so istiod keeps the first
 * server (oldest Gateway, then by name) and skips the other ("skipping server
 * on gateway …, duplicate host names", pilot/pkg/model/gateway.go
 * MergeGateways / CheckDuplicates). The host's chain then routes with the
 * winner's route config; VirtualServices bound only to the loser never apply.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { parseGatewayRouteName } from '../../model/envoy/gateway-config.js';
import { gatewayKey, isTlsServer } from '../../model/istio/gateway.js';
import { serverHasHost, serversOnPort, virtualServicesForHost, visibleToGateway, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText, virtualServiceEvidence, walkEvidence } from './support.js';

export const duplicateGatewayServer: GatewayRule = {
  id: 'md8007-duplicate-gateway-server',
  code: 'MD8007',
  description: 'Two Gateways declare the same host on the same TLS port; only the first one gets the filter chain',
  needs: ['config-dump', 'Gateway', 'VirtualService'],
  check(e, { earlier }): Finding[] {
    if (e.ending !== 'no-route' || earlier.length || !e.request.tls) return [];
    const route = parseGatewayRouteName(e.simulation.routeConfig?.name ?? '');
    if (!route?.gateway) return [];
    const serving = serversOnPort(e).filter(({ server }) => isTlsServer(server) && serverHasHost(server, e.request.host));
    const winner = serving.find(({ gateway }) => gatewayKey(gateway) === route.gateway);
    const losers = serving.filter(({ gateway }) => gatewayKey(gateway) !== route.gateway);
    if (!winner || losers.length === 0) return [];
    const losingKeys = new Set(losers.map(({ gateway }) => gatewayKey(gateway)));
    const stranded = virtualServicesForHost(e).filter((vs) => visibleToGateway(vs, e) && vs.gateways.some((g) => losingKeys.has(g)) && !vs.gateways.includes(route.gateway!));
    if (stranded.length === 0) return [];
    const w = winner.gateway;
    const l = losers[0].gateway;
    return [makeFinding('MD8007', {
      message: `Gateways ${gatewayKey(w)} and ${gatewayKey(l)} both declare ${e.request.host} on TLS port ${e.request.port}; istiod keeps only ${gatewayKey(w)}'s server (it sorts first), so the SNI ${e.request.host} gets route config ${e.simulation.routeConfig?.name}, where VirtualService ${stranded[0].namespace}/${stranded[0].name} (bound to ${gatewayKey(l)}) never appears: ${requestText(e)} gets 404.`,
      target: w.ref,
      evidence: [gatewayEvidence(w, [winner.server], 'this server wins the SNI'), gatewayEvidence(l, [losers[0].server], 'this server is skipped as a duplicate'), virtualServiceEvidence(stranded[0]), walkEvidence(e)],
      remediation: { text: `Declare ${e.request.host} on port ${e.request.port} in one Gateway only: remove it from ${gatewayKey(w)} (or bind VirtualService ${stranded[0].namespace}/${stranded[0].name} to ${gatewayKey(w)} too).` },
    })];
  },
};
