/**
 * check [-n NS | -A]: the whole mesh triaged in one command (`linkerd check`'s
 * groups and √ ‼ × –), ending in culprits. Every check is a rule on the one
 * engine: the mesh rules run once over the resources; the per-proxy rules run
 * for every sidecar, each proxy's dump read once through the source's bounded
 * pool, reduced to the rules' findings and released before the next is read.
 * A rule that could not run is a skipped line with its reason.
 */
import pLimit from 'p-limit';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { Guide, StepRecorder } from './guide.js';
import { parseConfigDump, type ConfigDump } from '../model/envoy/config-dump.js';
import { accessLogging } from '../model/envoy/access-logging.js';
import { meshConfigFrom, type MeshConfigView } from '../model/istio/mesh-config.js';
import { parseIstioVersion } from '../model/istio/version-behaviour.js';
import { PROXY_CONTAINER, type PodView } from '../model/k8s/pods.js';
import { servicesSelecting } from '../model/istio/services.js';
import { parseAccessLog } from '../model/logs/access-log.js';
import { formatRef, type ResourceSet } from '../model/k8s/resources.js';
import { portOwnership, type PortOwnership } from '../model/outbound/index.js';
import { catalogEntry, type FindingCode } from '../findings/catalog.js';
import type { Finding } from '../findings/finding.js';
import { findingsOf, runRules, type RuleRun } from '../rules/engine.js';
import type { Rule, RuleOutcome } from '../rules/rule.js';
import { proxyEvidence, type ProxyEvidence } from '../rules/egress/evidence.js';
import { tlsPorts, UNMATCHED_TLS_RULES } from '../rules/egress/unmatched-tls.js';
import { BLOCKED_HOST_RULES } from '../rules/egress/blocked-hosts.js';
import { refusedInbound, type InboundFacts, type LoggedAccess } from '../rules/inbound/facts.js';
import { forwardingForPort, inboundPorts } from '../rules/inbound/path.js';
import { INBOUND_RULES, inboundEvidence } from '../rules/inbound/rules.js';
import { runStaticChecks, STATIC_RULES } from '../rules/mesh/index.js';
import { CONFIG_STATE_RULES, configStateEvidence } from '../rules/proxy/config-state.js';
import { CERT_RULES, certsEvidence, proxyCertEvidence, type ProxyCertEvidence } from '../rules/certs/index.js';
import { certificatesFromSecrets } from '../model/envoy/certificates.js';
import { CONTROL_PLANE_RULES, controlPlaneEvidence, type IstiodSync } from '../rules/mesh/control-plane.js';
import { parseSyncz, SYNCZ_COMMAND } from '../model/istio/syncz.js';
import { istiodInstances, type IstiodInstance } from '../model/istio/istiod.js';
import { diagnosisForLine } from '../explain/diagnose-line.js';
import { readListeningSockets } from './read-dump.js';
import { failed } from '../rules/upstream/support.js';
import type { AccessLogEntry } from '../model/logs/access-log.js';
import { buildReport, type Report, type VerdictStatus } from '../report/report.js';
import type { CheckCulprit, CheckData, CheckGroup, CheckLine, CheckStatus } from '../report/check.js';
import { formatPod, type EvidenceSource } from '../sources/source.js';
import { proxyKind } from '../model/envoy/gateway-config.js';
import { GATEWAY_RULES, runGatewayRules } from '../rules/gateway/index.js';
import { gatewayPodsOf, intendedRequests, walkGateway } from '../rules/gateway/walk.js';

export interface CheckOptions {
  namespace?: string;
  allNamespaces: boolean;
  /** Proxies read at once; each holds at most one dump in memory. */
  concurrency: number;
  /** Live: how far back each sidecar's access log is read (ms); offline the whole recorded log is read. */
  sinceMs?: number;
  /** Called after each proxy, for a progress line. */
  onProxy?: (progress: CheckProgress) => void;
  /** When aborted, no further proxy is read; the report covers those checked. */
  signal?: AbortSignal;
}

export interface CheckProgress {
  checked: number;
  total: number;
  errors: number;
}

/** One proxy's evidence once read: the dump parsed, the access log parsed; the texts are already released. */
interface ProxyRead {
  pod: PodView;
  podArg: string;
  dump?: ConfigDump;
  dumpSource?: string;
  dumpFile?: string;
  dumpMissing?: string;
  accessLog?: ProxyEvidence['accessLog'];
  /** Why the access log is no evidence (the proxy logs no access, it could not be read). */
  accessLogMissing?: string;
  /** The ports the sidecar forwards to the app: the pod's Services' target ports and its container ports. */
  inboundPorts: ReturnType<typeof inboundPorts>;
  /** Read only when the access log shows the sidecar refused on an app port: they tell MD4001 from MD4003. */
  sockets?: InboundFacts['sockets'];
  istioVersion?: ReturnType<typeof parseIstioVersion>;
}

/** The per-proxy rules `check` runs, in order, by group, and how each group runs them on the engine for one proxy. */
const PROXY_GROUPS: ReadonlyArray<{ group: string; rules: readonly Rule<any, any>[]; run(read: ProxyRead, ctx: MeshContext): RuleRun }> = [
  { group: 'Config delivery', rules: CONFIG_STATE_RULES, run: runConfigDelivery },
  { group: 'Egress', rules: [...UNMATCHED_TLS_RULES, ...BLOCKED_HOST_RULES], run: runEgress },
  { group: 'Inbound', rules: INBOUND_RULES, run: runInbound },
  { group: 'Gateways', rules: GATEWAY_RULES, run: runGateways },
];

