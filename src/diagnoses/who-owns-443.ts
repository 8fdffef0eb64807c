/**
 * who-owns-443 [pod] [--port P] [-n NS | -A]: every filter chain that can take
 * the port's traffic in a sidecar, istioctl's MATCH/DESTINATION plus OWNER,
 * and the chain that wins for connections no other chain claims (incident 4:
 * a ServiceEntry without addresses owns all HTTPS). Across pods, which owner
 * wins where — why symptoms differed per pod. Without proxy data, the static
 * view from the resources: every Service/ServiceEntry declaring the port.
 */
import type { Guide, StepRecorder } from './guide.js';
import { findSidecarPods, podScopeTitle, type PodScope } from './sidecar-pods.js';
import { parseConfigDump } from '../model/envoy/config-dump.js';
import { formatRef, type ObjectRef, type ResourceSet } from '../model/k8s/resources.js';
import type { PodView } from '../model/k8s/pods.js';
import { meshConfigFrom, type MeshConfigView } from '../model/istio/mesh-config.js';
import { runStaticChecks } from '../rules/mesh/index.js';
import type { MeshVersion } from '../model/mesh-version.js';
import { meshVersionOf } from './mesh-version.js';
import { isBlackHole, isPassthrough, portOwnership, staticPortDeclarations, type PortDeclaration } from '../model/outbound/index.js';
import { relevantStaticFindings } from '../rules/egress/outbound-path.js';
import { proxyEvidence } from '../rules/egress/evidence.js';
import { UNMATCHED_TLS_RULES } from '../rules/egress/unmatched-tls.js';
import { runRules } from '../rules/engine.js';
import type { Finding, VerdictConfidence } from '../findings/finding.js';
import { outboundPathCrosses } from '../rules/proxy/config-state.js';
import { reportConfigState } from './config-state.js';
import { buildReport, reportVersions, type Report, type VerdictStatus } from '../report/report.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';

export interface ChainRowData {
  addresses: string;
  port: number;
  match: string;
  destination: string;
  owners: string[];
  catchAll: boolean;
  capturesUnmatched: boolean;
  httpCatchAll: boolean;
  listener: string;
  filterChain: string;
}

export interface PodOwnershipData {
  pod: string;
  namespace: string;
  istio?: string;
  chains: ChainRowData[];
  /** Where a TLS connection to an unlisted host on this port ends. */
  unmatched: { destination: string; outcome: string; owners: string[]; chain?: string; confidence: string };
  /** Why the pod could not be read, when it could not. */
  error?: string;
}

export interface WhoOwnsData {
  port: number;
  mode: 'pod' | 'pods' | 'static';
  pods: PodOwnershipData[];
  /** Distinct winners for unmatched traffic across the pods read. */
  winners: Array<{ destination: string; owners: string[]; pods: string[] }>;
  declarations?: Array<Omit<PortDeclaration, 'ref'> & { ref: string }>;
}

function winnerText(o: ReturnType<typeof portOwnership>['unmatchedTls']): string {
  if (o.outcome.kind === 'cluster') return o.outcome.cluster ?? '?';
  if (o.outcome.kind === 'tls_into_http') return 'HTTP connection manager (TLS fails)';
  if (o.outcome.kind === 'direct_response') return `direct response ${o.outcome.status ?? ''}`.trim();
  return o.outcome.kind;
}

