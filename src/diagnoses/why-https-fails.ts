/**
 * why-https-fails <pod> --host H [--ip A] [--port P] [--probe]: follows a TLS
 * connection from the pod's app through its sidecar's real config and names
 * what takes it (incidents 1, 3 and 4 of shared/incidents.md):
 *   1. the pod and its sidecar config dump;
 *   2. the mesh's resources, mesh config, and the static checks;
 *   3. the simulated path (listener, filter chain, network filter, cluster);
 *   4. the verdict rules (src/rules/egress/outbound-path.ts);
 *   5. with --probe, curl -sv from the app container, tied to the verdict.
 */
import { ahead, type Guide, type StepRecorder } from './guide.js';
import type { ConfigDump } from '../model/envoy/config-dump.js';
import type { PodView } from '../model/k8s/pods.js';
import { appContainers } from '../model/k8s/pods.js';
import type { ObjectRef, ResourceSet } from '../model/k8s/resources.js';
import { formatRef } from '../model/k8s/resources.js';
import { meshConfigFrom, type MeshConfigView } from '../model/istio/mesh-config.js';
import { serviceEntries } from '../model/istio/service-entry.js';
import { services } from '../model/istio/services.js';
import { runStaticChecks } from '../rules/mesh/index.js';
import type { IstioVersion } from '../model/istio/version-behaviour.js';
import type { MeshVersion } from '../model/mesh-version.js';
import { meshVersionOf } from './mesh-version.js';
import { parseCurlOutput, type CurlOutput } from '../model/logs/curl.js';
import {
  describeConnection, describePath, hostAddressInDump, httpConnection, httpsConnection, simulateOutbound,
  type OutboundConnection, type SimulationResult,
} from '../model/outbound/index.js';
import { pathVerdictOf, relevantStaticFindings, runPathRules, type OutboundContext, type OutboundVerdict, type TrafficEvidence } from '../rules/egress/outbound-path.js';
import { tieProbeToVerdict } from '../rules/egress/probe.js';
import type { EvidenceItem, Finding } from '../findings/finding.js';
import { describeProblem, type ConfigProblem } from '../model/envoy/config-state.js';
import { outboundPathCrosses } from '../rules/proxy/config-state.js';
import { reportConfigState } from './config-state.js';
import { buildReport, reportVersions, type Report, type VerdictStatus } from '../report/report.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';
import { readConfigDump } from './read-dump.js';
import { requireDumpProxyKind } from '../sources/pod-argument.js';

export interface SidecarEvidence {
  pod: PodView;
  podArg: string;
  dump?: ConfigDump;
  dumpSource?: string;
  dumpFile?: string;
  resources: ResourceSet;
  mesh: MeshConfigView;
  istioVersion?: IstioVersion;
  /** The run's one version decision (source, skew): diagnoses/mesh-version.ts. */
  version: MeshVersion;
  staticFindings: Finding[];
}