/** Expiring within this many days is a warning (as `certs`' default --warn-days). */
const CERT_WARN_DAYS = 7;

/** What one proxy left behind once its dump was released: outcomes and findings only. */
interface ProxyResult extends RuleRun {
  pod: string;
  istio?: string;
  unreadable?: string;
  /** Its certificates (kilobytes, from the dump's SDS secrets), for the mesh-wide certificate rules. */
  certs: ProxyCertEvidence;
  /** The revision that injected it, for the control plane rules. */
  revision: string;
  /** Its access log's failures, grouped (undefined: no access log was read). */
  traffic?: TrafficGroup[];
  /** Why its access log was no evidence. */
  trafficMissing?: string;
}

/** Failed requests of one proxy alike in status, flags, details and upstream cluster. */
interface TrafficGroup {
  key: string;
  count: number;
  /** The first such line, as logged. */
  line: string;
  status: number;
}

export async function check(guide: Guide, source: EvidenceSource, options: CheckOptions): Promise<Report<CheckData>> {
  const { resources, mesh } = await guide.step('Read the mesh: resources and mesh config', (step) => readMesh(source, step));
  const pods = await guide.step(`List sidecar pods${options.allNamespaces ? ' in every namespace' : ` in ${options.namespace ?? source.defaultNamespace}`}`, (step) => findPods(source, options, step));
  const ctx: MeshContext = { resources, mesh, ports: tlsPorts(resources), staticsByVersion: new Map(), gatewayPods: gatewayPodsOf(pods) };
  const perProxy = await guide.step(`Proxies: ${PROXY_GROUPS.flatMap((g) => g.rules).length} checks on each of ${pods.length} sidecars`, (step) => checkProxies(source, pods, ctx, options, step));
  const statics = await guide.step('Resources: the static checks', async (step) => staticChecks(ctx, perProxy, step));
  const certs = await guide.step('Certificates: validity, roots and identities across the proxies', async (step) => certificateChecks(source, ctx, perProxy, step));
  const controlPlane = await guide.step('Control plane: istiod versions, revisions and sync state against the proxies\'', (step) => controlPlaneChecks(source, ctx, perProxy, step));
  const data = collect(pods.length, statics, perProxy, { certs, controlPlane }, Boolean(options.signal?.aborted));
  for (const f of reportedFindings(data, [...statics.findings, ...certs.findings, ...controlPlane.findings], perProxy)) guide.report(f);
  for (const line of data.groups.flatMap((g) => g.checks)) if (line.status === 'skipped') guide.skip(line.rule, line.because ?? 'not run');
  return checkReport(guide, source, options, data);
}

async function readMesh(source: EvidenceSource, step: StepRecorder): Promise<{ resources: ResourceSet; mesh: MeshConfigView }> {
  const resources = await source.resources();
  step.looked('kubectl get services,serviceentries,destinationrules,sidecars,peerauthentications,configmaps -A -o yaml');
  const mesh = meshConfigFrom(resources);
  step.note(`${resources.size} objects; outboundTrafficPolicy ${mesh.outboundTrafficPolicyMode}`);
  return { resources, mesh };
}

async function findPods(source: EvidenceSource, options: CheckOptions, step: StepRecorder): Promise<PodView[]> {
  const ns = options.allNamespaces ? undefined : (options.namespace ?? source.defaultNamespace);
  step.looked(`kubectl get pods ${ns ? `-n ${ns}` : '-A'}`);
  const pods = (await source.pods(ns)).filter((p) => p.hasSidecar);
  step.note(`${pods.length} pods with a sidecar`);
  return pods;
}

/** The mesh rules, for the Istio version most proxies run (their severity depends on it: Istio's behaviour changed). */
function staticChecks(ctx: MeshContext, perProxy: ProxyResult[], step: StepRecorder): RuleRun {
  const counts = new Map<string, number>();
  for (const r of perProxy) if (r.istio) counts.set(r.istio, (counts.get(r.istio) ?? 0) + 1);
  const dominant = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const run = staticsFor(ctx, parseIstioVersion(dominant));
  if (dominant) step.note(`for Istio ${dominant}, the version of ${counts.get(dominant)} of ${perProxy.length} proxies`);
  for (const o of run.outcomes) step.note(`${o.rule}: ${o.status === 'ran' ? `${o.findings} finding(s)` : `skipped: ${o.because}`}`);
  return run;
}

/** Every proxy through the bounded pool; each result keeps findings only, never the dump. */
async function checkProxies(source: EvidenceSource, pods: PodView[], ctx: MeshContext, options: CheckOptions, step: StepRecorder): Promise<ProxyResult[]> {
  const limit = pLimit(Math.max(1, options.concurrency));
  // In the pods' order, whichever proxy answers first: the report must not depend on timing.
  const slots: Array<ProxyResult | undefined> = pods.map(() => undefined);
  let checked = 0;
  let errors = 0;
  await Promise.all(pods.map((pod, i) => limit(async () => {
    if (options.signal?.aborted) return;
    // Judged inside the pool slot: at most --concurrency parsed dumps are alive at once (peak RSS, docs/performance.md).
    const result = judgeProxy(await readProxy(source, pod, ctx, options), ctx);
    slots[i] = result;
    errors += result.findings.filter((f) => f.severity === 'error').length;
    options.onProxy?.({ checked: ++checked, total: pods.length, errors });
  })));
  const results = slots.filter((r): r is ProxyResult => r !== undefined);
  step.looked(`kubectl exec <pod> -c istio-proxy -- pilot-agent request GET config_dump   (${results.filter((r) => !r.unreadable).length} of ${pods.length} pods)`);
  for (const r of results) if (r.unreadable) step.note(`${r.pod}: ${r.unreadable}`);
  return results;
}

