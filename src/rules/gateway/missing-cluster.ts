/**
 * MD8009: the route matched, but its cluster is not on the gateway: Envoy
 * answers 503 with NC (cluster_not_found; older Envoy flagged it NR). Istio
 * writes `outbound|PORT|SUBSET|HOST` for a VirtualService destination even
 * when no Service, ServiceEntry or DestinationRule subset defines it.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { hostMatches, resolveShortname } from '../../model/istio/common.js';
import type { GatewayRule } from './evidence.js';
import { requestText, virtualServiceEvidence, walkEvidence } from './support.js';

export const routeToMissingCluster: GatewayRule = {
  id: 'md8009-route-to-missing-cluster',
  code: 'MD8009',
  description: "The gateway's route sends the request to a cluster the gateway does not have (503)",
  needs: ['config-dump', 'VirtualService'],
  check(e): Finding[] {
    if (e.ending !== 'no-cluster') return [];
    const cluster = e.simulation.outcome.cluster ?? '';
    const [, port, subset, host] = cluster.split('|');
    const ref = e.simulation.route?.virtualService;
    const vs = e.virtualServices.find((v) => ref && v.namespace === ref.namespace && v.name === ref.name)
      ?? e.virtualServices.find((v) => v.http.some((r) => r.destinations.some((d) => hostMatches(resolveShortname(d.host, v.namespace), host))));
    const what = subset ? `subset ${subset} of ${host} (no DestinationRule defines it, or the gateway cannot see it)` : `${host} port ${port} (no Service or ServiceEntry the gateway can see has it)`;
    return [makeFinding('MD8009', {
      message: `The gateway routes ${requestText(e)} to cluster ${cluster}, which ${e.podArg} does not have: Envoy answers 503 (NC cluster_not_found) for ${what}.`,
      target: vs?.ref ?? { kind: 'Pod', namespace: e.pod.namespace, name: e.pod.name },
      evidence: [...(vs ? [virtualServiceEvidence(vs, 'spec.http[].route[].destination.host')] : []), walkEvidence(e, `istioctl proxy-config clusters ${e.podArg} has no ${cluster}`)],
      remediation: { text: `Point the VirtualService's destination at a Service that exists (host ${host.split('.')[0]} in namespace ${host.split('.')[1] ?? '?'}, port ${port})${subset ? `, or define subset ${subset} in a DestinationRule` : ''}.` },
    })];
  },
};