export async function whoOwns(guide: Guide, source: EvidenceSource, options: WhoOwnsOptions): Promise<Report<WhoOwnsData>> {
  const port = options.port;
  const { resources, mesh } = await guide.step('Read the mesh: Services, ServiceEntries, Sidecars, mesh config', (step) => readMesh(source, step));
  const pods: PodView[] = await guide.step(podScopeTitle(source, options), (step) => findPods(source, options, step));
  const perPod = await guide.step(`Read each sidecar's chains on port ${port}`, (step) => readChains(source, pods, port, resources, step, guide, mesh));
  // The static checks for the port, with the version of the first proxy read (their severity depends on it);
  // without one, the versions file, a pod's image or istiod's (diagnoses/mesh-version.ts).
  const version = perPod.map((r) => r.version).find((v) => v.source !== 'unknown') ?? await meshVersionOf(source, { resources, ...(pods[0] ? { pod: pods[0] } : {}) });
  const staticFindings = runStaticChecks(resources, { mesh, ...(version.istio ? { istioVersion: version.istio } : {}) }).findings;
  const { podData, culprits, anyHttp } = ownershipPerPod(perPod, resources, mesh, port);
  const winners = winnersOf(podData);
  // A listener on the port that Envoy rejected or has not readied (MD7001/MD7002, reported while reading) decides too.
  const findings: Finding[] = guide.findings.filter((f) => f.code === 'MD7001' || f.code === 'MD7002');
  await guide.step(`Decide who owns port ${port}`, (step) => decideOwner(guide, port, winners, culprits, staticFindings, findings, step));
  const readAny = podData.some((p) => !p.error);
  const declarations = readAny ? undefined : await guide.step(`No proxy data: the resources that declare port ${port}`, (step) => declaredOnly(guide, pods, port, resources, mesh, version, findings, step));
  const mode: WhoOwnsData['mode'] = !readAny ? 'static' : options.pod ? 'pod' : 'pods';
  return whoOwnsReport({ guide, source, options, port, mode, podData, winners, culprits, anyHttp, findings, declarations, version });
}

export interface WhoOwnsOptions extends PodScope { port: number }

type PerPod = Awaited<ReturnType<typeof readChains>>;
type Culprits = Map<string, { finding: Finding; pods: string[] }>;
type Winners = Map<string, { destination: string; owners: string[]; pods: string[] }>;

async function readMesh(source: EvidenceSource, step: StepRecorder): Promise<{ resources: ResourceSet; mesh: MeshConfigView }> {
  const resources = await source.resources();
  step.looked('kubectl get services,serviceentries,sidecars -A -o yaml');
  const mesh = meshConfigFrom(resources);
  step.note(`outboundTrafficPolicy ${mesh.outboundTrafficPolicyMode}`);
  return { resources, mesh };
}

/** The scope's pods, sidecars only: a gateway's or waypoint's proxy has no virtualOutbound, its port 443 is another question (model/proxy-kind.ts). */
async function findPods(source: EvidenceSource, options: WhoOwnsOptions, step: StepRecorder): Promise<PodView[]> {
  const proxies = await findSidecarPods(source, options, step);
  if (options.pod) return proxies;
  const all = proxies.filter((p) => (p.proxyKind ?? 'sidecar') === 'sidecar');
  const others = proxies.filter((p) => !all.includes(p));
  if (others.length) step.note(`left out, not sidecars: ${others.map((p) => `${formatPod(p)} (${p.proxyKind})`).join(', ')}`);
  return all;
}

/** Each sidecar's filter chains on the port, and which one takes unmatched traffic. */
async function readChains(source: EvidenceSource, pods: PodView[], port: number, resources: ResourceSet, step: StepRecorder, guide: Guide, mesh: MeshConfigView) {
  const results = await Promise.all(pods.map(async (pod) => {
    const ref = { namespace: pod.namespace, name: pod.name };
    try {
      const evidence = await source.proxy(ref, 'config_dump');
      if (!evidence) return { pod, version: await meshVersionOf(source, { pod, resources }), error: 'no config dump' as string };
      const dump = parseConfigDump(evidence.text, `config_dump of ${formatPod(ref)}`);
      const version = await meshVersionOf(source, { dump, pod, resources });
      return { pod, dump, evidence, version, ownership: portOwnership(dump, port, resources, pod.ip ? { sourceIp: pod.ip } : {}, version.istio ? { istioVersion: version.istio.raw } : {}) };
    } catch (error) {
      return { pod, version: await meshVersionOf(source, { pod, resources }), error: (error as Error).message };
    }
  }));
  const read = results.filter((r) => 'ownership' in r);
  for (const r of read) {
    if (!r.dump || !r.evidence) continue;
    reportConfigState(guide, step, {
      pod: r.pod, dump: r.dump, dumpProvenance: { source: r.evidence.source, ...(r.evidence.file ? { file: r.evidence.file } : {}) }, resources,
      rootNamespace: mesh.rootNamespace, path: { crosses: outboundPathCrosses(port), text: `connections from ${formatPod(r.pod)} to port ${port}` },
    });
  }
  if (pods.length === 1 && read.length === 1) step.looked(read[0].evidence);
  else step.looked(`kubectl exec <pod> -c istio-proxy -- pilot-agent request GET config_dump   (${read.length} of ${pods.length} pods)`);
  // A sidecar that could not be read is a failed read, not a ✔: the verdict cannot cover it.
  const unread = results.filter((r) => 'error' in r && r.error);
  for (const r of unread) step.note(`${formatPod(r.pod)}: ${'error' in r ? r.error : ''}`);
  if (unread.length) {
    step.status = 'failed';
    step.note(`failed: ${unread.length} of ${results.length} sidecars could not be read: ${unread.slice(0, 3).map((r) => formatPod(r.pod)).join(', ')}${unread.length > 3 ? ', ...' : ''}`);
  }
  return results;
}

