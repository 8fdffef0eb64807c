/**
 * why-inbound-fails: the inbound path from a Service port to the app, hop by
 * hop (incident 2): Service port -> targetPort; the pod's nat table
 * (PREROUTING -> 15006); the inbound listener's chain and cluster (STATIC to
 * 127.0.0.1 before Istio 1.10, ORIGINAL_DST from 127.0.0.6 after); Envoy's
 * connection to the app through OUTPUT; the app's listening socket.
 * Evidence is fetched here, inside steps; the verdicts are the pure rules of
 * src/rules/inbound/.
 */
import { inboundConfidence, loggedInboundFailures, noFilterChain } from '../rules/inbound/logged-failures.js';
import { effectiveMtls } from '../model/istio/peer-authentication.js';
import { requireDumpProxyKind } from '../sources/pod-argument.js';
import { SEVERITY_RANK, type Finding, type VerdictConfidence } from '../findings/finding.js';
import type { ConfigDump } from '../model/envoy/config-dump.js';
import { readConfigDump } from './read-dump.js';
import { describeProblem, type ConfigProblem } from '../model/envoy/config-state.js';
import { meshConfigFrom } from '../model/istio/mesh-config.js';
import { inboundPathCrosses } from '../rules/proxy/config-state.js';
import { reportConfigState } from './config-state.js';
import { servicesSelecting } from '../model/istio/services.js';
import { sidecarFor } from '../model/istio/sidecar.js';
import type { PodView } from '../model/k8s/pods.js';
import { formatRef } from '../model/k8s/resources.js';
import { parseAccessLog } from '../model/logs/access-log.js';
import { parseListeningSockets, whoListensOn } from '../model/sockets.js';
import { buildReport, reportVersions, type Report, type VerdictStatus } from '../report/report.js';
import type { MeshVersion } from '../model/mesh-version.js';
import { meshVersionOf } from './mesh-version.js';
import type { InboundFacts, LoggedAccess, Sourced } from '../rules/inbound/facts.js';
import { ingressDefaultEndpoint, refusedInbound } from '../rules/inbound/facts.js';
import { inboundWalks, type InboundWalks } from '../rules/inbound/iptables-loop.js';
import { forwardingForPort, inboundPorts, type InboundPort } from '../rules/inbound/path.js';
import { appNotOnPodIp, inboundEvidence, iptablesLoop, noFilterChainRule, nothingListens, peerAddressRule, targetPort, type InboundRule } from '../rules/inbound/rules.js';
import { runRules } from '../rules/engine.js';
import type { EvidenceSource, PodRef } from '../sources/source.js';
import { formatPod } from '../sources/source.js';
import type { Guide, StepRecorder } from './guide.js';
import { readNatTable } from './nat-table.js';

export interface InboundHop {
  hop: string;
  detail: string;
  ok: boolean | 'unknown';
}

export interface InboundPortPath {
  port: string;
  appPort?: number;
  forwarding?: string;
  hops: InboundHop[];
}

export interface WhyInboundFailsData {
  pod: string;
  podIp?: string;
  ports: InboundPortPath[];
  /** Where the nat table came from, or why it could not be read. */
  natTable: { source?: string; tried: string[] };
  /** With --from-pod: the client's access-log lines towards this pod. */
  client?: { pod: string; lines: string[]; source?: string };
}

export interface WhyInboundFailsOptions {
  port?: number;
  fromPod?: PodRef;
}