interface MeshContext {
  resources: ResourceSet;
  mesh: MeshConfigView;
  ports: number[];
  /** The mesh rules' run per Istio version (the proxies of one version share it). */
  staticsByVersion: Map<string, RuleRun>;
  /** The selected pods that look like gateways, for the Gateway selector check. */
  gatewayPods: PodView[];
}

/** One proxy's evidence: its dump and access log, read at once (the log's round trip hides under the dump's exec). */
async function readProxy(source: EvidenceSource, pod: PodView, ctx: MeshContext, options: CheckOptions): Promise<ProxyRead> {
  const ref = { namespace: pod.namespace, name: pod.name };
  const [dumped, log] = await Promise.all([readDump(source, pod), readAccessLog(source, pod, options)]);
  // The reasons name no pod: check counts the proxies that share one.
  const unread = source.mode === 'snapshot' ? 'the snapshot holds no istio-proxy log' : 'the istio-proxy log could not be read';
  const { accessLog, why: accessLogMissing } = accessLogEvidence(dumped.dump, log, unread);
  // One more exec, only for a proxy the app refuses: elsewhere there is no inbound failure for the sockets to explain.
  const ports = inboundPorts(pod, servicesSelecting(ctx.resources, pod.object));
  const refused = accessLog && ports.some((p) => p.appPort !== undefined && refusedInbound(accessLog.entries as LoggedAccess[], p.appPort).length > 0);
  const sockets = refused ? await readListeningSockets(source, ref) : undefined;
  const istioVersion = parseIstioVersion(dumped.dump?.versions?.istio);
  return {
    pod, podArg: formatPod(ref), inboundPorts: ports,
    ...(dumped.dump ? { dump: dumped.dump } : {}), ...(dumped.source ? { dumpSource: dumped.source } : {}), ...(dumped.file ? { dumpFile: dumped.file } : {}),
    ...(dumped.why ? { dumpMissing: dumped.why } : {}), ...(accessLog ? { accessLog } : {}), ...(accessLogMissing ? { accessLogMissing } : {}),
    ...(sockets ? { sockets } : {}), ...(istioVersion ? { istioVersion } : {}),
  };
}

/**
 * The access log is evidence when it holds access lines, or when the proxy's
 * listeners log to the container: an empty log then means nothing failed. A
 * proxy that logs no access (Istio's default profile) shows no failure however
 * many there are, so its log proves nothing.
 */
function accessLogEvidence(dump: ConfigDump | undefined, log: ProxyEvidence['accessLog'], unread: string): { accessLog?: ProxyEvidence['accessLog']; why?: string } {
  if (!log) return { why: unread };
  if (log.entries.length > 0) return { accessLog: log };
  if (!dump) return { why: 'no access line in the istio-proxy log, and no config dump to tell whether the proxy logs access' };
  const logging = accessLogging(dump);
  if (logging.toContainerLog && logging.customFormats.length) {
    return { why: `the proxy logs access in a custom format ("${truncated(logging.customFormats[0]!.replace(/\s+/g, ' ').trim(), 60)}", meshConfig.accessLogFormat) that mesh-doctor does not read` };
  }
  if (logging.toContainerLog) return { accessLog: log };
  return {
    why: logging.sinks.length
      ? `the proxy logs access to ${logging.sinks.join(', ')}, not to its container log`
      : "the proxy logs no access: no access_log on its listeners (Istio's default; meshConfig.accessLogFile: /dev/stdout or a Telemetry resource turns it on)",
  };
}

/** Every group's rules on one proxy's evidence; the result keeps the findings only, so the dump is released. */
function judgeProxy(read: ProxyRead, ctx: MeshContext): ProxyResult {
  const runs = PROXY_GROUPS.map((g) => g.run(read, ctx));
  return {
    pod: read.podArg,
    certs: proxyCerts(read),
    revision: injectedBy(read.pod),
    ...(read.accessLog ? { traffic: failureGroups(read.accessLog.entries) } : {}), ...(read.accessLogMissing ? { trafficMissing: read.accessLogMissing } : {}),
    ...(read.dump?.versions?.istio ? { istio: read.dump.versions.istio } : {}),
    findings: runs.flatMap((r) => r.findings),
    outcomes: runs.flatMap((r) => r.outcomes),
    ...(read.dumpMissing ? { unreadable: read.dumpMissing } : {}),
  };
}

/** Config delivery: every resource this proxy's Envoy rejected or has not made ready. */
function runConfigDelivery(read: ProxyRead, ctx: MeshContext): RuleRun {
  return runRules(CONFIG_STATE_RULES, configStateEvidence({
    pod: { namespace: read.pod.namespace, name: read.pod.name, labels: read.pod.labels }, resources: ctx.resources, rootNamespace: ctx.mesh.rootNamespace,
    ...(read.dump ? { dump: read.dump } : {}), ...(read.dumpSource ? { dumpProvenance: { source: read.dumpSource, ...(read.dumpFile ? { file: read.dumpFile } : {}) } } : {}),
    ...(read.dumpMissing ? { dumpMissing: read.dumpMissing } : {}),
  }));
}

