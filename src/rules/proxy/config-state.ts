/**
 * MD7001 / MD7002: a resource the diagnosed path crosses that Envoy rejected
 * (error_state) or has not made ready (warming). A rejected listener is not
 * in the listeners Envoy serves, so a path walked over active config alone
 * looks fine, or ends nowhere, while every connection fails. The culprit is
 * the EnvoyFilter that patched in the filter Envoy's reason names, when one
 * applies to the pod; otherwise the pod's proxy.
 *
 *   md7001-rejected-config   MD7001  Envoy rejected a listener, cluster or route config (a NACK)
 *   md7002-warming-config    MD7002  a listener, cluster, route or secret is still warming
 *
 * A diagnosis runs them over the path it follows (`path`); `check` over the
 * whole proxy (no `path`).
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
import type { EvidenceModel, Rule } from '../rule.js';
import { stringify as toYaml } from 'yaml';

/** The path a diagnosis follows through one proxy: which resources it crosses, and its words for the message. */
export interface DiagnosedPath {
  crosses: (problem: ConfigProblem) => boolean;
  /** `the inbound path to default/app`. */
  text: string;
}

export interface ConfigStateEvidence {
  pod: PodRef & { labels: Labels };
  dump?: ConfigDump;
  /** Where the dump came from (its command, and offline its file). */
  dumpProvenance?: Provenance;
  /** Why the dump could not be read. */
  dumpMissing?: string;
  resources: ResourceSet;
  rootNamespace: string;
  /** The diagnosed path; without one, all of the proxy's traffic (check). */
  path?: DiagnosedPath;
}

const WHOLE_PROXY: DiagnosedPath = { crosses: () => true, text: "this proxy's traffic" };

export function configStateEvidence(evidence: ConfigStateEvidence): EvidenceModel<ConfigStateEvidence> {
  return {
    evidence,
    holds: (kind) => kind === 'config-dump' && evidence.dump !== undefined,
    absent: () => evidence.dumpMissing ?? 'no config dump',
  };
}

/** The rejected and warming resources on the path, in the dump's order. */
export function problemsOnPath(e: ConfigStateEvidence): ConfigProblem[] {
  return (e.dump?.configProblems ?? []).filter((e.path ?? WHOLE_PROXY).crosses);
}

export const rejectedConfig: Rule<ConfigStateEvidence> = {
  id: 'md7001-rejected-config',
  code: 'MD7001',
  description: 'Envoy rejected a listener, cluster or route configuration (error_state)',
  needs: [{ anyOf: ['config-dump'] }],
  check: (e) => problemsOnPath(e).filter((p) => p.state === 'rejected').map((p) => rejected(e, p)),
};

export const warmingConfig: Rule<ConfigStateEvidence> = {
  id: 'md7002-warming-config',
  code: 'MD7002',
  description: 'A listener, cluster or route configuration is still warming: nothing serves it yet',
  needs: [{ anyOf: ['config-dump'] }],
  check: (e) => problemsOnPath(e).filter((p) => p.state === 'warming').map((p) => warming(e, p)),
};

export const CONFIG_STATE_RULES = [rejectedConfig, warmingConfig] as const;

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

function dumpEvidence(input: ConfigStateEvidence, p: ConfigProblem, excerpt: string): EvidenceItem {
  const cited = input.dumpProvenance ?? { source: 'config_dump' };
  return { source: cited.source, ...(cited.file ? { file: cited.file } : {}), excerpt, note: `${p.kind} ${p.name} in the proxy's /config_dump` };
}

function rejected(input: ConfigStateEvidence, p: ConfigProblem): Finding {
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
    ? `Envoy keeps serving the earlier version of ${p.name}: stale config carries ${pathText(input)}, and every later change to it is refused too`
    : `nothing serves ${p.name}: it is a dead hop for ${pathText(input)}`;
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

function warming(input: ConfigStateEvidence, p: ConfigProblem): Finding {
  return makeFinding('MD7002', {
    message: `${p.kind[0]!.toUpperCase()}${p.kind.slice(1)} ${p.name} in ${formatPod(input.pod)} is still warming and nothing serves it yet: it is a dead hop for ${pathText(input)} until it is ready.`,
    target: { kind: 'Pod', namespace: input.pod.namespace, name: input.pod.name },
    evidence: [dumpEvidence(input, p, `${p.kind} ${p.name}: warming (no active version)`)],
    remediation: { text: `Find what ${p.name} waits for (a host that does not resolve, a Secret istiod cannot find, an unreachable istiod) and provide it.`, command: `kubectl exec ${input.pod.name} -n ${input.pod.namespace} -c istio-proxy -- pilot-agent request GET ready` },
  });
}

function pathText(input: ConfigStateEvidence): string {
  return (input.path ?? WHOLE_PROXY).text;
}

/** The EnvoyFilter applying to the pod whose patch adds a filter the rejection names. */
function culpritFilter(input: ConfigStateEvidence, names: readonly string[]): { filter: EnvoyFilterView; patches: EnvoyFilterView['patches'] } | undefined {
  if (!names.length) return undefined;
  for (const filter of envoyFiltersFor(input.resources, input.pod, input.rootNamespace)) {
    const patches = patchesNaming(filter, names);
    if (patches.length) return { filter, patches };
  }
  return undefined;
}