export async function whyInboundFails(source: EvidenceSource, podRef: PodRef, guide: Guide, options: WhyInboundFailsOptions = {}): Promise<Report<WhyInboundFailsData>> {
  const pod = await source.pod(podRef);
  const run: InboundRun = { source, guide, pod, podRef, options, facts: [], pathWalks: new Map(), predictedMtls: new Map() };
  const sidecarEndpoints = new Map<InboundPort, NonNullable<InboundFacts['ingressDefaultEndpoint']>>();
  const ports = await guide.step('Service ports and their targetPorts', (step) => findInboundPorts(run, sidecarEndpoints, step));
  for (const port of ports) {
    const endpoint = sidecarEndpoints.get(port);
    const mtls = run.predictedMtls.get(port);
    run.facts.push({ pod, port, ...(endpoint ? { ingressDefaultEndpoint: endpoint } : {}), ...(mtls ? { mtls } : {}) });
  }
  await guide.step('Inbound listener and cluster (how the sidecar forwards to the app)', (step) => readInboundForwarding(run, step));
  await guide.step("The sidecar's access log (connections to the app)", (step) => readSidecarAccessLog(run, step));
  await guide.step("The app's listening sockets", (step) => checkAppSockets(run, step));
  const nat = await guide.step("The pod's nat table (iptables)", (step) => walkNatTable(run, step));
  await guide.step('The peer address the app sees', (step) => checkPeerAddress(run, step));
  const fromPod = options.fromPod;
  const client = fromPod ? await guide.step(`The client ${formatPod(fromPod)}'s access log`, (step) => readClientView(run, fromPod, step)) : undefined;
  return inboundReport(run, nat, client);
}

/** What the steps share: the run's inputs and, per port, the facts gathered so far. */
interface InboundRun {
  source: EvidenceSource;
  guide: Guide;
  pod: PodView;
  podRef: PodRef;
  options: WhyInboundFailsOptions;
  facts: InboundFacts[];
  pathWalks: Map<InboundFacts, InboundWalks>;
  /** Per port, the mTLS mode the PeerAuthentications give it. */
  predictedMtls: Map<InboundPort, NonNullable<InboundFacts['mtls']>>;
  dump?: ConfigDump;
  /** The run's one version decision (diagnoses/mesh-version.ts). */
  version?: MeshVersion;
  /** Rejected or warming config on the inbound path. */
  configProblems?: ConfigProblem[];
}

/** 1. Which Service ports lead to the pod, and where they land. */
async function findInboundPorts(run: InboundRun, sidecarEndpoints: Map<InboundPort, NonNullable<InboundFacts['ingressDefaultEndpoint']>>, step: StepRecorder): Promise<InboundPort[]> {
  const { source, pod, options } = run;
  const resources = await source.resources();
  step.looked(`kubectl get services -n ${pod.namespace} -o yaml`);
  const services = servicesSelecting(resources, pod.object);
  const found = inboundPorts(pod, services, options.port);
  const { sidecar } = sidecarFor({ namespace: pod.namespace, name: pod.name, labels: pod.labels }, resources);
  if (sidecar) {
    for (const p of found) {
      const endpoint = p.appPort !== undefined ? ingressDefaultEndpoint(sidecar.object.spec, p.appPort) : undefined;
      if (endpoint) {
        sidecarEndpoints.set(p, { sidecar: sidecar.ref, endpoint });
        step.note(`Sidecar ${sidecar.namespace}/${sidecar.name} sends port ${p.appPort} to defaultEndpoint ${endpoint}`);
      }
    }
  }
  if (services.length === 0) step.note(`no Service selects ${formatPod(pod)}; checking its container ports`);
  const mesh = meshConfigFrom(resources);
  for (const p of found) {
    // What the PeerAuthentications predict the inbound listener demands; the config dump confirms it.
    const { mode, because } = effectiveMtls(resources, { namespace: pod.namespace, labels: pod.labels }, p.appPort, { mesh });
    run.predictedMtls.set(p, { mode, because });
  }
  for (const p of found) step.note(`${p.label}: ${p.resolution.because}`);
  if (found.length === 0) step.note('no Service port, no container port and no --port: nothing to check');
  return found;
}