/** Per pod: its chains and unmatched winner; the findings that blame a resource, gathered across pods. */
function ownershipPerPod(perPod: PerPod, resources: ResourceSet, mesh: MeshConfigView, port: number): { podData: PodOwnershipData[]; culprits: Culprits; anyHttp: boolean } {
  const podData: PodOwnershipData[] = [];
  const culprits = new Map<string, { finding: Finding; pods: string[] }>();
  let anyHttp = false;
  const staticsByVersion = new Map<string, Finding[]>();
  for (const r of perPod) {
    const podArg = formatPod(r.pod);
    if (!('ownership' in r) || !r.ownership || !r.dump) {
      podData.push({ pod: r.pod.name, namespace: r.pod.namespace, chains: [], unmatched: { destination: '-', outcome: 'unknown', owners: [], confidence: 'low' }, error: ('error' in r && r.error) || 'not read' });
      continue;
    }
    const o = r.ownership;
    podData.push({
      pod: r.pod.name,
      namespace: r.pod.namespace,
      ...(r.version.istio ? { istio: r.version.istio.raw } : {}),
      chains: o.chains.map((c) => ({ addresses: c.addresses, port: c.port, match: c.match, destination: c.destination, owners: c.owners.map(formatRef), catchAll: c.catchAll, capturesUnmatched: c.capturesUnmatched, httpCatchAll: c.httpCatchAll, listener: c.listener, filterChain: c.filterChain })),
      unmatched: {
        destination: winnerText(o.unmatchedTls),
        outcome: o.unmatchedTls.outcome.kind,
        owners: o.unmatchedOwners.map(formatRef),
        ...(o.unmatchedTls.chainRow ? { chain: `${o.unmatchedTls.chainRow.addresses} ${o.unmatchedTls.chainRow.port} ${o.unmatchedTls.chainRow.match} ${o.unmatchedTls.chainRow.destination}` } : {}),
        confidence: o.unmatchedTls.confidence,
      },
    });
    const out = o.unmatchedTls.outcome;
    const problem = out.kind === 'tls_into_http' || (out.kind === 'cluster' && !isPassthrough(out.cluster) && !isBlackHole(out.cluster));
    if (!problem) continue;
    if (out.kind === 'tls_into_http') anyHttp = true;
    const istioVersion = r.version.istio;
    // The static checks depend only on the resources and the version: once per version, not once per pod.
    const versionKey = istioVersion?.raw ?? '';
    let statics = staticsByVersion.get(versionKey);
    if (!statics) {
      statics = runStaticChecks(resources, { mesh, ...(istioVersion ? { istioVersion } : {}) }).findings;
      staticsByVersion.set(versionKey, statics);
    }
    // The same rules check runs for every proxy, on the engine, for this one port.
    const model = proxyEvidence({
      pod: r.pod, podArg, resources, mesh, dump: r.dump, ...(istioVersion ? { istioVersion } : {}),
      dumpSource: r.evidence.source, ...(r.evidence.file ? { dumpFile: r.evidence.file } : {}), staticFindings: statics,
    });
    const verdict = runRules(UNMATCHED_TLS_RULES, model, { ownership: new Map([[port, o]]) });
    for (const f of verdict.findings) {
      const key = `${f.code} ${formatRef(f.target)}`;
      const seen = culprits.get(key);
      if (seen) seen.pods.push(podArg);
      else culprits.set(key, { finding: f, pods: [podArg] });
    }
  }
  return { podData, culprits, anyHttp };
}

