/**
 * MD3006: no endpoints behind the destination. Envoy answers `503 UH`
 * (`no_healthy_upstream`) when the cluster has no host at all — a Service
 * whose selector matches no ready pod, or a DestinationRule subset whose
 * labels select none of the Service's pods (a VirtualService routes to
 * `outbound|8000|v2|httpbin...` and there is no v2). When hosts exist but are
 * ejected, that is MD3003 instead.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { kubectlGet, labelsMatch, toYaml } from '../../model/istio/common.js';
import { destinationRules } from '../../model/istio/destination-rule.js';
import { selectsPod } from '../../model/istio/services.js';
import { podView } from '../../model/k8s/pods.js';
import { formatPod } from '../../model/pod.js';
import type { UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { logLines, withFlag } from './support.js';

export const noEndpoints: UpstreamRule = {
  id: 'md3006-no-endpoints',
  code: 'MD3006',
  description: 'No endpoints behind the destination (a Service selecting no pods, a subset selecting none)',
  // Without Pod objects (a bug-report archive holding only proxy dumps) "no pod selected" would be a guess.
  needs: [{ anyOf: ['Pod', 'client:endpoints', 'client:cluster-status'], because: 'neither the pods, the client\'s endpoints (config_dump?include_eds) nor its /clusters are available' }],
  unmet(e) {
    if (!e.destination.service && !e.client.cluster?.edsKnown) return 'the destination is not a Service and the client\'s endpoints (config_dump?include_eds) are not available';
    return undefined;
  },
  check(e: UpstreamEvidence): Finding[] {
    const uh = withFlag(e, 'UH').filter((x) => !x.responseCodeDetails || x.responseCodeDetails === 'no_healthy_upstream');
    const service = e.destination.service;
    const pods = e.resources.of('Pod', service?.namespace).map(podView);
    const selected = service ? pods.filter((p) => selectsPod(service, { namespace: p.namespace, name: p.name, labels: p.labels })) : [];
    const running = selected.filter((p) => p.phase === undefined || p.phase === 'Running');
    const eds = e.client.cluster?.edsKnown ? e.client.cluster.endpoints ?? [] : undefined;
    const hosts = e.client.clusterStatus?.status?.hosts;
    const evidence: EvidenceItem[] = [];
    if (uh.length && e.client.accessLog) evidence.push(logLines(e.client.accessLog, uh, 'UH no_healthy_upstream: the cluster had no host to send to'));

    // A subset that selects none of the Service's pods.
    if (e.subset && service && e.resources.of('Pod').length > 0) {
      const rule = (e.client.tls?.rule && e.client.tls.rule.subsets.some((s) => s.name === e.subset))
        ? e.client.tls.rule
        : destinationRules(e.resources).find((r) => r.fqdn === e.destination.host && r.subsets.some((s) => s.name === e.subset));
      const subset = rule?.subsets.find((s) => s.name === e.subset);
      if (rule && subset) {
        const inSubset = running.filter((p) => labelsMatch(subset.labels, p.labels));
        if (inSubset.length === 0 && (uh.length > 0 || (eds !== undefined && eds.length === 0) || running.length > 0)) {
          evidence.push({ source: kubectlGet(rule.ref), excerpt: toYaml({ subsets: [{ name: subset.name, labels: subset.labels }] }), note: `subset ${subset.name} selects pods labelled ${JSON.stringify(subset.labels)}` });
          evidence.push({
            source: `kubectl get pods -n ${service.namespace} -l ${Object.entries(service.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} --show-labels`,
            excerpt: running.map((p) => `${p.name}  ${Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(',')}`).join('\n') || '(no pods)',
            note: `none of the Service's pods has the labels of subset ${subset.name}`,
          });
          const versions = [...new Set(running.map((p) => p.labels.version).filter(Boolean))];
          return [makeFinding('MD3006', {
            message: `Subset ${subset.name} of DestinationRule ${rule.namespace}/${rule.name} selects no pod of Service ${service.namespace}/${service.name} (labels ${JSON.stringify(subset.labels)}), so requests routed to outbound|${e.destination.port ?? ''}|${subset.name}|${e.destination.host} get 503 UH no_healthy_upstream.`,
            target: rule.ref,
            evidence,
            remediation: {
              text: `Point subset ${subset.name} at labels the pods carry${versions.length ? ` (they have version: ${versions.join(', ')})` : ''}, deploy the pods it names, or route the VirtualService to a subset that exists.`,
            },
          })];
        }
      }
    }

    const noHosts = (eds !== undefined && eds.length === 0) || (hosts !== undefined && hosts.length === 0);
    const noPods = service !== undefined && running.length === 0 && e.resources.of('Pod').length > 0;
    if (!noHosts && !noPods) return [];
    if (e.client.cluster && eds !== undefined) {
      evidence.push({ source: `istioctl proxy-config endpoint ${formatPod(e.client.pod)} --cluster "${e.client.cluster.cluster.name}"`, ...(e.client.cluster.file ? { file: e.client.cluster.file } : {}), excerpt: eds.length ? eds.map((x) => `${x.address.address}:${x.address.port} ${x.healthStatus}`).join('\n') : '(no endpoints)' });
    }
    if (service) {
      evidence.push({
        source: `kubectl get pods -n ${service.namespace} -l ${Object.entries(service.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`,
        excerpt: selected.map((p) => `${p.name}  ${p.phase ?? ''}`).join('\n') || `(no pods match selector ${JSON.stringify(service.selector ?? {})})`,
        note: selected.length ? `${selected.length} pods match, ${running.length} running` : 'the Service\'s selector matches no pod',
      });
    }
    if (!evidence.length) return [];
    return [makeFinding('MD3006', {
      message: `${e.destination.host}${e.destination.port ? `:${e.destination.port}` : ''} has no endpoints${service ? ` (Service ${service.namespace}/${service.name} selects ${selected.length ? `${selected.length} pods, none running` : 'no pod'})` : ''}: Envoy answers 503 UH no_healthy_upstream.`,
      target: service?.ref ?? { kind: 'Pod', namespace: e.client.pod.namespace, name: e.client.pod.name },
      evidence,
      remediation: { text: service ? `Make Service ${service.namespace}/${service.name}'s selector ${JSON.stringify(service.selector ?? {})} match running pods (check the pods' labels and readiness).` : 'Give the destination endpoints (ServiceEntry endpoints or a Service with a selector).' },
    })];
  },
};