/** 2. The inbound listener chain and cluster of each port. */
async function readInboundForwarding(run: InboundRun, step: StepRecorder): Promise<void> {
  const { source, guide, pod, podRef, facts } = run;
  // A dump that cannot be fetched (the exec failed) or parsed is missing evidence, as offline: the verdict says so.
  const { dump, cited: evidence } = await readConfigDump(source, podRef, step);
  run.dump = dump;
  if (dump) requireDumpProxyKind(formatPod(pod), dump);
  const version = run.version = await meshVersionOf(source, { ...(dump ? { dump } : {}), pod, resources: await source.resources() }, step);
  const versionIstio = version.istio?.raw;
  if (versionIstio) for (const f of facts) f.istioVersion = versionIstio;
  if (!evidence || !dump) {
    guide.skip('inbound-forwarding', 'no Envoy config dump for the pod', step);
    step.status = 'skipped';
    return;
  }
  // What Envoy rejected or has not made ready on the inbound path is a failed hop (MD7001/MD7002).
  const ports = facts.flatMap((f) => (f.port.appPort !== undefined ? [f.port.appPort] : []));
  const resources = await source.resources();
  run.configProblems = reportConfigState(guide, step, {
    pod, dump, dumpProvenance: { source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) }, resources,
    rootNamespace: meshConfigFrom(resources).rootNamespace, path: { crosses: inboundPathCrosses(ports), text: `the inbound path to ${formatPod(pod)}` },
  });
  for (const f of facts) {
    if (f.port.appPort === undefined) continue;
    const fw = forwardingForPort(dump, f.port.appPort);
    f.forwarding = { value: fw, source: `istioctl proxy-config cluster ${formatPod(pod)} --direction inbound --port ${f.port.appPort} -o json`, ...(evidence.file ? { file: evidence.file } : {}) };
    step.note(`port ${f.port.appPort}: ${fw.because}`);
    if (fw.forwarding) step.note(`  ${fw.forwarding.explanation}`);
  }
}

/** 3. The sidecar's access log: refused connections to the app. */
async function readSidecarAccessLog(run: InboundRun, step: StepRecorder): Promise<void> {
  const { source, guide, podRef, facts } = run;
  const log = await quietLog(source, podRef, 'istio-proxy', step);
  if (!log) {
    guide.skip('inbound-access-log', 'the istio-proxy log is not available', step);
    step.status = 'skipped';
    return;
  }
  step.looked(log);
  const entries = parseAccessLog(log.text).entries;
  const sourced: Sourced<LoggedAccess[]> = { value: entries, source: log.source, ...(log.file ? { file: log.file } : {}) };
  for (const f of facts) {
    f.accessLog = sourced;
    if (f.port.appPort === undefined) continue;
    const refused = refusedInbound(entries, f.port.appPort);
    const onPort = entries.filter((e) => (e.upstreamCluster ?? '').startsWith(`inbound|${f.port.appPort}|`));
    step.note(`port ${f.port.appPort}: ${onPort.length} inbound request${onPort.length === 1 ? '' : 's'} logged, ${refused.length} refused by the app (UF / connection refused)`);
    runPathRule(run, step, 'no-filter-chain', f);
  }
}

/** 4. The app's listening sockets; the port verdicts. */
async function checkAppSockets(run: InboundRun, step: StepRecorder): Promise<void> {
  const { source, guide, pod, podRef, facts } = run;
  const evidence = await source.proxy(podRef, 'netstat').catch(() => undefined);
  if (evidence) {
    step.looked(evidence);
    try {
      const sockets = parseListeningSockets(evidence.text, `listening sockets of ${formatPod(pod)}`);
      for (const f of facts) f.sockets = { value: sockets, source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) };
      for (const f of facts) {
        if (f.port.appPort === undefined) continue;
        const who = whoListensOn(sockets, f.port.appPort, pod.ip ? { podIp: pod.ip } : {});
        step.note(`port ${f.port.appPort}: ${who.sockets.length ? who.sockets.map((s) => `${s.address}:${s.port}${s.process ? ` (${s.process})` : ''}`).join(', ') : 'nothing listens'}`);
      }
    } catch (error) {
      step.status = 'failed';
      step.note(`failed: could not read the sockets: ${(error as Error).message}`);
    }
  } else {
    step.status = 'skipped';
    step.note('no ss or netstat output (not in the proxy image, or not in the snapshot)');
  }
  for (const f of facts) {
    if (!f.port.service) step.note(`${f.port.label}: no Service port, nothing to compare`);
    const mismatch = f.port.service ? runPathRule(run, step, 'target-port', f) : [];
    if (mismatch.length > 0) continue; // the Service is the cause; "nothing listens" would repeat it
    runPathRule(run, step, 'app-listens', f);
  }
}