function winnersOf(podData: PodOwnershipData[]): Winners {
  const winners = new Map<string, { destination: string; owners: string[]; pods: string[] }>();
  for (const p of podData.filter((x) => !x.error)) {
    const key = p.unmatched.destination;
    const w = winners.get(key) ?? { destination: key, owners: p.unmatched.owners, pods: [] };
    w.pods.push(`${p.pod}.${p.namespace}`);
    winners.set(key, w);
  }
  return winners;
}

/** A finding seen in several pods says so (a new finding; the rule's own is left as it returned it). */
function seenInPods(finding: Finding, pods: string[]): Finding {
  return { ...finding, message: `${finding.message} Seen in ${pods.length} pods: ${pods.slice(0, 10).join(', ')}${pods.length > 10 ? ', ...' : ''}.` };
}

async function decideOwner(guide: Guide, port: number, winners: Winners, culprits: Culprits, staticFindings: Finding[], findings: Finding[], step: StepRecorder): Promise<void> {
  for (const w of winners.values()) step.note(`unmatched TLS on ${port} -> ${w.destination}${w.owners.length ? ` (${w.owners.join(', ')})` : ''} in ${w.pods.length} pod(s)`);
  if (winners.size > 1) step.note(`pods disagree: ${winners.size} different winners for the same port — symptoms differ per pod`);
  for (const { finding, pods: affected } of culprits.values()) {
    const seen = affected.length > 1 ? seenInPods(finding, affected) : finding;
    findings.push(seen);
    guide.report(seen, step);
  }
  for (const f of relevantStaticFindings(staticFindings, port, [...culprits.values()][0]?.finding.target)) {
    if (findings.some((x) => x.code === f.code && formatRef(x.target) === formatRef(f.target))) continue;
    findings.push(f);
    guide.report(f, step);
  }
}

/** Without proxy data: what the resources declare for the port, and the static checks. */
async function declaredOnly(guide: Guide, pods: PodView[], port: number, resources: ResourceSet, mesh: MeshConfigView, version: MeshVersion, findings: Finding[], step: StepRecorder): Promise<WhoOwnsData['declarations']> {
  const namespaces = [...new Set(pods.map((p) => p.namespace))];
  const decl = staticPortDeclarations(resources, port, { mesh, namespaces });
  const declarations = decl.map((d) => ({ ...d, ref: formatRef(d.ref) }));
  for (const d of decl) step.note(`${formatRef(d.ref)}: ${d.protocol} (${d.protocolFrom}); addresses ${d.addresses.join(', ') || 'none'}; exportTo ${d.exportTo}; visible in ${d.visibleIn.join(', ') || 'no namespace read'}`);
  step.note(version.text);
  const statics = runStaticChecks(resources, { mesh, ...(version.istio ? { istioVersion: version.istio } : {}) }).findings;
  for (const f of relevantStaticFindings(statics, port)) {
    findings.push(f);
    guide.report(f, step);
  }
  guide.skip('filter-chain ownership', `no sidecar config dump was available for ${pods.length ? pods.map((p) => formatPod(p)).slice(0, 3).join(', ') : 'any pod'}; showing what the resources declare`, step);  return declarations;
}

function whoOwnsReport(r: { guide: Guide; source: EvidenceSource; options: WhoOwnsOptions; port: number; mode: WhoOwnsData['mode']; podData: PodOwnershipData[]; winners: Winners; culprits: Culprits; anyHttp: boolean; findings: Finding[]; declarations: WhoOwnsData['declarations']; version: MeshVersion }): Report<WhoOwnsData> {
  const { guide, source, options, port, mode, podData, winners, declarations, version } = r;
  const errors = r.findings.filter((f) => f.severity === 'error');
  const unreadPods = podData.filter((p) => p.error).map((p) => `${p.pod}.${p.namespace}`);
  const status: VerdictStatus = errors.length ? 'problem' : mode === 'static' || unreadPods.length ? 'inconclusive' : 'healthy';
  const confidence = ownershipConfidence(port, mode, unreadPods);
  let summary = ownershipSummary(r, errors, unreadPods);
  if (errors.length && unreadPods.length && mode !== 'static') {
    summary += ` This covers the ${podData.length - unreadPods.length} of ${podData.length} pods read; port ${port} is unchecked in ${listed(unreadPods)}.`;
  }
  return buildReport({
    command: 'who-owns-443',
    subject: options.pod ? `pod ${formatPod(options.pod)}` : options.allNamespaces ? 'every namespace' : `namespace ${options.namespace ?? source.defaultNamespace}`,
    source,
    versions: reportVersions(version),
    transcript: guide,
    verdict: { status, summary, ...(confidence ? { confidence } : {}) },
    data: { port, mode, pods: podData, winners: [...winners.values()], ...(declarations ? { declarations } : {}) },
  });
}