/** Steps 1 and 2, shared by why-https-fails and why-502. */
export async function gatherSidecarEvidence(guide: Guide, source: EvidenceSource, ref: PodRef): Promise<SidecarEvidence> {
  const podArg = formatPod(ref);
  const { pod, dump, dumpSource, dumpFile } = await guide.step(`Read ${podArg} and its sidecar's config`, async (step) => {
    const pod = await source.pod(ref);
    // A dump that cannot be fetched (the exec failed) or parsed is missing evidence, as offline: the verdict says so.
    const { dump, cited } = await readConfigDump(source, ref, step);
    if (!dump || !cited) {
      step.looked(`kubectl exec ${ref.name} -n ${ref.namespace} -c istio-proxy -- pilot-agent request GET config_dump`);
      step.status = 'skipped';
      step.note(`no config dump for ${podArg} in ${source.label}: the path through the sidecar cannot be simulated`);
      return { pod };
    }
    requireDumpProxyKind(podArg, dump);
    step.note(`${dump.listeners.length} listeners, ${dump.clusters.length} clusters, ${dump.routeConfigs.length} route configs`);
    return { pod, dump, dumpSource: cited.source, dumpFile: cited.file };
  });
  return guide.step('Read the mesh: Services, ServiceEntries, Sidecars, mesh config', async (step) => {
    const resources = await source.resources();
    step.looked('kubectl get services,serviceentries,sidecars -A -o yaml');
    const mesh = meshConfigFrom(resources);
    if (mesh.source) step.looked(`kubectl get configmap ${mesh.source.name} -n ${mesh.source.namespace} -o yaml`);
    const version = await meshVersionOf(source, { ...(dump ? { dump } : {}), pod, resources }, step);
    const istioVersion = version.istio;
    step.note(`outboundTrafficPolicy ${mesh.outboundTrafficPolicyMode}${mesh.source ? ` (ConfigMap ${mesh.source.namespace}/${mesh.source.name})` : ' (default: no mesh ConfigMap found)'}; ${services(resources).length} Services, ${serviceEntries(resources).length} ServiceEntries`);
    const { findings, outcomes } = runStaticChecks(resources, { mesh, ...(istioVersion ? { istioVersion } : {}) });
    for (const o of outcomes) if (o.status === 'skipped') guide.skip(o.rule, o.because ?? 'its inputs are missing', step);
    return { pod, podArg, dump, dumpSource, dumpFile, resources, mesh, ...(istioVersion ? { istioVersion } : {}), version, staticFindings: findings };
  });
}

/**
 * The destination IP an app resolving the host would use, when the mesh knows
 * it: a Service's ClusterIP, a ServiceEntry's address, else the address the
 * sidecar's own config gives the host (model/outbound/host-address.ts). Only
 * a host none of them knows is assumed external, and says so.
 */
export function resolveDestinationIp(host: string, resources: ResourceSet, namespace: string, proxy?: { dump: ConfigDump; port: number }): { ip?: string; because: string; assumedExternal?: true } {
  const declared = declaredAddress(host, resources, namespace);
  if (declared) return declared;
  const fromProxy = proxy ? hostAddressInDump(proxy.dump, host, proxy.port) : undefined;
  if (fromProxy) return { ...fromProxy, because: `${host} is not among the listed Services and ServiceEntries; ${fromProxy.because}` };
  return { because: `${host} is not a Service or a ServiceEntry with an address${proxy ? ', nor a host the sidecar has a cluster for' : ''}: assumed an external IP no listener is bound to`, assumedExternal: true };
}

function declaredAddress(host: string, resources: ResourceSet, namespace: string): { ip: string; because: string } | undefined {
  for (const svc of services(resources)) {
    const names = [...svc.hosts, svc.name, `${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`];
    if ((names.includes(host) && (svc.namespace === namespace || host.includes('.'))) && svc.clusterIPs[0]) {
      return { ip: svc.clusterIPs[0], because: `${host} is Service ${svc.namespace}/${svc.name}, ClusterIP ${svc.clusterIPs[0]}` };
    }
  }
  for (const se of serviceEntries(resources)) {
    const address = se.addresses.find((a) => !a.includes('/')) ?? se.allocatedAddresses[0];
    if (se.hosts.includes(host) && address) return { ip: address, because: `${host} is ServiceEntry ${se.namespace}/${se.name}, address ${address}` };
  }
  return undefined;
}

export interface OutboundData {
  connection: OutboundConnection;
  connectionText: string;
  path: SimulationResult['decisions'];
  outcome: SimulationResult['outcome'];
  chain?: { addresses: string; port: number; match: string; destination: string; listener: string; filterChain: string };
  confidence: SimulationResult['confidence'];
  notes: string[];
  culprit?: ObjectRef;
  probe?: { command: string; exitCode: number; parsed?: Omit<CurlOutput, 'raw'>; ties: string[] };
}

export function simulationData(sim: SimulationResult, verdict?: OutboundVerdict): OutboundData {
  const row = sim.chainRow;
  return {
    connection: sim.connection,
    connectionText: describeConnection(sim.connection),
    path: sim.decisions,
    outcome: sim.outcome,
    ...(row ? { chain: { addresses: row.addresses, port: row.port, match: row.match, destination: row.destination, listener: row.listener.name, filterChain: row.filterChain.name } } : {}),
    confidence: sim.confidence,
    notes: sim.notes,
    ...(verdict?.culprit ? { culprit: verdict.culprit } : {}),
  };
}