/** The proxy's workload certificate and roots from its dump's SDS secrets (no dump: the reason). */
function proxyCerts(read: ProxyRead): ProxyCertEvidence {
  if (!read.dump) return proxyCertEvidence(read.pod, undefined, undefined, read.dumpMissing ?? 'no config dump');
  return proxyCertEvidence(read.pod, certificatesFromSecrets(read.dump.secrets), read.dumpFile, 'no certificates in the config dump (SDS not served yet?)');
}

/** The certificate rules once over every proxy read (a root that differs is a comparison across pods), as of the capture time offline. */
async function certificateChecks(source: EvidenceSource, ctx: MeshContext, perProxy: ProxyResult[], step: StepRecorder): Promise<RuleRun> {
  const now = (await source.capturedAt?.()) ?? new Date();
  const run = runRules(CERT_RULES, certsEvidence({ proxies: perProxy.map((r) => r.certs), now, warnDays: CERT_WARN_DAYS, trustDomain: ctx.mesh.trustDomain }));
  step.note(`as of ${now.toISOString()}, warning within ${CERT_WARN_DAYS} days; ${perProxy.filter((r) => r.certs.certs).length} of ${perProxy.length} proxies' certificates read`);
  return run;
}

/** A request the access log shows failed (why-503's test: a 5xx, a flag, a reset), or one the proxy denied or found no route for. */
function failedOrDenied(e: AccessLogEntry): boolean {
  return failed(e) || /rbac_access_denied|ext_authz|route_not_found/.test(e.responseCodeDetails ?? '');
}