/** 5. The nat table: capture into Envoy, and Envoy's connection to the app. */
async function walkNatTable(run: InboundRun, step: StepRecorder): Promise<Awaited<ReturnType<typeof readNatTable>>> {
  const { source, guide, pod, facts, pathWalks } = run;
  const result = await readNatTable(source, pod, step);
  for (const t of result.tried) step.note(t);
  if (!result.nat) {
    guide.skip('iptables-loop', `the nat table is not available: ${result.tried.join('; ') || 'nothing to read'}`, step);
    step.status = 'skipped';
    return result;
  }
  step.note(`read ${result.nat.value.chains.size} chains (${result.nat.value.format})`);
  for (const f of facts) {
    f.nat = result.nat;
    const walks = inboundWalks(f);
    for (const line of walks.notes) step.note(line);
    pathWalks.set(f, walks);
    runPathRule(run, step, 'iptables-loop', f);
  }
  return result;
}

/** 6. What the app sees as the peer address. */
async function checkPeerAddress(run: InboundRun, step: StepRecorder): Promise<void> {
  const { guide, facts } = run;
  // Requests that loop in iptables never reach the app: the peer address is moot then.
  if (guide.findings.some((x) => x.code === 'MD4005')) {
    step.note('skipped: the proxy\'s connection to the app loops in iptables (MD4005), so no request reaches the app');
    return;
  }
  // One finding per pod: the peer address is the same for every port (each port's notes still count).
  let reported = false;
  for (const f of facts) {
    const found = runPathRule(run, step, 'peer-address', f, { report: !reported });
    if (found.length > 0) reported = true;
  }
}

/** 7. Optionally, the client's view. */
async function readClientView(run: InboundRun, fromPod: PodRef, step: StepRecorder): Promise<NonNullable<WhyInboundFailsData['client']>> {
  const { source, pod, facts } = run;
  const log = await quietLog(source, fromPod, 'istio-proxy', step);
  if (!log) {
    step.note('the client\'s istio-proxy log is not available');
    step.status = 'skipped';
    return { pod: formatPod(fromPod), lines: [] };
  }
  step.looked(log);
  const targets = new Set(facts.flatMap((f) => (pod.ip && f.port.appPort !== undefined ? [`${pod.ip}:${f.port.appPort}`] : [])));
  const hosts = facts.flatMap((f) => (f.port.service ? [f.port.service.host, `${f.port.service.name}.${f.port.service.namespace}`, f.port.service.name] : []));
  const lines = parseAccessLog(log.text).entries.filter((e) => targets.has(e.upstreamHost ?? '') || hosts.some((h) => (e.authority ?? '').split(':')[0] === h) || facts.some((f) => f.port.service && (e.upstreamCluster ?? '').endsWith(`|${f.port.service.host}`)));
  const failed = lines.filter((e) => (e.responseCode ?? 0) >= 500 || e.responseFlags.length > 0);
  step.note(`${lines.length} request${lines.length === 1 ? '' : 's'} to this pod in the client's log, ${failed.length} failed${failed.length ? ` (${[...new Set(failed.map((e) => `${e.responseCode} ${e.responseFlags.join(',') || '-'}`))].join(', ')})` : ''}`);
  return { pod: formatPod(fromPod), lines: lines.slice(-5).map((e) => e.raw), source: log.source };
}

/** The report: each port's path, hop by hop, and the verdict. */
function inboundReport(run: InboundRun, nat: Awaited<ReturnType<typeof readNatTable>>, client: WhyInboundFailsData['client']): Report<WhyInboundFailsData> {
  const { source, guide, pod, options, facts, pathWalks, dump, version } = run;
  const findings = guide.findings;
  const data: WhyInboundFailsData = {
    pod: formatPod(pod),
    ...(pod.ip ? { podIp: pod.ip } : {}),
    ports: facts.map((f) => portPath(f, findings, pathWalks.get(f), run.configProblems ?? [])),
    natTable: { ...(nat.nat ? { source: nat.nat.source } : {}), tried: nat.tried },
    ...(client ? { client } : {}),
  };
  return buildReport({
    command: 'why-inbound-fails',
    subject: `pod ${formatPod(pod)}${options.port ? ` port ${options.port}` : ''}`,
    source,
    versions: version ? reportVersions(version) : undefined,
    transcript: guide,
    verdict: verdict(pod, facts, findings, dump !== undefined),
    data,
  });
}