export interface OutboundOptions {
  host: string;
  ip?: string;
  port?: number;
  probe?: boolean;
  path?: string;
}

/** Steps 3 and 4 (and 5): simulate, explain, add the static findings, probe. */
export async function diagnoseOutbound(
  guide: Guide,
  source: EvidenceSource,
  evidence: SidecarEvidence,
  kind: 'https' | 'http',
  options: OutboundOptions,
  accessLog?: EvidenceItem,
): Promise<{ verdict: OutboundVerdict; data?: OutboundData }> {
  const { pod, podArg, resources } = evidence;
  const port = options.port ?? (kind === 'https' ? 443 : 80);
  if (!evidence.dump) {
    guide.skip(kind === 'https' ? 'outbound TLS path' : 'outbound HTTP path', `no config dump for ${podArg}: capture one (kubectl mesh-doctor snapshot ${podArg}) or run live`);
    const statics = relevantStaticFindings(evidence.staticFindings, port);
    for (const f of statics) guide.report(f);
    return {
      verdict: {
        findings: statics,
        status: 'inconclusive',
        summary: `Without ${podArg}'s sidecar config the path of ${options.host}:${port} cannot be followed, so it is unchecked; ${statics.length ? `the resources alone show ${statics.length} related finding(s)` : `the static checks of the resources raise nothing for port ${port}`}.`,
        observations: [],
        confidence: { level: 'low', missing: [`${podArg}'s config dump (the listeners, filter chains and clusters the request would cross)`] },
      },
    };
  }
  const dump = evidence.dump;
  const { sim, broken } = await guide.step(`Follow ${kind === 'https' ? 'TLS' : 'HTTP'} to ${options.host}:${port} through the sidecar`, async (step) => {
    step.looked(`istioctl proxy-config listeners ${podArg} --port ${port}`);
    const resolved = options.ip ? { ip: options.ip, because: `--ip ${options.ip}` } : resolveDestinationIp(options.host, resources, pod.namespace, { dump, port });
    step.note(`destination: ${resolved.because}`);
    const connection = kind === 'https'
      ? httpsConnection(options.host, { port, ...(resolved.ip ? { ip: resolved.ip } : {}), ...(pod.ip ? { sourceIp: pod.ip } : {}) })
      : httpConnection(options.host, { port, ...(resolved.ip ? { ip: resolved.ip } : {}), ...(options.path ? { path: options.path } : {}), ...(pod.ip ? { sourceIp: pod.ip } : {}) });
    const sim = simulateOutbound(dump, connection, { ...(evidence.istioVersion ? { istioVersion: evidence.istioVersion.raw } : {}), ...('assumedExternal' in resolved ? { assumedExternal: true } : {}) });
    for (const line of describePath(sim)) step.note(line);
    if (sim.confidence !== 'high') step.note(`confidence ${sim.confidence}: ${sim.notes.join('; ')}`);
    // What Envoy rejected or has not readied on the path is a failed hop (MD7001/MD7002).
    const cluster = sim.outcome.kind === 'cluster' && sim.outcome.cluster ? [sim.outcome.cluster] : [];
    const problems = evidence.dumpSource ? reportConfigState(guide, step, {
      pod, dump, dumpProvenance: { source: evidence.dumpSource, ...(evidence.dumpFile ? { file: evidence.dumpFile } : {}) }, resources,
      rootNamespace: evidence.mesh.rootNamespace, path: { crosses: outboundPathCrosses(port, cluster), text: `${kind === 'https' ? 'TLS' : 'HTTP'} from ${podArg} to ${options.host}:${port}` },
    }) : [];
    return { sim, broken: problems.filter((p) => !p.serving) };
  });
  // The probe is read before the rules explain the path (they quote it); its step keeps its place after the static checks.
  const probed = options.probe ? await ahead((probeGuide) => probe(probeGuide, source, evidence, kind, options.host, port, options.path, sim)) : undefined;
  const traffic: TrafficEvidence = { ...(probed?.value.item ? { probe: probed.value.item } : {}), ...(accessLog ? { accessLog } : {}) };
  const verdict = broken.length ? brokenPathVerdict(guide, broken, sim) : await guide.step('Explain where it ends', async (step) => {
    const path: OutboundContext = {
      pod, podArg, resources, mesh: evidence.mesh, dump, ...(evidence.istioVersion ? { istioVersion: evidence.istioVersion } : {}),
      host: options.host, port, simulation: sim, dumpSource: evidence.dumpSource ?? `istioctl proxy-config all ${podArg} -o json`,
      ...(evidence.dumpFile ? { dumpFile: evidence.dumpFile } : {}), staticFindings: evidence.staticFindings, traffic,
    };
    const run = runPathRules(path);
    for (const o of run.outcomes) if (o.status === 'skipped') guide.skip(o.rule, o.because ?? 'its inputs are missing', step);
    const verdict = pathVerdictOf(path, run);
    for (const line of verdict.observations) step.note(line);
    for (const f of verdict.findings) guide.report(f, step);
    // Say when the dump is too old or too odd to be sure (the notes say why).
    if (sim.confidence !== 'high') verdict.summary += ` (Simulation confidence ${sim.confidence}: ${sim.notes.filter((n) => !n.startsWith('no destination IP given')).join('; ') || sim.notes.join('; ')}.)`;
    return verdict;
  });
  await guide.step('Check the resources that declare this port (static checks)', async (step) => {
    const statics = relevantStaticFindings(evidence.staticFindings, port, verdict.culprit);
    if (statics.length === 0) step.note(`no Service or ServiceEntry declares port ${port} in a way the static checks flag`);
    for (const f of statics) {
      step.note(`${f.code} ${formatRef(f.target)}: ${f.title}`);
      guide.report(f, step);
      verdict.findings.push(f);
    }
  });
  const data = simulationData(sim, verdict);
  if (probed) {
    guide.adopt(probed.guide);
    if (probed.value.data) data.probe = probed.value.data;
  }
  return { verdict, data };
}