function listed(pods: string[]): string {
  return `${pods.slice(0, 5).join(', ')}${pods.length > 5 ? ', ...' : ''}`;
}

/**
 * What an ownership verdict rests on: every sidecar's chains (no confidence
 * needed), some of them (medium: the unread pods may pick another winner),
 * or the resources alone (low: no chain was seen, ownership is unchecked).
 */
function ownershipConfidence(port: number, mode: WhoOwnsData['mode'], unreadPods: string[]): VerdictConfidence | undefined {
  if (mode === 'static') return { level: 'low', missing: [`every sidecar's config dump (which filter chain takes unmatched TLS on port ${port})`] };
  if (unreadPods.length) return { level: 'medium', missing: [`the config dump of ${listed(unreadPods)} (which filter chain takes unmatched TLS on port ${port} there)`] };
  return undefined;
}

/** The verdict's sentence: never an owner that no chain was seen to take, never "no owner" for a pod not read. */
function ownershipSummary(r: { port: number; mode: WhoOwnsData['mode']; podData: PodOwnershipData[]; winners: Winners; culprits: Culprits; anyHttp: boolean; findings: Finding[]; declarations: WhoOwnsData['declarations'] }, errors: Finding[], unreadPods: string[]): string {
  const { port, mode, podData, winners, culprits, anyHttp, findings, declarations } = r;
  const winnerList = [...winners.values()];
  const first = errors[0];
  if (first && (first.code === 'MD7001' || first.code === 'MD7002')) return `${first.message.split(/(?<=\.)\s/)[0]} Fix ${formatRef(first.target)}.`;
  if (first && mode === 'static') {
    return `${first.code} ${first.title} (${formatRef(first.target)}), from the resources alone: no sidecar config was available, so which filter chain owns unmatched traffic to port ${port} is unchecked.`;
  }
  if (first) {
    if (anyHttp && first.code === 'MD1001') return `Port ${port} is treated as HTTP by ${formatRef(first.target)}'s declaration, so TLS on ${port} fails in ${culprits.get(`MD1001 ${formatRef(first.target)}`)?.pods.length ?? 1} pod(s); name the port https.`;
    const owners = [...culprits.values()].filter((c) => c.finding.code === 'MD1002');
    const who = owners.map((c) => `${formatRef(c.finding.target)} (${c.pods.length} pod${c.pods.length > 1 ? 's' : ''})`).join(' and ');
    return `${who || formatRef(first.target)} own${owners.length > 1 ? '' : 's'} every unmatched connection to port ${port}${winnerList.length > 1 ? `; pods disagree on the winner (${winnerList.map((w) => w.destination).join(' vs ')}), so symptoms differ per pod` : ''}; give ${owners.length > 1 ? 'them' : 'it'} spec.addresses (and endpoints).`;
  }
  if (mode === 'static') return `No sidecar config was available, so which filter chain owns unmatched traffic to port ${port} is unchecked; ${declarations?.length ?? 0} resource(s) declare port ${port}${findings.length ? `, ${findings.length} with a warning` : ''}.`;
  if (unreadPods.length) {
    return `Not every sidecar could be read, so port ${port} is unchecked in ${listed(unreadPods)}; in the ${podData.length - unreadPods.length} read, unmatched traffic goes to ${winnerList.map((w) => w.destination).join(', ')}.`;
  }
  return `Unmatched traffic to port ${port} goes to ${winnerList.map((w) => w.destination).join(', ') || 'nothing read'} in ${podData.filter((p) => !p.error).length} pod(s): no catch-all captures it.`;
}

export type { ObjectRef };
