/**
 * MD8001: a Gateway for the host selects no gateway pod (or not this one).
 * istiod gives a gateway proxy only the servers of Gateways whose `selector`
 * matches its pod's labels (pilot/pkg/model/push_context.go mergeGateways via
 * gatewaysByLabels); a selector that matches nothing produces no listener.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { toYaml } from '../../model/istio/common.js';
import { formatPod } from '../../model/pod.js';
import { failed, selectsPod, serverHasHost, serversOnPort, type GatewayRule } from './evidence.js';
import { formatLabels, gatewayEvidence, requestText, walkEvidence } from './support.js';

export const gatewaySelectorMatchesNoPod: GatewayRule = {
  id: 'md8001-gateway-selector-matches-no-pod',
  code: 'MD8001',
  description: 'The Gateway that declares the host selects no gateway pod, so its servers are on no proxy',
  needs: ['config-dump', 'Gateway'],
  check(e): Finding[] {
    if (!failed(e) || serversOnPort(e).some(({ server }) => serverHasHost(server, e.request.host))) return [];
    const culprits = e.gateways.filter((g) => !selectsPod(g, e.pod) && g.servers.some((s) => serverHasHost(s, e.request.host)));
    return culprits.map((g) => {
      const selected = e.gatewayPods.filter((p) => selectsPod(g, p)).map(formatPod);
      const keep = Object.fromEntries(Object.entries(e.pod.labels).filter(([k]) => k === 'istio' || k === 'app'));
      return makeFinding('MD8001', {
        message: `Gateway ${g.namespace}/${g.name} declares ${e.request.host} but its selector (${formatLabels(g.selector)}) does not match gateway pod ${e.podArg} (labels ${formatLabels(keep)})${selected.length ? `; it selects ${selected.join(', ')} instead` : ' nor any other gateway pod'}, so ${requestText(e)} reaches a gateway that never got this server.`,
        target: g.ref,
        evidence: [gatewayEvidence(g, g.servers.filter((s) => serverHasHost(s, e.request.host)), 'spec.selector is matched against gateway pod labels'), walkEvidence(e), { source: `kubectl get pod ${e.pod.name} -n ${e.pod.namespace} --show-labels`, excerpt: formatLabels(e.pod.labels) }],
        remediation: { text: `Set spec.selector of Gateway ${g.namespace}/${g.name} to labels the gateway pod carries.`, patch: toYaml({ spec: { selector: Object.keys(keep).length ? keep : e.pod.labels } }) },
      });
    });
  },
};