/** What --probe found: the evidence item the findings quote, and the report's probe data. */
interface ProbeRead {
  item?: EvidenceItem;
  data?: NonNullable<OutboundData['probe']>;
}

async function probe(guide: Guide, source: EvidenceSource, evidence: SidecarEvidence, kind: 'https' | 'http', host: string, port: number, path: string | undefined, sim: SimulationResult): Promise<ProbeRead> {
  return guide.step(`Probe: curl -sv from the app container`, async (step: StepRecorder): Promise<ProbeRead> => {
    const container = appContainers(evidence.pod)[0];
    if (!container) {
      step.status = 'skipped';
      guide.skip('--probe', `pod ${evidence.podArg} has no app container to run curl in`, step);
      return {};
    }
    const url = `${kind}://${host}${(kind === 'https' && port !== 443) || (kind === 'http' && port !== 80) ? `:${port}` : ''}${path && path !== '/' ? path : ''}`;
    const ref = { namespace: evidence.pod.namespace, name: evidence.pod.name };
    let argv = ['curl', '-sv', url];
    let result: Awaited<ReturnType<EvidenceSource['run']>>;
    try {
      result = await source.run(ref, container, argv);
    } catch (error) {
      // Live: the container has no curl (distroless images), or exec is forbidden; the verdict does not depend on the probe.
      step.status = 'skipped';
      guide.skip('--probe', `${(error as Error).message}; run the probe from a container that has curl (kubectl debug)`, step);
      return {};
    }
    // A snapshot may hold what the team ran instead (seed 003: `curl https://baidu.com`, `curl -k https://baidu.com`); read those too.
    const extra: Array<{ argv: string[]; text: string }> = [];
    if (source.mode === 'snapshot') {
      for (const alt of [['curl', url], ['curl', '-v', url], ['curl', '-k', url], ['curl', '-kv', url], ['curl', '-k', '-sv', url]]) {
        const r = await source.run(ref, container, alt);
        if (!r) continue;
        step.looked(r);
        if (!result) { result = r; argv = alt; } else extra.push({ argv: alt, text: `${r.text}\n${r.stderr}` });
      }
    }
    if (!result) {
      step.status = 'skipped';
      guide.skip('--probe', `no recording of \`curl -sv ${url}\` from container ${container} in ${source.label}`, step);
      return {};
    }
    step.looked(result);
    if (/executable file not found|not found in \$PATH|curl: not found|no such file or directory/i.test(`${result.stderr}\n${result.text}`) && !/curl: \(\d+\)/.test(result.stderr)) {
      step.status = 'skipped';
      guide.skip('--probe', `container ${container} has no curl (${(result.stderr.trim().split('\n').pop() ?? '').slice(0, 160)}); run the probe from a container that has it, e.g. kubectl debug`, step);
      return {};
    }
    const text = [`${result.text}\n${result.stderr}`, ...extra.map((e) => `# ${e.argv.join(' ')}\n${e.text}`)].join('\n');
    // curl -s prints no "curl: (N)" line; give the parser the exit code the way kubectl reports it.
    const withExit = result.exitCode !== 0 && !/curl: \(\d+\)/.test(text) ? `${text}\ncommand terminated with exit code ${result.exitCode}` : text;
    const parsed = parseCurlOutput(withExit);
    const ties = tieProbeToVerdict(parsed, sim, result.exitCode, host);
    for (const t of ties) step.note(t);
    if (parsed?.inMesh) step.note(`curl says: ${parsed.inMesh}`);
    const { raw: _raw, ...rest } = parsed ?? { raw: '' };
    const excerpt = text.split('\n').filter((l) => /^# curl|subject:|issuer:|SSL|curl: \(|404 page not found|< HTTP|unknown protocol|server:/i.test(l)).join('\n') || text.trim().slice(0, 600);
    return {
      item: { source: `kubectl exec ${evidence.pod.name} -n ${evidence.pod.namespace} -c ${container} -- ${argv.join(' ')}`, excerpt, ...(result.file ? { file: result.file } : {}), note: ties.join(' ') || undefined },
      data: { command: argv.join(' '), exitCode: result.exitCode, ...(parsed ? { parsed: rest as Omit<CurlOutput, 'raw'> } : {}), ties },
    };
  });
}

/**
 * A hop Envoy refused or has not readied decides the verdict: the simulated path
 * runs over what Envoy serves, so it ends elsewhere (virtualOutbound's fallback)
 * and the rules that explain that end would blame the wrong resource.
 */
function brokenPathVerdict(guide: Guide, broken: readonly ConfigProblem[], sim: SimulationResult): OutboundVerdict {
  const findings = guide.findings.filter((f) => f.code === 'MD7001' || f.code === 'MD7002');
  const first = findings[0];
  return {
    findings,
    status: 'problem',
    summary: `${describeProblem(broken[0]!)}; without it the connection ${describeOutcome(sim)} instead${first ? `; fix ${formatRef(first.target)}` : ''}.`,
    observations: [],
    ...(first ? { culprit: first.target } : {}),
  };
}

function describeOutcome(sim: SimulationResult): string {
  const o = sim.outcome;
  return o.kind === 'cluster' ? `goes to ${o.cluster}` : o.kind === 'direct_response' ? `gets Envoy's direct response ${o.status ?? ''}`.trimEnd() : `ends in ${o.kind}`;
}

export function outboundReport(command: string, source: EvidenceSource, guide: Guide, evidence: SidecarEvidence, result: { verdict: OutboundVerdict; data?: OutboundData }): Report<OutboundData | undefined> {
  const status: VerdictStatus = result.verdict.status;
  return buildReport({
    command,
    subject: `pod ${evidence.podArg}`,
    source,
    versions: reportVersions(evidence.version),
    transcript: guide,
    verdict: { status, summary: result.verdict.summary, ...(result.verdict.confidence ? { confidence: result.verdict.confidence } : {}) },
    data: result.data,
  });
}

export async function whyHttpsFails(guide: Guide, source: EvidenceSource, ref: PodRef, options: OutboundOptions): Promise<Report<OutboundData | undefined>> {
  const evidence = await gatherSidecarEvidence(guide, source, ref);
  const result = await diagnoseOutbound(guide, source, evidence, 'https', options);
  return outboundReport('why-https-fails', source, guide, evidence, result);
}
