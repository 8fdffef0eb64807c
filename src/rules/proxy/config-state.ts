/**
 * MD7001 / MD7002: a resource the diagnosed path crosses that Envoy rejected
 * (error_state) or has not made ready (warming). A rejected listener is not
 * in the listeners Envoy serves, so a path walked over active config alone
 * looks fine, or ends nowhere, while every connection fails. The culprit is
 * the EnvoyFilter that patched in the filter Envoy's reason names, when one
 * applies to the pod; otherwise the pod's proxy.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { reasonOf, type ConfigProblem } from '../../model/envoy/config-state.js';
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import { envoyFiltersFor, namedInRejection, patchesNaming, type EnvoyFilterView } from '../../model/istio/envoy-filter.js';
import type { Labels } from '../../model/istio/common.js';
import { formatRef, type ObjectRef, type ResourceSet } from '../../model/k8s/resources.js';
import { formatPod, type PodRef } from '../../model/pod.js';
import type { Provenance } from '../../model/provenance.js';
import { stringify as toYaml } from 'yaml';

export interface ConfigStateInput {
  pod: PodRef & { labels: Labels };
  dump: ConfigDump;
  /** Where the dump came from (its command, and offline its file). */
  dumpProvenance: Provenance;
  resources: ResourceSet;
  rootNamespace: string;
  /** True for a resource the diagnosed path crosses (the diagnosis knows its path). */
  onPath: (problem: ConfigProblem) => boolean;
  /** The path, for the message: `the inbound path to port 8080`. */
  pathText: string;
}

/** The inbound path: virtualInbound and the inbound clusters of the ports. */
export function inboundPathCrosses(ports: readonly number[]): (p: ConfigProblem) => boolean {
  return (p) => (p.kind === 'listener' && p.name === 'virtualInbound')
    || (p.kind === 'cluster' && ports.some((port) => p.name.startsWith(`inbound|${port}|`)));
}

/** An outbound path to a port: virtualOutbound, the port's listeners and route config, the clusters named. */
export function outboundPathCrosses(port: number, clusters: readonly string[] = []): (p: ConfigProblem) => boolean {
  return (p) => (p.kind === 'listener' && (p.name === 'virtualOutbound' || p.name.endsWith(`_${port}`)))
    || (p.kind === 'route' && p.name === String(port))
    || (p.kind === 'cluster' && clusters.includes(p.name));
}

/** The findings for each rejected or warming resource on the path (one per resource). */
export function configStateOnPath(input: ConfigStateInput): Finding[] {
  return input.dump.configProblems.filter(input.onPath).map((p) => (p.state === 'rejected' ? rejected(input, p) : warming(input, p)));
}

function dumpEvidence(input: ConfigStateInput, p: ConfigProblem, excerpt: string): EvidenceItem {
  return { source: input.dumpProvenance.source, ...(input.dumpProvenance.file ? { file: input.dumpProvenance.file } : {}), excerpt, note: `${p.kind} ${p.name} in the proxy's /config_dump` };
}

function rejected(input: ConfigStateInput, p: ConfigProblem): Finding {
  const reason = reasonOf(p.details);
  const names = namedInRejection(p.details ?? '');
  const culprit = culpritFilter(input, names);
  const evidence: EvidenceItem[] = [dumpEvidence(input, p, [`${p.kind === 'listener' ? 'dynamic_listeners' : p.kind === 'cluster' ? 'dynamic_active_clusters' : 'dynamic_route_configs'}: ${p.name}`, '  error_state:', ...(p.lastUpdateAttempt ? [`    last_update_attempt: ${p.lastUpdateAttempt}`] : []), `    details: ${reason}`, ...(p.serving ? [] : [`  (no active_state: Envoy never accepted ${p.name})`])].join('\n'))];
  if (culprit) {
    evidence.push({
      source: `kubectl get envoyfilter ${culprit.filter.ref.name} -n ${culprit.filter.ref.namespace} -o yaml`,
      excerpt: toYaml({ configPatches: culprit.patches.map((x) => ({ applyTo: x.applyTo, ...(x.context ? { match: { context: x.context } } : {}), patch: { operation: x.operation, value: x.value } })) }, { lineWidth: 0 }).trimEnd(),
      note: `this patch adds ${names.join(', ')}, the filter Envoy's reason names`,
    });
  }
  const effect = p.serving
    ? `Envoy keeps serving the earlier version of ${p.name}: stale config carries ${input.pathText}, and every later change to it is refused too`
    : `nothing serves ${p.name}: it is a dead hop for ${input.pathText}`;
  const target: ObjectRef = culprit?.filter.ref ?? { kind: 'Pod', namespace: input.pod.namespace, name: input.pod.name };
  return makeFinding('MD7001', {
    ...(p.serving ? { severity: 'warning' as const } : {}),
    message: `Envoy in ${formatPod(input.pod)} rejected ${p.kind} ${p.name}: ${reason}. ${effect[0]!.toUpperCase()}${effect.slice(1)}.${culprit ? ` ${formatRef(culprit.filter.ref)} patches in ${names.join(', ')}, the filter the rejection names.` : names.length ? ` No EnvoyFilter that applies to this pod adds ${names.join(', ')}: istiod generated it, so check the proxy and istiod versions (istioctl proxy-status).` : ''}`,
    target,
    evidence,
    remediation: culprit
      ? {
        text: `Correct the patch of ${formatRef(culprit.filter.ref)} that adds ${names.join(', ')} so Envoy accepts it (for Lua, the script in inlineCode or defaultSourceCode.inlineString), or delete the EnvoyFilter; istiod then pushes ${p.name} again.`,
        command: `kubectl edit envoyfilter ${culprit.filter.ref.name} -n ${culprit.filter.ref.namespace}`,
      }
      : { text: `Find what put the rejected part into ${p.name} (an EnvoyFilter in ${input.pod.namespace} or ${input.rootNamespace}, or a proxy older than istiod) and correct it; \`istioctl proxy-status\` shows the NACK until Envoy accepts the config.`, command: 'istioctl proxy-status' },
    assumes: ['Envoy serves only what it accepted: a resource kept only as error_state does not exist for traffic (envoy/admin/v3 UpdateFailureState)'],
  });
}

function warming(input: ConfigStateInput, p: ConfigProblem): Finding {
  return makeFinding('MD7002', {
    message: `${p.kind[0]!.toUpperCase()}${p.kind.slice(1)} ${p.name} in ${formatPod(input.pod)} is still warming and nothing serves it yet: it is a dead hop for ${input.pathText} until it is ready.`,
    target: { kind: 'Pod', namespace: input.pod.namespace, name: input.pod.name },
    evidence: [dumpEvidence(input, p, `${p.kind} ${p.name}: warming (no active version)`)],
    remediation: { text: `Find what ${p.name} waits for (a host that does not resolve, a Secret istiod cannot find, an unreachable istiod) and provide it.`, command: `kubectl exec ${input.pod.name} -n ${input.pod.namespace} -c istio-proxy -- pilot-agent request GET ready` },
  });
}

/** The EnvoyFilter applying to the pod whose patch adds a filter the rejection names. */
function culpritFilter(input: ConfigStateInput, names: readonly string[]): { filter: EnvoyFilterView; patches: EnvoyFilterView['patches'] } | undefined {
  if (!names.length) return undefined;
  for (const filter of envoyFiltersFor(input.resources, input.pod, input.rootNamespace)) {
    const patches = patchesNaming(filter, names);
    if (patches.length) return { filter, patches };
  }
  return undefined;
}