/** The inbound rules by the names this diagnosis' transcript and report give them. */
const PATH_RULES: Record<'target-port' | 'app-listens' | 'iptables-loop' | 'peer-address' | 'no-filter-chain', readonly InboundRule[]> = {
  'no-filter-chain': [noFilterChainRule],
  'target-port': [targetPort],
  'app-listens': [appNotOnPodIp, nothingListens],
  'iptables-loop': [iptablesLoop],
  'peer-address': [peerAddressRule],
};

/**
 * Runs one inbound rule through the engine on one port's facts: what it saw
 * goes to the step, a skip (once per reason) and its findings to the guide.
 * With `report: false` the findings are returned but not reported again.
 */
function runPathRule(run: InboundRun, step: StepRecorder, name: keyof typeof PATH_RULES, facts: InboundFacts, options: { report?: boolean } = {}): Finding[] {
  const { guide } = run;
  const { findings, outcomes } = runRules(PATH_RULES[name], pathEvidence(facts));
  for (const outcome of outcomes) {
    for (const line of outcome.saw ?? []) step.note(line);
    const because = outcome.because;
    if (outcome.status === 'skipped' && because !== undefined && !guide.skipped.some((s) => s.rule === name && s.reason === because)) guide.skip(name, because, step);
  }
  if (options.report !== false) for (const f of findings) guide.report(f, step);
  return findings;
}

/** One port's facts as the engine's evidence model, with this diagnosis' wording of what it could not read. */
function pathEvidence(facts: InboundFacts) {
  const model = inboundEvidence(facts);
  return { ...model, absent: (kinds: Parameters<NonNullable<typeof model.absent>>[0]) => (kinds.includes('sockets') ? 'the listening sockets are not available (no ss/netstat in the proxy image, or not in the snapshot)' : model.absent!(kinds)) };
}