/** The proxy's failures grouped by status, flags, details and upstream cluster (the text is released; one line each is kept). */
function failureGroups(entries: readonly AccessLogEntry[]): TrafficGroup[] {
  const groups = new Map<string, TrafficGroup>();
  for (const e of entries.filter(failedOrDenied)) {
    const key = `${e.tcp ? 'TCP' : e.responseCode} ${e.responseFlags.join(',') || '-'} ${e.responseCodeDetails ?? e.connectionTerminationDetails ?? '-'} ${e.upstreamCluster ?? '-'}`;
    const group = groups.get(key) ?? { key, count: 0, line: e.raw, status: e.responseCode ?? 0 };
    group.count++;
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** The traffic line: failure groups across proxies, each with the diagnosis its first line calls for. */
function trafficLine(perProxy: ProxyResult[]): CheckLine {
  const title = "failures in the sidecars' access logs, grouped, each with the diagnosis that explains it";
  const withLog = perProxy.filter((r) => r.traffic);
  const missing = skippedBecause(perProxy.filter((r) => !r.traffic));
  if (withLog.length === 0) return { rule: 'access-log-failures', code: '', title, status: 'skipped', because: perProxy.length ? missing : 'no sidecar pod was selected', culprits: [] };
  const culprits: CheckCulprit[] = withLog.flatMap((r) => r.traffic!.map((g) => {
    const picked = diagnosisForLine(g.line, r.pod);
    return {
      code: '', severity: 'warning' as const, target: g.key,
      message: `${g.count} request${g.count > 1 ? 's' : ''} logged by ${r.pod}`,
      pods: { count: 1, names: [r.pod] },
      evidence: truncated(g.line, EVIDENCE_WIDTH),
      next: 'call' in picked ? `kubectl mesh-doctor ${picked.call.command} ${picked.call.args.join(' ')}` : `kubectl mesh-doctor explain '${g.line.replace(/'/g, "'\\''")}'`,
    };
  }));
  const because = withLog.length < perProxy.length ? `skipped on ${perProxy.length - withLog.length} of ${perProxy.length} proxies: ${missing}` : undefined;
  return { rule: 'access-log-failures', code: '', title, status: culprits.length ? 'warning' : 'passed', ...(because ? { because } : {}), proxies: { ran: withLog.length, skipped: perProxy.length - withLog.length }, culprits };
}

/** Text cut to a width, with an ellipsis when cut. */
function truncated(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 3)}...` : text;
}

/** Why the proxies without an access log had none, each reason with its count. */
function skippedBecause(without: readonly ProxyResult[]): string {
  const reasons = new Map<string, number>();
  for (const r of without) reasons.set(r.trafficMissing ?? 'no access log', (reasons.get(r.trafficMissing ?? 'no access log') ?? 0) + 1);
  if (reasons.size === 1) return [...reasons.keys()][0]!;
  return countedReasons(reasons, without.length);
}

const MAX_REASONS = 3;

/** Reasons with how many proxies gave each, the most common first; past a few, how many more. */
function countedReasons(reasons: ReadonlyMap<string, number>, total: number): string {
  const sorted = [...reasons].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, MAX_REASONS).map(([why, n]) => `${n} of ${total} proxies: ${why}`);
  const rest = sorted.slice(MAX_REASONS).reduce((n, [, k]) => n + k, 0);
  return [...shown, ...(rest ? [`${rest} more for ${sorted.length - MAX_REASONS} other reasons`] : [])].join('; ');
}

/** The revision that injected a pod: sidecar.istio.io/status's, else its istio.io/rev label, else default. */
function injectedBy(pod: PodView): string {
  try {
    const status = JSON.parse(String(pod.object.metadata.annotations?.['sidecar.istio.io/status'] ?? '{}')) as { revision?: unknown };
    if (typeof status.revision === 'string' && status.revision) return status.revision;
  } catch {
    // not JSON: fall back to the label
  }
  return pod.labels['istio.io/rev'] || 'default';
}

/** The control plane rules once over every proxy read. */
async function controlPlaneChecks(source: EvidenceSource, ctx: MeshContext, perProxy: ProxyResult[], step: StepRecorder): Promise<RuleRun> {
  const istiods = istiodInstances(ctx.resources);
  const syncs = await Promise.all(istiods.map((i) => readSync(source, i)));
  for (const s of syncs) step.note(s.proxies ? `${formatRef(s.istiod)}: /debug/syncz lists ${s.proxies.length} proxies` : `${formatRef(s.istiod)}: /debug/syncz not read: ${s.why}`);
  step.note(istiods.length ? istiods.map((i) => `${formatRef(i.ref)} ${i.version ?? '?'} (revision ${i.revision})`).join('; ') : 'no istiod pod among the resources');
  const proxies = perProxy.filter((r) => !r.unreadable).map((r) => ({
    pod: r.pod, ref: { kind: 'Pod', ...r.certs.pod }, revision: r.revision, ...(r.istio ? { version: r.istio } : {}),
  }));
  return runRules(CONTROL_PLANE_RULES, controlPlaneEvidence({ istiods, proxies, syncs }));
}

/** One istiod's view of its proxies (live: kubectl exec; offline: the snapshot's recorded command), or why not. */
async function readSync(source: EvidenceSource, istiod: IstiodInstance): Promise<IstiodSync> {
  const ref = { namespace: istiod.ref.namespace ?? 'istio-system', name: istiod.ref.name };
  const command = `kubectl exec ${ref.name} -n ${ref.namespace} -c ${istiod.container} -- ${SYNCZ_COMMAND.join(' ')}`;
  try {
    const r = await source.run(ref, istiod.container, SYNCZ_COMMAND);
    if (!r) return { istiod: istiod.ref, source: command, why: `${source.label} recorded no /debug/syncz of ${formatRef(istiod.ref)}` };
    if (r.exitCode !== 0) return { istiod: istiod.ref, source: r.source, why: `${command} exited ${r.exitCode}: ${r.stderr.trim().split('\n')[0] ?? ''}` };
    return { istiod: istiod.ref, source: r.source, ...(r.file ? { file: r.file } : {}), proxies: parseSyncz(r.text, `/debug/syncz of ${formatRef(istiod.ref)}`) };
  } catch (error) {
    return { istiod: istiod.ref, source: command, why: (error as Error).message.split('\n')[0] ?? '' };
  }
}

/** Egress: who takes unmatched TLS on each TLS port, derived once for the proxy, and the hosts its access log shows blocked. */
function runEgress(read: ProxyRead, ctx: MeshContext): RuleRun {
  const ownership = new Map<number, PortOwnership>();
  if (read.dump) for (const port of ctx.ports) ownership.set(port, portOwnership(read.dump, port, ctx.resources, read.pod.ip ? { sourceIp: read.pod.ip } : {}));
  const model = proxyEvidence({
    pod: read.pod, podArg: read.podArg, resources: ctx.resources, mesh: ctx.mesh,
    ...(read.dump ? { dump: read.dump } : {}), ...(read.dumpSource ? { dumpSource: read.dumpSource } : {}), ...(read.dumpFile ? { dumpFile: read.dumpFile } : {}),
    ...(read.istioVersion ? { istioVersion: read.istioVersion } : {}), ...(read.accessLog ? { accessLog: read.accessLog } : {}), ...(read.accessLogMissing ? { accessLogMissing: read.accessLogMissing } : {}),
    staticFindings: staticsFor(ctx, read.istioVersion).findings,
    ...(read.dumpMissing ? { dumpMissing: read.dumpMissing } : {}),
  });
  return runRules([...UNMATCHED_TLS_RULES, ...BLOCKED_HOST_RULES], model, { ownership });
}

/** Inbound: the rules for each port a Service sends to the pod (else its container ports), one outcome per rule for the proxy. */
function runInbound(read: ProxyRead, ctx: MeshContext): RuleRun {
  const ports = read.inboundPorts;
  if (ports.length === 0) return allSkipped(INBOUND_RULES, 'no Service port or container port on this pod');
  return mergePorts(ports.map((port) => {
    const facts: InboundFacts = { pod: read.pod, port, ...(read.istioVersion ? { istioVersion: read.istioVersion.raw } : {}) };
    if (read.dump && port.appPort !== undefined) {
      facts.forwarding = { value: forwardingForPort(read.dump, port.appPort), source: `istioctl proxy-config cluster ${read.podArg} --direction inbound --port ${port.appPort} -o json`, ...(read.dumpFile ? { file: read.dumpFile } : {}) };
    }
    if (read.accessLog) facts.accessLog = { value: read.accessLog.entries as LoggedAccess[], source: read.accessLog.source, ...(read.accessLog.file ? { file: read.accessLog.file } : {}) };
    if (read.sockets) facts.sockets = read.sockets;
    return runRules(INBOUND_RULES, inboundEvidence(facts));
  }));
}

/**
 * Gateways: every request the Gateways and VirtualServices mean this gateway
 * pod to serve, followed through its config as why-404 follows one; a
 * mismatch is found before any client sends the request.
 */
function runGateways(read: ProxyRead, ctx: MeshContext): RuleRun {
  if (!read.dump || !read.dumpSource) return allSkipped(GATEWAY_RULES, read.dumpMissing ?? 'no config dump');
  if (proxyKind(read.dump) !== 'gateway') return allSkipped(GATEWAY_RULES, 'not a gateway');
  const calls = intendedRequests(read.pod, ctx.resources);
  if (!calls.length) return allSkipped(GATEWAY_RULES, 'no Gateway or VirtualService names a host this gateway serves');
  const g = { pod: read.pod, podArg: read.podArg, dump: read.dump, dumpSource: read.dumpSource, ...(read.dumpFile ? { dumpFile: read.dumpFile } : {}) };
  return onePerCulprit(mergePorts(calls.map((call) => runGatewayRules(walkGateway(g, ctx.resources, ctx.gatewayPods, call)))));
}

/** The same mismatch seen on several requests (HTTP and HTTPS) is one finding; each rule's count follows. */
function onePerCulprit(run: RuleRun): RuleRun {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  const outcomes = run.outcomes.map((o) => {
    const kept = findingsOf(run, o.rule).filter((f) => !seen.has(`${f.code} ${formatRef(f.target)}`) && Boolean(seen.add(`${f.code} ${formatRef(f.target)}`)));
    findings.push(...kept);
    return { ...o, findings: kept.length };
  });
  return { findings, outcomes };
}

/** Every rule skipped for one reason. */
function allSkipped(rules: readonly Rule<any, any>[], because: string): RuleRun {
  return { findings: [], outcomes: rules.map((r) => ({ rule: r.id, code: r.code, status: 'skipped' as const, because, findings: 0 })) };
}

/** One outcome per rule across a proxy's ports: ran where it ran on any port, its findings from every port. */
function mergePorts(runs: RuleRun[]): RuleRun {
  const findings: Finding[] = [];
  const outcomes: RuleOutcome[] = [];
  for (const outcome of runs[0].outcomes) {
    const per = runs.map((run) => ({ outcome: run.outcomes.find((o) => o.rule === outcome.rule)!, found: findingsOf(run, outcome.rule) }));
    const ran = per.filter((p) => p.outcome.status === 'ran');
    const found = ran.flatMap((p) => p.found);
    findings.push(...found);
    outcomes.push(ran.length
      ? { rule: outcome.rule, code: outcome.code, status: 'ran', findings: found.length }
      : { rule: outcome.rule, code: outcome.code, status: 'skipped', because: [...new Set(per.map((p) => p.outcome.because))].join('; '), findings: 0 });
  }
  return { findings, outcomes };
}

/** The sidecar's access log: live the last `sinceMs`, offline what the snapshot recorded; parsed, the text released. */
async function readAccessLog(source: EvidenceSource, pod: PodView, options: CheckOptions): Promise<ProxyEvidence['accessLog']> {
  const ref = { namespace: pod.namespace, name: pod.name };
  try {
    const since = source.mode === 'live' && options.sinceMs ? { sinceTime: new Date(Date.now() - options.sinceMs).toISOString() } : {};
    const log = await source.containerLog(ref, PROXY_CONTAINER, since);
    if (!log) return undefined;
    return { entries: parseAccessLog(log.text).entries, source: log.source, ...(log.file ? { file: log.file } : {}) };
  } catch {
    // A log that cannot be read is absent evidence: the rules that need it are skipped, with why.
    return undefined;
  } finally {
    source.release?.(ref, { container: PROXY_CONTAINER });
  }
}

/** The proxy's dump, parsed; the source forgets the text at once, so only this proxy's parse is alive. */
interface DumpRead { dump?: ConfigDump; source?: string; file?: string; why?: string }

async function readDump(source: EvidenceSource, pod: PodView): Promise<DumpRead> {
  const ref = { namespace: pod.namespace, name: pod.name };
  try {
    const evidence = await source.proxy(ref, 'config_dump');
    // No pod in the reason: check counts the proxies that share one (the report lists them by pod).
    if (!evidence) return { why: source.mode === 'snapshot' ? 'the snapshot holds no config dump' : 'no config dump' };
    return { dump: parseConfigDump(evidence.text, `config_dump of ${formatPod(ref)}`), source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) };
  } catch (error) {
    return { why: (error as Error).message };
  } finally {
    source.release?.(ref, 'config_dump');
  }
}

/** The mesh rules' findings depend only on the resources and the version: once per version. */
function staticsFor(ctx: MeshContext, istioVersion: ReturnType<typeof parseIstioVersion>): RuleRun {
  const key = istioVersion?.raw ?? '';
  let run = ctx.staticsByVersion.get(key);
  if (!run) {
    run = runStaticChecks(ctx.resources, { mesh: ctx.mesh, ...(istioVersion ? { istioVersion } : {}) });
    ctx.staticsByVersion.set(key, run);
  }
  return run;
}

// ---------------------------------------------------------------------------
// Grouping: one line per rule, culprits grouped by (code, target) across proxies.

function collect(selected: number, statics: RuleRun, perProxy: ProxyResult[], fleet: { certs: RuleRun; controlPlane: RuleRun }, interrupted: boolean): CheckData {
  const proxyGroup = (title: string): CheckGroup => ({ title, checks: PROXY_GROUPS.find((g) => g.group === title)!.rules.map((rule) => proxyLine(rule, perProxy)) });
  const groups: CheckGroup[] = [
    { title: 'Control plane and versions', checks: CONTROL_PLANE_RULES.map((rule) => staticLine(rule, fleet.controlPlane, podOf)) },
    proxyGroup('Config delivery'),
    { title: 'Resources', checks: STATIC_RULES.map((rule) => staticLine(rule, statics)) },
    proxyGroup('Egress'),
    proxyGroup('Inbound'),
    proxyGroup('Gateways'),
    { title: 'Certificates', checks: CERT_RULES.map((rule) => staticLine(rule, fleet.certs, podOf)) },
    { title: 'Traffic', checks: [trafficLine(perProxy)] },
  ];
  const versions = new Map<string, number>();
  for (const r of perProxy) if (r.istio) versions.set(r.istio, (versions.get(r.istio) ?? 0) + 1);
  return {
    proxies: { selected, read: perProxy.filter((r) => !r.unreadable).length, unreadable: perProxy.filter((r) => r.unreadable).map((r) => ({ pod: r.pod, why: r.unreadable! })) },
    versions: [...versions].map(([istio, proxies]) => ({ istio, proxies })),
    groups,
    ...(interrupted ? { interrupted } : {}),
  };
}

/** A rule run once (over the resources, or over every proxy's certificates); `pod` names the pod a finding is about, if any. */
function staticLine(rule: Rule<any, any>, run: RuleRun, pod: (finding: Finding) => string | undefined = () => undefined): CheckLine {
  const outcome = run.outcomes.find((o) => o.rule === rule.id);
  return line(rule, outcome?.status === 'skipped' ? outcome.because : undefined, culpritsOf(findingsOf(run, rule.id).map((finding) => ({ finding, pod: pod(finding) }))));
}

/** A certificate finding's pod (`name.namespace`), to count and name the pods affected. */
function podOf(finding: Finding): string | undefined {
  return finding.target.kind === 'Pod' && finding.target.namespace ? formatPod({ namespace: finding.target.namespace, name: finding.target.name }) : undefined;
}

function proxyLine(rule: Rule<ProxyEvidence, any>, perProxy: ProxyResult[]): CheckLine {
  let ran = 0;
  const reasons = new Map<string, number>();
  const seen: Array<{ finding: Finding; pod: string }> = [];
  for (const r of perProxy) {
    const outcome = r.outcomes.find((o) => o.rule === rule.id);
    if (outcome?.status === 'ran') ran++;
    else if (outcome?.because) reasons.set(outcome.because, (reasons.get(outcome.because) ?? 0) + 1);
  }
  for (const r of perProxy) for (const finding of findingsOf(r, rule.id)) seen.push({ finding, pod: r.pod });
  const skipped = perProxy.length - ran;
  const because = perProxy.length === 0
    ? 'no sidecar pod was selected'
    : skipped ? countedReasons(reasons, perProxy.length) : undefined;
  const result = line(rule, ran === 0 ? because : undefined, culpritsOf(seen));
  return { ...result, proxies: { ran, skipped }, ...(ran > 0 && because ? { because: `skipped on ${because}` } : {}) };
}

function line(rule: Rule<any, any>, skippedBecause: string | undefined, culprits: CheckCulprit[]): CheckLine {
  const status: CheckStatus = skippedBecause !== undefined ? 'skipped'
    : culprits.some((c) => c.severity === 'error') ? 'error'
      : culprits.length ? 'warning' : 'passed';
  return { rule: rule.id, code: rule.code, title: catalogEntry(rule.code as FindingCode).title, status, ...(skippedBecause !== undefined ? { because: skippedBecause } : {}), culprits };
}

const MAX_NAMED_PODS = 3;

function culpritsOf(seen: Array<{ finding: Finding; pod?: string }>): CheckCulprit[] {
  const byKey = new Map<string, { finding: Finding; pods: string[] }>();
  for (const { finding, pod } of seen) {
    const key = `${finding.code} ${formatRef(finding.target)}`;
    const entry = byKey.get(key) ?? { finding, pods: [] };
    if (pod && !entry.pods.includes(pod)) entry.pods.push(pod);
    byKey.set(key, entry);
  }
  return [...byKey.values()].map(({ finding, pods }) => ({
    code: finding.code,
    severity: finding.severity,
    target: formatRef(finding.target),
    message: finding.message,
    pods: { count: pods.length, names: pods.slice(0, MAX_NAMED_PODS) },
    ...(evidenceLine(finding) ? { evidence: evidenceLine(finding) } : {}),
    next: digDeeper(finding, pods[0]),
  }));
}

const EVIDENCE_WIDTH = 140;

/**
 * The first evidence item on one line: a table's rows without its header
 * (istioctl's); for a resource's YAML, the note that says what in it matters,
 * else the YAML in flow style; a log's lines as they are; then where it is from.
 */
function evidenceLine(finding: Finding): string | undefined {
  const item = finding.evidence[0];
  if (!item) return undefined;
  const text = oneLine(item.excerpt, item.note);
  if (!text) return undefined;
  return `${truncated(text, EVIDENCE_WIDTH)}   (${item.file ?? item.source})`;
}

function oneLine(excerpt: string, note: string | undefined): string {
  const lines = excerpt.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  // istioctl's tables start with an upper-case header line.
  if (/^[A-Z][A-Z ]+$/.test(lines[0]?.replace(/\s+/g, ' ') ?? '')) return lines.slice(1).map((l) => l.replace(/\s{2,}/g, ' ')).join(' ');
  try {
    const value: unknown = parseYaml(excerpt);
    if (value && typeof value === 'object') return note ?? toYaml(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  } catch {
    // Not YAML (a log line): the lines as they are.
  }
  return lines.join(' ');
}

const PORT_OWNERSHIP_CODES = new Set(['MD1001', 'MD1002', 'MD1003', 'MD2002']);
const INBOUND_CODES = new Set(['MD4001', 'MD4003', 'MD4004']);

/** The mesh-doctor command that explains one affected pod in full; for a static finding, its documentation. */
function digDeeper(finding: Finding, pod: string | undefined): string {
  // The port-ownership findings name the port in their istioctl command; who-owns-443 shows every chain on it.
  const port = /--port (\d+)/.exec(finding.remediation.command ?? '')?.[1];
  if (port && PORT_OWNERSHIP_CODES.has(finding.code)) return `kubectl mesh-doctor who-owns-443 ${pod ?? '-A'} --port ${port}`;
  // A blocked host: the request followed through the pod's sidecar (why-502 for HTTP, why-https-fails for TLS).
  const blocked = finding.code === 'MD2001' && pod ? /outbound\|(\d+)\|\|([^'\s]+)/.exec(finding.remediation.command ?? '') : undefined;
  if (blocked) return blocked[1] === '80' ? `kubectl mesh-doctor why-502 ${pod} --host ${blocked[2]}` : `kubectl mesh-doctor why-https-fails ${pod} --host ${blocked[2]} --port ${blocked[1]}`;
  if (pod && INBOUND_CODES.has(finding.code)) return `kubectl mesh-doctor why-inbound-fails ${pod}`;
  // A certificate: the pod's certificates in full, or every proxy's when the finding is not about one pod.
  if (/^MD500[1-4]$/.test(finding.code)) return `kubectl mesh-doctor certs ${pod ?? '-A'}`;
  // A gateway mismatch: why-404 follows the request the finding names through the gateway.
  const url = /^MD80/.test(finding.code) && pod ? /\b(https?):\/\/([^/\s:]+)(?::(\d+))?(\/[^\s,;)]*)?/.exec(finding.message) : undefined;
  if (url) return `kubectl mesh-doctor why-404 ${pod} --host ${url[2]}${url[4] && url[4] !== '/' ? ` --path ${url[4]}` : ''}${url[3] ? ` --port ${url[3]}` : ''}${url[1] === 'https' ? ' --https' : ''}`;
  // A TLS contradiction: why-503 from any sidecar client shows the failing request it causes.
  const destination = finding.code === 'MD1006' ? / to (\S+?):(\d+) \(tls /.exec(finding.message) : undefined;
  if (destination) return `kubectl mesh-doctor why-503 <client pod> --to ${destination[1]}:${destination[2]}`;
  return finding.remediation.command ?? finding.docs;
}

/** Findings for the report: one per culprit, saying in how many pods it was seen. */
function reportedFindings(data: CheckData, statics: readonly Finding[], perProxy: ProxyResult[]): Finding[] {
  const all = [...statics, ...perProxy.flatMap((r) => r.findings)];
  const out: Finding[] = [];
  for (const c of data.groups.flatMap((g) => g.checks).flatMap((l) => l.culprits)) {
    const first = all.find((f) => f.code === c.code && formatRef(f.target) === c.target);
    if (!first || out.some((f) => f.code === c.code && formatRef(f.target) === c.target)) continue;
    out.push(c.pods.count > 1 ? { ...first, message: `${first.message} Seen in ${c.pods.count} pods.` } : first);
  }
  return out;
}

/** A check this version does not run yet: a skipped line that says so, never a pass. */

function checkReport(guide: Guide, source: EvidenceSource, options: CheckOptions, data: CheckData): Report<CheckData> {
  const lines = data.groups.flatMap((g) => g.checks);
  const failed = lines.filter((l) => l.status === 'error').length;
  const warned = lines.filter((l) => l.status === 'warning').length;
  const skipped = lines.filter((l) => l.status === 'skipped').length;
  // A proxy whose dump could not be read had its per-proxy checks skipped for want of evidence:
  // not "checked and healthy" (exit 0), but inconclusive (exit 4), as every diagnosis says it.
  const unread = data.proxies.unreadable.length;
  const status: VerdictStatus = failed ? 'problem' : data.interrupted || unread ? 'inconclusive' : 'healthy';
  const counts = `${lines.length - skipped} checks ran on ${data.proxies.read} of ${data.proxies.selected} proxies: ${failed} failed, ${warned} warned, ${skipped} skipped`;
  const culprits = lines.filter((l) => l.status === 'error').flatMap((l) => l.culprits.filter((c) => c.severity === 'error'));
  const summary = data.interrupted
    ? `Interrupted after ${data.proxies.read + data.proxies.unreadable.length} of ${data.proxies.selected} proxies; ${counts}.`
    : failed
      ? `${counts}. Culprit${culprits.length > 1 ? 's' : ''}: ${[...new Set(culprits.map((c) => c.target))].join(', ')}.`
      : unread
        ? `${counts}; no errors, but ${unread} of ${data.proxies.selected} proxies could not be read (${data.proxies.unreadable[0]!.why}${unread > 1 ? ', …' : ''}), so their checks did not run.`
        : `${counts}; no errors.`;
  return buildReport({
    command: 'check',
    subject: options.allNamespaces ? 'every namespace' : `namespace ${options.namespace ?? source.defaultNamespace}`,
    source,
    versions: data.versions[0] ? { istio: data.versions[0].istio } : undefined,
    transcript: guide,
    verdict: { status, summary },
    data,
  });
}
