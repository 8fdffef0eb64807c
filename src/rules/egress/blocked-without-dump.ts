/**
 * MD2001 without the sidecar's config dump (evidence fusion, issue "no false
 * health"): the path cannot be simulated, but the rest of the evidence can
 * still show the block.
 *
 * Evidence it uses: the mesh config or the pod's Sidecar (REGISTRY_ONLY), the
 * ServiceEntries and Services (none declares the host), and the sidecar's
 * access-log entries for the host. Under REGISTRY_ONLY Istio gives an
 * unregistered HTTP host only the `block_all` route (502, direct_response) and
 * TLS/TCP the BlackHoleCluster (pilot/pkg/networking/core/httproute.go,
 * cluster_builder.go), and real Envoy logs the reply as
 * `"GET /headers HTTP/1.1" 502 - direct_response ... block_all`
 * (test/fixtures/lab/seed002-registry-only-unregistered).
 *
 * Policy and log agreeing: high confidence; one of them alone: medium. A host
 * something declares is left to the config dump (it may be MD2002, or fine).
 */
import type { Finding, VerdictConfidence } from '../../findings/finding.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import { hostMatches } from '../../model/istio/common.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import { services } from '../../model/istio/services.js';
import type { IstioVersion } from '../../model/istio/version-behaviour.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { ObjectRef, ResourceSet } from '../../model/k8s/resources.js';
import type { Provenance } from '../../model/provenance.js';
import type { EvidenceModel, Rule } from '../rule.js';
import { entriesDeclaring, registryOnlyPolicy, unregisteredHostFinding, type OutboundVerdict } from './outbound-path.js';

export interface PartialOutboundEvidence {
  pod: PodView;
  podArg: string;
  resources: ResourceSet;
  mesh: MeshConfigView;
  istioVersion?: IstioVersion;
  host: string;
  port: number;
  protocol: 'HTTP' | 'TLS';
  /** The sidecar's access-log entries for the host; undefined when no log could be read. */
  accessLog?: Provenance & { entries: AccessLogEntry[] };
}

export const NO_DUMP = 'the sidecar\'s config dump (the path through the sidecar was not simulated)';

/** A request REGISTRY_ONLY stopped, as the sidecar logged it. */
export function isRegistryOnlyBlock(e: AccessLogEntry): boolean {
  return e.routeName === 'block_all' || e.upstreamCluster === 'BlackHoleCluster';
}

function declared(resources: ResourceSet, host: string, port: number): boolean {
  if (entriesDeclaring(resources, host, port).length) return true;
  return services(resources).some((svc) => svc.hosts.some((h) => hostMatches(h, host)) || host === svc.name || host === `${svc.name}.${svc.namespace}`);
}

function confidenceOf(e: PartialOutboundEvidence, policySeen: boolean, blocked: number): VerdictConfidence {
  const missing = [NO_DUMP];
  if (!e.accessLog) missing.push('the sidecar\'s access log');
  else if (!blocked) missing.push(`an access-log line for ${e.host} (the access log may be off, or the request was not made since the log started)`);
  if (!policySeen) missing.push('the mesh config or Sidecar that sets REGISTRY_ONLY (the block_all reply implies it)');
  return { level: policySeen && blocked ? 'high' : 'medium', missing };
}

/** What the evidence without a dump shows of the block: the policy, the logged blocks, in the finding's and the verdict's words. */
interface Block {
  target: ObjectRef;
  blocked: AccessLogEntry[];
  how: string;
  policyFrom: string;
  confidence: VerdictConfidence;
}

/** The block the evidence supports, or undefined: neither the policy nor the log shows one, or something declares the host. */
function readBlock(e: PartialOutboundEvidence): Block | undefined {
  const policy = registryOnlyPolicy(e.pod, e.resources, e.mesh);
  const blocked = (e.accessLog?.entries ?? []).filter(isRegistryOnlyBlock);
  if ((!policy.from && !blocked.length) || declared(e.resources, e.host, e.port)) return undefined;
  const how = blocked.length
    ? `the sidecar logged ${blocked.length} request(s) to it ended by ${blocked[0]!.routeName === 'block_all' ? 'the block_all route (502, direct_response)' : 'BlackHoleCluster'}`
    : e.protocol === 'HTTP' ? 'Istio gives an unregistered host only the block_all route, which answers 502 itself' : 'Istio sends an unregistered host to BlackHoleCluster';
  const policyFrom = policy.from ?? 'REGISTRY_ONLY (the block_all reply shows it; the mesh config collected does not say it)';
  return { target: policy.target, blocked, how, policyFrom, confidence: confidenceOf(e, Boolean(policy.from), blocked.length) };
}

export const blockedWithoutDumpRule: Rule<PartialOutboundEvidence> = {
  id: 'md2001-blocked-without-dump',
  code: 'MD2001',
  description: 'REGISTRY_ONLY blocks a host no ServiceEntry registers, decided without the sidecar\'s config dump from the mesh config or Sidecar and the access log',
  needs: ['mesh-config'],
  check: (e) => {
    const block = readBlock(e);
    if (!block) return [];
    const evidence = e.accessLog && block.blocked.length
      ? [{ source: e.accessLog.source, ...(e.accessLog.file ? { file: e.accessLog.file } : {}), excerpt: block.blocked.slice(-5).map((x) => x.raw).join('\n'), note: 'REGISTRY_ONLY\'s own reply, logged by the sidecar' }]
      : [];
    return [unregisteredHostFinding({
      pod: e.pod, podArg: e.podArg, mesh: e.mesh, ...(e.istioVersion ? { istioVersion: e.istioVersion } : {}), host: e.host, port: e.port,
      protocol: e.protocol, how: block.how, policyFrom: block.policyFrom, target: block.target, evidence, assumes: [`decided without ${NO_DUMP}`],
    })];
  },
};

/** The evidence without a dump as the engine's model: the mesh config and resources always, the access log when read. */
export function partialOutboundEvidence(e: PartialOutboundEvidence): EvidenceModel<PartialOutboundEvidence> {
  return { evidence: e, holds: (kind) => kind === 'mesh-config' || (kind === 'access-log' && e.accessLog !== undefined) };
}

/** The MD2001 verdict for the rule's findings, or undefined when the evidence supports none. */
export function blockedVerdict(e: PartialOutboundEvidence, findings: Finding[]): OutboundVerdict | undefined {
  const block = readBlock(e);
  if (!block || !findings.length) return undefined;
  return {
    findings,
    status: 'problem',
    culprit: block.target,
    confidence: block.confidence,
    summary: `${e.host} is blocked because ${block.policyFrom} and no ServiceEntry registers it; add a ServiceEntry for ${e.host} port ${e.port}. Decided without ${e.podArg}'s config dump, from ${block.blocked.length ? 'its access log and ' : ''}the resources (confidence ${block.confidence.level}).`,
    observations: [`${block.how} (${block.policyFrom})`],
  };
}