async function quietLog(source: EvidenceSource, ref: PodRef, container: string, step: StepRecorder) {
  try {
    return await source.containerLog(ref, container, { tail: 2000 });
  } catch (error) {
    step.note(`kubectl logs ${ref.name} -n ${ref.namespace} -c ${container}: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

function portPath(f: InboundFacts, findings: Finding[], walks: InboundWalks | undefined, problems: readonly ConfigProblem[]): InboundPortPath {
  const hops: InboundHop[] = [];
  const { pod, port } = f;
  const p = port.appPort;
  const blamed = (code: string) => findings.some((x) => x.code === code && (x.message.includes(`${p}`) || x.code === 'MD4005'));
  if (port.service && port.servicePort) {
    hops.push({ hop: `Service ${port.service.namespace}/${port.service.name}:${port.servicePort.port}`, detail: port.resolution.because, ok: !blamed('MD4004') && port.resolution.resolved });
  }
  if (walks?.capture) {
    const v = walks.capture.verdict;
    hops.push({ hop: `${pod.ip}:${p} PREROUTING`, detail: v.kind === 'REDIRECT' ? `${walks.capture.path.join(' -> ')} -> REDIRECT ${v.port}` : `not captured (${v.kind})`, ok: v.kind === 'REDIRECT' });
  } else hops.push({ hop: `${pod.ip ?? 'pod IP'}:${p ?? '?'} PREROUTING`, detail: 'nat table not read', ok: 'unknown' });
  const fw = f.forwarding?.value;
  const inbound = problems.find((x) => x.kind === 'listener' && x.name === 'virtualInbound' && !x.serving);
  if (inbound) hops.push({ hop: 'virtualInbound 0.0.0.0:15006', detail: describeProblem(inbound), ok: false });
  else if (fw?.cluster) {
    hops.push({ hop: `virtualInbound 0.0.0.0:15006${fw.chains[0] ? ` chain ${fw.chains[0].name}` : ''}`, detail: `-> cluster ${fw.cluster.name}`, ok: true });
    const m = fw.forwarding;
    const to = m?.mode === 'static-localhost' ? `${m.targetAddress}:${p}` : `${pod.ip ?? 'pod IP'}:${p}`;
    hops.push({ hop: `cluster ${fw.cluster.name}`, detail: `${m?.type ?? ''} -> ${to}${m?.sourceAddress ? ` from ${m.sourceAddress}` : ''}`, ok: true });
  } else if (noFilterChain(f.accessLog?.value ?? [], p).length > 0) {
    hops.push({ hop: 'virtualInbound 0.0.0.0:15006', detail: `no matching filter chain: ${noFilterChain(f.accessLog?.value ?? [], p).length} connection(s) closed (access log; config dump not read)`, ok: false });
  } else hops.push({ hop: 'inbound cluster', detail: 'config dump not read', ok: 'unknown' });
  if (walks?.forward) {
    const v = walks.forward.verdict;
    hops.push({ hop: 'OUTPUT (Envoy -> app)', detail: walks.forward.loop ? `LOOP: ${v.kind === 'REDIRECT' ? `redirected back to ${v.port}` : v.kind}` : v.kind === 'RETURN' ? `RETURN by ${v.returnedBy.chain} rule ${v.returnedBy.position}` : v.kind, ok: !walks.forward.loop });
  }
  if (f.sockets && p !== undefined) {
    const who = whoListensOn(f.sockets.value, p, pod.ip ? { podIp: pod.ip } : {});
    const forwardsTo = fw?.forwarding?.mode === 'static-localhost' ? 'localhost' : 'podIp';
    const ok = who.sockets.length > 0 && (forwardsTo === 'localhost' ? who.reachableAtLocalhost : who.reachableAtPodIp);
    hops.push({ hop: `app :${p}`, detail: who.sockets.length ? `listens on ${who.sockets.map((s) => `${s.address}:${s.port}`).join(', ')}` : 'nothing listens', ok });
  } else hops.push({ hop: `app :${p ?? '?'}`, detail: 'listening sockets not read', ok: 'unknown' });
  return { port: port.label, ...(p !== undefined ? { appPort: p } : {}), ...(fw?.forwarding ? { forwarding: fw.forwarding.explanation } : {}), hops };
}

function verdict(pod: PodView, facts: InboundFacts[], findings: Finding[], haveDump: boolean): { status: VerdictStatus; summary: string; confidence?: VerdictConfidence } {
  const worst = [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.code.localeCompare(b.code))[0];
  const unread = [
    !haveDump ? 'the config dump (how the sidecar forwards)' : '',
    !facts.some((f) => f.sockets) ? 'the listening sockets (where the app listens)' : '',
    !facts.some((f) => f.nat) ? 'the nat table (iptables is unchecked)' : '',
  ].filter(Boolean);
  if (worst && worst.severity !== 'info') {
    const fix = worst.remediation.text.split(/(?<=[.;])\s/)[0]!.replace(/[.;]$/, '');
    // A failure found on part of the path stands; the confidence says which hops were not read.
    return { status: 'problem', summary: `${worst.code} ${worst.title} (${formatRef(worst.target)}): fix: ${fix}.`, ...(facts.length && unread.length ? { confidence: inboundConfidence(unread, true) } : {}) };
  }
  if (facts.length === 0) return { status: 'inconclusive', summary: `No Service port or container port leads to ${formatPod(pod)}; give --port.` };
  const ports = facts.map((f) => f.port.appPort).filter((p) => p !== undefined).join(', ');
  const note = worst ? ` (note ${worst.code}: ${worst.title.toLowerCase()})` : '';
  if (unread.length) {
    // Never "intact" for a path with a hop it could not see: the verdict covers only what was read.
    const logged = loggedInboundFailures(facts[0]?.accessLog?.value ?? []);
    const seen = logged.length ? `the sidecar's access log shows ${logged.join('; ')}` : 'the hops that were read do not fail';
    return { status: 'inconclusive', summary: `The inbound path to ${formatPod(pod)} port ${ports} was not fully checked: ${unread.join(', ')} could not be read; ${seen}${note}.`, confidence: inboundConfidence(unread) };
  }
  return {
    status: 'healthy',
    summary: `The inbound path to ${formatPod(pod)} port ${ports} is intact: iptables captures it into the sidecar, the sidecar forwards it to where the app listens, and iptables lets the forward through${note}.`,
  };
}
