/**
 * why-503: a client sidecar's 503s to a destination, explained from both
 * sides (incident 5 of shared/incidents.md, generalised).
 *
 *   1. the destination: Service (or ServiceEntry) and port, the server pods behind it
 *   2. client: access-log lines for the destination, flags and details decoded
 *   3. client: its cluster (TLS mode, circuit breakers, outlier detection) and the DestinationRule behind it
 *   4. client: per-host health and counters (/clusters), stats (saying when Istio's stats matcher dropped one)
 *   5. server: the inbound listener's demands and the effective PeerAuthentication; listening sockets
 *   6. capture (live, not --read-only, when asked): loggers raised, failure waited for or reproduced, every logger restored
 *   7. server (and client) Envoy logs
 *   8. correlation of the two sides, the rules, the verdict
 *
 * Fetching happens here, inside steps (each piece once, through the source);
 * the rules in src/rules/upstream/ are pure.
 */
import { requireDumpProxyKind } from '../sources/pod-argument.js';
import { inboundIdleTimeout } from '../model/envoy/inbound-idle.js';
import { captureWithRaisedLevels, describeRestore, waitUnlessInterrupted, type CaptureResult } from '../capture/capture-window.js';
import type { EnvoyAdmin } from '../capture/log-levels.js';
import { shellWords, ShellWordsError } from '../capture/shell-words.js';
import { MeshDoctorError, usageError } from '../errors.js';
import type { Finding } from '../findings/finding.js';
import type { ConfigDump } from '../model/envoy/config-dump.js';
import { parseIstioClusterName } from '../model/envoy/clusters.js';
import type { EnvoyLogLevel } from '../model/envoy-logging.js';
import { destinationRuleFor, type DestinationRuleLookup } from '../model/istio/destination-rule.js';
import { meshConfigFrom, type MeshConfigView } from '../model/istio/mesh-config.js';
import { resolveTargetPort, servicesSelecting } from '../model/istio/services.js';
import type { IstioVersion } from '../model/istio/version-behaviour.js';
import type { MeshVersion } from '../model/mesh-version.js';
import { meshVersionOf } from './mesh-version.js';
import { appContainers, serviceAccountOf, type PodView } from '../model/k8s/pods.js';
import type { ResourceSet } from '../model/k8s/resources.js';
import { parseAccessLog, type AccessLogEntry } from '../model/logs/access-log.js';
import { parseEnvoyLog, type EnvoyLogEvent } from '../model/logs/envoy-log.js';
import { decodeResponseCodeDetails, lookupResponseFlag } from '../model/logs/response-flags.js';
import { parseListeningSockets, whoListensOn } from '../model/sockets.js';
import { keepAliveFromResponse } from '../model/keep-alive-header.js';
import type { ConfigProblem } from '../model/envoy/config-state.js';
import { inboundPathCrosses, outboundPathCrosses } from '../rules/proxy/config-state.js';
import { reportConfigState } from './config-state.js';
import { buildReport, reportVersions, type Report } from '../report/report.js';
import { parseAdminClusters } from '../model/envoy/admin-clusters.js';
import { clusterStat, parseEnvoyStats } from '../model/envoy/admin-stats.js';
import { clientTls, describeTransport } from '../rules/upstream/client-tls.js';
import { entryIsFor, isProblem, podsBehind, resolveDestination, type Destination } from '../rules/upstream/destination.js';
import type { ClientEvidence, Numbered, ServerEvidence, UpstreamEvidence } from '../rules/upstream/evidence.js';
import { UPSTREAM_RULES, runRules } from '../rules/upstream/index.js';
import { failed } from '../rules/upstream/support.js';
import { serverDemand } from '../rules/upstream/server-mtls.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';
import type { Guide, StepRecorder } from './guide.js';
import { readConfigDump, readProxyCertificates } from './read-dump.js';
import { summarizeHandshakes, type HandshakeSummary } from '../rules/mtls/handshake.js';
import { healthUnchecked, NO_CLIENT_DUMP, upstreamConfidence } from '../rules/upstream/partial-evidence.js';

export interface Why503Options {
  /** why-mtls-fails runs this diagnosis and words its verdict about the handshake. */
  command?: 'why-503' | 'why-mtls-fails';
  client: PodRef;
  to?: string;
  serverPod?: PodRef;
  readOnly: boolean;
  /** The server app's keep-alive timeout as the user states it (--app-keepalive). */
  appKeepAliveMs?: number;
  /** Ask the server's app directly (curl from its pod's istio-proxy container) for its keep-alive. */
  probe?: boolean;
  capture: {
    forMs?: number;
    reproduce?: string;
    container?: string;
    level: EnvoyLogLevel;
    loggers: string[];
  };
  kubeContext?: string;
  kubeconfig?: string;
  /** Where announcements go (stderr): told before any level changes. */
  announce: (message: string) => void;
}

export interface Why503Data {
  destination: { input: string; host: string; port?: number; cluster?: string; subset?: string; service?: string };
  client: {
    pod: string;
    requests: { total: number; failed: number; flags: Record<string, number> };
    tls?: { transport: string; sends: string; basis: string; configMode?: string; destinationRule?: string; ruleTlsMode?: string; autoMtls: boolean; because: string; disagreement?: string };
  };
  servers: Array<{ pod: string; port?: number; requires?: string; peerAuthentication?: string; basis?: string }>;
  /** Each Istio mTLS handshake judged from both sides' certificates (src/rules/mtls). */
  handshakes: HandshakeSummary[];
  /** The app's keep-alive the keep-alive race (MD3009) compared with: stated (--app-keepalive) or announced by the app (--probe). */
  appKeepAlive?: UpstreamEvidence['appKeepAlive'];
  correlations: Array<{ client: string; server: string; serverPod: string; via: string; explanation: string }>;
  capture?: { status: 'skipped' | 'done' | 'failed'; reason?: string; since?: string; level?: string; loggers?: string[]; restores?: string[]; reproduce?: { command?: string | undefined; exitCode?: number | undefined; output?: string | undefined } };
  rules: Array<{ rule: string; code: string; status: string; because?: string; findings: number }>;
}

const LOG_TAIL = 5000;
const MAX_SERVERS = 3;

function isAdmin(source: EvidenceSource): source is EvidenceSource & EnvoyAdmin {
  return typeof (source as Partial<EnvoyAdmin>).admin === 'function';
}

function dedupe<T extends { raw: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(i.raw) ? false : (seen.add(i.raw), true)));
}

function flagCounts(entries: AccessLogEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) {
    const key = `${e.responseCode ?? '-'} ${e.responseFlags.join(',') || '-'}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function explainEntry(e: AccessLogEntry): string {
  const flags = e.responseFlags.map((f) => `${f} (${lookupResponseFlag(f)?.meaning ?? 'unknown flag'})`).join(', ');
  const details = e.responseCodeDetails ? decodeResponseCodeDetails(e.responseCodeDetails) : undefined;
  const transport = details?.transportFailure?.meaning ?? (e.upstreamTransportFailureReason ? `transport failure: ${e.upstreamTransportFailureReason}` : '');
  return `${e.responseCode ?? '-'} ${flags || '-'}${details?.info ? `; ${details.name}: ${details.info.meaning}` : ''}${transport ? `; ${transport}` : ''}`;
}

export async function diagnoseWhy503(source: EvidenceSource, guide: Guide, options: Why503Options): Promise<Report<Why503Data>> {
  const resources = await source.resources();
  const mesh = meshConfigFrom(resources);
  const clientPod = await source.pod(options.client);
  const { destination, servers: serverPods } = await guide.step('Destination: the Service and the server pods behind it', (step) => findDestination(source, options, resources, step));
  const at = `${destination.host}${destination.port ? `:${destination.port}` : ''}`;
  const run: Why503Run = { source, guide, options, resources, mesh, clientPod, destination, serverPods, client: { pod: options.client, labels: clientPod.labels }, clientLogText: '', servers: [], configProblems: [] };
  await guide.step(`Client ${formatPod(options.client)}: access-log lines for ${at}`, (step) => readClientAccessLog(run, step));
  // The subset the failing requests went to (outbound|8000|v2|host).
  run.subset = (run.client.accessLog?.entries ?? []).map((x) => (x.upstreamCluster ? parseIstioClusterName(x.upstreamCluster)?.subset : undefined)).find((s) => s) || undefined;
  const lookup = destinationRuleFor(destination.host, { namespace: options.client.namespace, labels: clientPod.labels }, resources, { mesh });
  await guide.step(`Client ${formatPod(options.client)}: its cluster for the destination and the DestinationRule behind it`, (step) => readClientCluster(run, lookup, step));
  await guide.step(`Client ${formatPod(options.client)}: per-host health and counters, stats`, (step) => readClientHealth(run, step));
  await guide.step('Server side: what the inbound listener demands, the effective PeerAuthentication, listening sockets', (step) => readServerDemands(run, step));
  if (options.probe) await guide.step("Probe: the server app's own keep-alive, asked from inside its pod", (step) => probeAppKeepAlive(run, step));
  const capture = await runCapture(source, guide, options, serverPods.filter((p) => p.hasSidecar).map((p) => ({ namespace: p.namespace, name: p.name })), clientPod);
  await guide.step('Envoy logs: the server\'s TLS errors, rejected connections and inbound access log; the client\'s captured lines', (step) => readEnvoyLogs(run, capture, step));
  const evidence: UpstreamEvidence = {
    client: run.client,
    destination,
    ...(run.subset ? { subset: run.subset } : {}),
    servers: run.servers,
    resources,
    mesh,
    ...(run.istioVersion ? { istioVersion: run.istioVersion } : {}),
    ruleLookup: lookup,
    ...(options.appKeepAliveMs !== undefined ? { appKeepAlive: { ms: options.appKeepAliveMs, source: `--app-keepalive ${options.appKeepAliveMs}ms` } } : run.probedKeepAlive ? { appKeepAlive: run.probedKeepAlive } : {}),
    now: (await source.capturedAt?.()) ?? new Date(),
    captured: Boolean(capture.result),
  };
  const outcome = await guide.step('Correlate the two sides and decide', (step) => decide(guide, evidence, step));
  return why503Report(run, outcome, capture, evidence);
}

/** What the steps share: the run's inputs and the evidence gathered so far. */
interface Why503Run {
  source: EvidenceSource;
  guide: Guide;
  options: Why503Options;
  resources: ResourceSet;
  mesh: MeshConfigView;
  clientPod: PodView;
  destination: Destination;
  serverPods: PodView[];
  client: ClientEvidence;
  /** The client's istio-proxy log as read (and, after a capture, with the captured lines). */
  clientLogText: string;
  subset?: string;
  istioVersion?: IstioVersion;
  /** The run's one version decision (diagnoses/mesh-version.ts): the client proxy's, else the next source. */
  version?: MeshVersion;
  clientDump?: ConfigDump;
  servers: ServerEvidence[];
  /** The app's keep-alive from its own response (--probe). */
  probedKeepAlive?: UpstreamEvidence['appKeepAlive'];
  /** Rejected or warming config on the path, client and servers (MD7001/MD7002 reported where it was read). */
  configProblems: ConfigProblem[];
}

/** 1. The destination and the server pods behind it. */
async function findDestination(source: EvidenceSource, options: Why503Options, resources: ResourceSet, step: StepRecorder): Promise<{ destination: Destination; servers: PodView[] }> {
  let input = options.to;
  let serverPod: PodView | undefined;
  if (options.serverPod) {
    serverPod = await source.pod(options.serverPod);
    if (!input) {
      const selecting = servicesSelecting(resources, serverPod.object);
      if (selecting.length === 0) throw usageError(`no Service selects ${formatPod(options.serverPod)}`, 'Pass --to HOST:PORT as well.');
      input = `${selecting[0].name}.${selecting[0].namespace}${selecting[0].ports.length === 1 ? `:${selecting[0].ports[0].port}` : ''}`;
      if (selecting.length > 1) step.note(`${selecting.length} Services select ${formatPod(options.serverPod)}; using ${selecting[0].namespace}/${selecting[0].name} (pass --to to choose)`);
    }
  }
  if (!input) throw usageError('say where the requests go: --to HOST[:PORT] or --server-pod POD', 'e.g. `kubectl mesh-doctor why-503 sleep-7f.foo --to httpbin:8000`.');
  const resolved = resolveDestination(input, options.client.namespace, resources);
  if (isProblem(resolved)) throw resolved.notFound ? new MeshDoctorError('not-found', resolved.problem, { suggestion: resolved.suggestion }) : usageError(resolved.problem, resolved.suggestion);
  for (const note of resolved.notes) step.note(note);
  step.looked(resolved.service ? `kubectl get service ${resolved.service.name} -n ${resolved.service.namespace} -o yaml` : resolved.serviceEntry ? `kubectl get serviceentry ${resolved.serviceEntry.name} -n ${resolved.serviceEntry.namespace} -o yaml` : undefined);
  step.note(`destination ${resolved.host}${resolved.port ? `:${resolved.port}` : ''}${resolved.clusterName ? ` (cluster ${resolved.clusterName})` : ''}`);
  const pods = serverPod ? [serverPod] : podsBehind(resolved, await source.pods(resolved.service?.namespace));
  if (resolved.service) step.looked(`kubectl get pods -n ${resolved.service.namespace} -l ${Object.entries(resolved.service.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`);
  step.note(pods.length ? `server pods: ${pods.map((p) => `${formatPod(p)}${p.ip ? ` (${p.ip})` : ''}${p.hasSidecar ? '' : ' [no sidecar]'}`).join(', ')}` : 'no server pods found behind the destination');
  return { destination: resolved, servers: pods.slice(0, MAX_SERVERS) };
}

/** 2. The client's access log: its lines for the destination, the failures decoded. */
async function readClientAccessLog(run: Why503Run, step: StepRecorder): Promise<void> {
  const { source, guide, options, destination, client } = run;
  const log = await source.containerLog(options.client, 'istio-proxy', { tail: LOG_TAIL }).catch((error: Error) => {
    step.note(`log unavailable: ${error.message}`);
    return undefined;
  });
  if (!log) {
    guide.skip('client access log', `no istio-proxy log for ${formatPod(options.client)} in ${source.label}`, step);
    step.status = 'skipped';
    return;
  }
  step.looked(log);
  run.clientLogText = log.text;
  const parsed = parseAccessLog(log.text);
  const entries = parsed.entries.filter((x) => entryIsFor(destination, x));
  client.accessLog = { source: log.source, ...(log.file ? { file: log.file } : {}), entries, totalEntries: parsed.entries.length };
  const failures = entries.filter(failed);
  step.note(`${entries.length} of ${parsed.entries.length} access-log entries are for ${destination.host}; ${failures.length} failed`);
  for (const [key, n] of Object.entries(flagCounts(failures))) step.note(`  ${n} x ${key}`);
  if (failures[0]) step.note(`first failure, decoded: ${explainEntry(failures[0])}`);
  if (!entries.length) step.note('no access-log entry for this destination: Istio may not log access (meshConfig.accessLogFile), or no request was sent since the log began');
}

/** 3. The client's cluster for the destination, the DestinationRule behind it, and what the client sends. */
async function readClientCluster(run: Why503Run, lookup: DestinationRuleLookup, step: StepRecorder): Promise<void> {
  const { source, guide, options, destination, client, resources, mesh, serverPods, subset } = run;
  const { dump, cited } = await readConfigDump(source, options.client, step);
  // The proxy's own word on its kind (a pod spec may not say): a waypoint's or gateway's listeners are not a sidecar's.
  if (dump) requireDumpProxyKind(formatPod(options.client), dump);
  run.clientDump = dump;
  await readCertificatesOf(run, options.client, { dump, cited }, (certs) => { client.certs = certs; }, step);
  run.version = await meshVersionOf(source, { ...(dump ? { dump } : {}), pod: run.clientPod, resources }, step);
  run.istioVersion = run.version.istio;
  if (!run.istioVersion) step.note('behaviour that changed across versions is assumed to be current (auto mTLS on)');
  const base = destination.clusterName;
  const name = base && subset ? base.replace('||', `|${subset}|`) : base;
  // A subset the sidecar has no cluster for: its TLS settings are the host's, but its endpoints are unknown.
  const exact = dump && name ? dump.cluster(name) : undefined;
  if (dump && cited) {
    run.configProblems.push(...reportConfigState(guide, step, {
      pod: { ...options.client, labels: run.clientPod.labels }, dump, dumpProvenance: cited, resources, rootNamespace: mesh.rootNamespace,
      path: { crosses: outboundPathCrosses(destination.port ?? 0, [name, base].filter((x): x is string => Boolean(x))), text: `${formatPod(options.client)}'s requests to ${destination.host}` },
    }));
  }
  if (dump && name && !exact && name !== base) step.note(`the client has no cluster ${name}: the subset is missing from its config (a DestinationRule subset it cannot see, or one selecting nothing)`);
  const cluster = exact ?? (dump && base ? dump.cluster(base) : undefined);
  const endpoints = dump && exact ? dump.endpoints.find((c) => c.clusterName === exact.name)?.endpoints ?? [] : undefined;
  const edsKnown = Boolean(exact && dump?.has('EndpointsConfigDump'));
  if (dump && cited) {
    if (cluster) {
      client.cluster = { ...cited, cluster, ...(endpoints ? { endpoints } : {}), edsKnown };
      step.looked(`istioctl proxy-config cluster ${formatPod(options.client)} --fqdn ${destination.host}${destination.port ? ` --port ${destination.port}` : ''} -o json`);
      step.note(`cluster ${cluster.name}: TLS ${cluster.tlsMode}`);
      const cb = cluster.circuitBreakers[0];
      if (cb) step.note(`circuit breakers: max_connections ${cb.maxConnections ?? '-'}, max_pending_requests ${cb.maxPendingRequests ?? '-'}, max_requests ${cb.maxRequests ?? '-'}${cluster.maxRequestsPerConnection !== undefined ? `, max_requests_per_connection ${cluster.maxRequestsPerConnection}` : ''}`);
      const od = cluster.outlierDetection;
      step.note(od ? `outlier detection: consecutive_5xx ${od.consecutive5xx ?? '(default 5)'}, interval ${od.intervalSeconds ?? '-'}s, base_ejection_time ${od.baseEjectionTimeSeconds ?? '-'}s, max_ejection_percent ${od.maxEjectionPercent ?? '(default 10)'}` : 'outlier detection: none');
      if (edsKnown) step.note(`endpoints: ${endpoints?.length ? endpoints.map((x) => `${x.address.address}:${x.address.port} ${x.healthStatus}${x.tlsMode ? ` tlsMode=${x.tlsMode}` : ''}`).join(', ') : 'none'}`);
      const dr = cluster.destinationRule;
      step.note(dr ? `shaped by DestinationRule ${dr.namespace}/${dr.name} (cluster metadata istio.config)` : 'the cluster names no DestinationRule in its metadata');
    } else {
      step.note(`the client has no cluster ${name ?? destination.host}${name ? '' : ' (port unknown)'}`);
    }
  } else {
    guide.skip('client cluster', `no config dump for ${formatPod(options.client)}; the TLS mode is predicted from the resources only`, step);
  }
  step.looked(lookup.rule ? `kubectl get destinationrule ${lookup.rule.name} -n ${lookup.rule.namespace} -o yaml` : 'kubectl get destinationrules -A');
  step.note(lookup.because);
  const endpointIsIstio = endpoints?.length ? endpoints.some((x) => x.tlsMode === 'istio') : serverPods.some((p) => p.hasSidecar);
  client.tls = clientTls({ cluster, endpointIsIstio, lookup, resources, mesh, istioVersion: run.istioVersion, port: destination.port, subset });
  step.note(`the client sends ${describeTransport(client.tls.transport)} (${client.tls.basis === 'config' ? 'from its Envoy cluster' : 'predicted from the resources'}): ${client.tls.because}`);
  if (client.tls.disagreement) step.note(`note: ${client.tls.disagreement}`);
}

/** A sidecar's certificates (the identity it presents, the roots it trusts), noted in the step; absent ones are said. */
async function readCertificatesOf(run: Why503Run, pod: PodRef, read: { dump?: ConfigDump; cited?: { source: string; file?: string } }, keep: (certs: NonNullable<ClientEvidence['certs']>) => void, step: StepRecorder): Promise<void> {
  const certs = await readProxyCertificates(run.source, pod, read);
  const leaf = certs?.certs.chain[0];
  if (!certs || !leaf) {
    step.note(`${formatPod(pod)}'s certificates: not read (no SDS secrets in its config dump, no /certs)`);
    return;
  }
  keep(certs);
  step.note(`${formatPod(pod)} presents ${leaf.spiffe?.uri ?? (leaf.subject || `serial ${leaf.serial}`)} (valid until ${leaf.notAfter.toISOString()}), trusts ${certs.certs.roots.length} root${certs.certs.roots.length === 1 ? '' : 's'}`);
}

/** 4. /clusters (per-host health and counters) and stats. */
async function readClientHealth(run: Why503Run, step: StepRecorder): Promise<void> {
  const { source, guide, options, destination, client } = run;
  const clusterName = client.cluster?.cluster.name ?? destination.clusterName;
  const admin = (await source.proxy(options.client, 'clusters').catch(() => undefined)) ?? (await source.proxy(options.client, 'clusters.json').catch(() => undefined));
  if (admin) {
    step.looked(admin);
    const parsed = parseAdminClusters(admin.text);
    const status = clusterName ? parsed.clusters.get(clusterName) : undefined;
    client.clusterStatus = { source: admin.source, ...(admin.file ? { file: admin.file } : {}), ...(status ? { status } : {}) };
    if (parsed.unreadable) step.note(`/clusters unreadable: ${parsed.unreadable}`);
    else if (!status) step.note(`/clusters has no ${clusterName}`);
    else {
      for (const h of status.hosts) {
        const c = h.counters;
        step.note(`${h.address}: ${h.healthy ? 'healthy' : h.healthFlags.join(',')}; cx_connect_fail ${c.cx_connect_fail ?? 0}, rq_error ${c.rq_error ?? 0}, rq_total ${c.rq_total ?? 0}`);
      }
      if (!status.hosts.length) step.note(`${clusterName}: no hosts`);
    }
  } else {
    guide.skip('per-host health', `no /clusters output for ${formatPod(options.client)} in ${source.label}`, step);
  }
  const stats = await source.proxy(options.client, 'stats').catch(() => undefined);
  if (stats) {
    step.looked(stats);
    const parsed = parseEnvoyStats(stats.text);
    client.stats = { source: stats.source, ...(stats.file ? { file: stats.file } : {}), stats: parsed };
    if (clusterName) {
      const wanted = ['upstream_rq_pending_overflow', 'upstream_cx_overflow', 'upstream_cx_connect_fail'].map((stat) => ({ stat, ...clusterStat(parsed, clusterName, stat) }));
      for (const s of wanted.filter((x) => x.value !== undefined)) step.note(`${s.stat}: ${s.value}`);
      const missing = wanted.filter((x) => x.value === undefined);
      // One reason for all the absent stats when it is the same (Istio's stats matcher, usually).
      for (const reason of new Set(missing.map((x) => x.missing))) {
        step.note(`${missing.filter((x) => x.missing === reason).map((x) => x.stat).join(', ')}: ${reason}`);
      }
    }
  } else {
    guide.skip('client stats', `no stats for ${formatPod(options.client)} in ${source.label}`, step);
  }
}

/** 5. The server side: what each server's inbound listener demands, and what listens on the port. */
async function readServerDemands(run: Why503Run, step: StepRecorder): Promise<void> {
  const { source, guide, destination, resources, mesh, serverPods } = run;
  if (!serverPods.length) {
    guide.skip('server side', 'no server pod behind the destination', step);
    step.status = 'skipped';
    return;
  }
  for (const pod of serverPods) {
    const ref = { namespace: pod.namespace, name: pod.name };
    const port = destination.servicePort ? resolveTargetPort(destination.servicePort, pod.object).port : destination.port;
    const server: ServerEvidence = { pod: ref, ...(pod.ip ? { ip: pod.ip } : {}), labels: pod.labels, hasSidecar: pod.hasSidecar, ...(port !== undefined ? { port } : {}) };
    if (pod.hasSidecar && port !== undefined) {
      const { dump, cited } = await readConfigDump(source, ref, step);
      if (dump && cited) {
        run.configProblems.push(...reportConfigState(guide, step, {
          pod: { ...ref, labels: pod.labels }, dump, dumpProvenance: cited, resources, rootNamespace: mesh.rootNamespace,
          path: { crosses: inboundPathCrosses([port]), text: `requests from ${formatPod(run.options.client)} into ${formatPod(ref)}` },
        }));
      }
      server.serviceAccount = serviceAccountOf(pod.object);
      await readCertificatesOf(run, ref, { dump, cited }, (certs) => { server.certs = certs; }, step);
      const demand = serverDemand({ dump, port, podIp: pod.ip, workload: { namespace: pod.namespace, labels: pod.labels }, resources, mesh });
      server.demand = { ...demand, ...(cited ? { cited } : {}) };
      const inboundIdle = dump && cited ? inboundIdleTimeout(dump, port) : undefined;
      if (inboundIdle && cited?.source) server.inboundIdle = { ...cited, source: cited.source, ...inboundIdle };
      // The client's proxy did not say: a server proxy's own version is the next best (same mesh).
      if (run.version?.source !== 'proxy' && dump?.versions?.istio) {
        run.version = await meshVersionOf(source, { dump, pod, resources });
        run.istioVersion = run.version.istio;
      }
      step.looked(`istioctl proxy-config listeners ${formatPod(ref)} --port ${port}`);
      if (demand.mtls.decidedBy) step.looked(`kubectl get ${demand.mtls.decidedBy.kind.toLowerCase()} ${demand.mtls.decidedBy.name}${demand.mtls.decidedBy.namespace ? ` -n ${demand.mtls.decidedBy.namespace}` : ''} -o yaml`);
      step.note(`${formatPod(ref)} port ${port}: ${demand.requires === 'mtls' ? 'requires mTLS' : demand.requires === 'tls' ? 'requires TLS' : demand.requires === 'plaintext-accepted' ? 'accepts plaintext' : 'unknown'} — ${demand.because}`);
    } else if (!pod.hasSidecar) {
      step.note(`${formatPod(ref)} has no sidecar: it accepts whatever its app accepts`);
    }
    const netstat = await source.proxy(ref, 'netstat').catch(() => undefined);
    if (netstat && port !== undefined) {
      try {
        const listeners = whoListensOn(parseListeningSockets(netstat.text, `sockets of ${formatPod(ref)}`), port, { podIp: pod.ip });
        server.sockets = { source: netstat.source, ...(netstat.file ? { file: netstat.file } : {}), listeners };
        step.looked(netstat);
        step.note(`port ${port} in ${formatPod(ref)}: ${listeners.sockets.length ? listeners.sockets.map((s) => `${s.address}:${s.port}`).join(', ') : 'nothing listening'}${listeners.loopbackOnly ? ' (localhost only)' : ''}`);
      } catch (error) {
        step.note(`sockets of ${formatPod(ref)} unreadable: ${(error as Error).message}`);
      }
    }
    run.servers.push(server);
  }
}

/**
 * 6a. --probe: one GET to the server's app from its own istio-proxy container
 * (uid 1337 is not redirected, so it reaches the app directly on localhost),
 * reading the keep-alive the app announces (`Keep-Alive: timeout=N`, what
 * Node's http server sends) for the keep-alive race (MD3009). `Connection:
 * close` means the app never keeps a connection: nothing to race.
 */
async function probeAppKeepAlive(run: Why503Run, step: StepRecorder): Promise<void> {
  const server = run.servers.find((s) => s.hasSidecar && s.port !== undefined);
  if (!server) {
    run.guide.skip('probe', 'no server pod with a sidecar and a known port', step);
    step.status = 'skipped';
    return;
  }
  const path = run.client.accessLog?.entries.find((x) => x.path)?.path ?? '/';
  const argv = ['curl', '-sv', '-o', '/dev/null', '--max-time', '5', `http://localhost:${server.port}${path}`];
  const result = await run.source.run(server.pod, 'istio-proxy', argv).catch((error: Error) => {
    step.note(`probe failed: ${error.message}`);
    return undefined;
  });
  if (!result) {
    run.guide.skip('probe', run.source.mode === 'live' ? `could not run curl in ${formatPod(server.pod)}'s istio-proxy container` : `${run.source.label} has no recorded probe of ${formatPod(server.pod)}`, step);
    step.status = 'skipped';
    return;
  }
  step.looked(result);
  const keepAlive = keepAliveFromResponse(`${result.text}\n${result.stderr}`);
  if (!keepAlive) step.note(`the app's response on port ${server.port} names no keep-alive (no Keep-Alive or Connection header): state it with --app-keepalive`);
  else if (keepAlive.ms === 0) step.note(`the app answers ${keepAlive.header}: it closes every connection after one response, so no idle connection can race its close`);
  else {
    step.note(`the app announces ${keepAlive.header}: it closes idle connections after ${keepAlive.ms / 1000}s`);
    run.probedKeepAlive = { ms: keepAlive.ms, source: result.source, ...(result.file ? { file: result.file } : {}), excerpt: `< ${keepAlive.header}` };
  }
}

/** 7. Envoy logs of both sides (captured lines added when a capture ran). */
async function readEnvoyLogs(run: Why503Run, capture: CaptureOutcome, step: StepRecorder): Promise<void> {
  const { source, guide, options, destination, client } = run;
  for (const server of run.servers) {
    if (!server.hasSidecar) continue;
    const log = await source.containerLog(server.pod, 'istio-proxy', { tail: LOG_TAIL }).catch((error: Error) => {
      step.note(`log of ${formatPod(server.pod)} unavailable: ${error.message}`);
      return undefined;
    });
    if (!log) {
      guide.skip(`server log ${formatPod(server.pod)}`, `no istio-proxy log for ${formatPod(server.pod)} in ${source.label}`, step);
      continue;
    }
    step.looked(log);
    let text = log.text;
    if (capture.result) {
      const captured = await source.containerLog(server.pod, 'istio-proxy', { sinceTime: capture.result.since }).catch(() => undefined);
      if (captured) {
        step.looked(captured);
        text += `\n${captured.text}`;
      }
    }
    const cited = { source: log.source, ...(log.file ? { file: log.file } : {}) };
    const events = dedupe(parseEnvoyLog(text).events);
    const interesting = events.filter((ev) => ev.kind !== 'other');
    server.envoyLog = { ...cited, events: interesting };
    const access = dedupe(parseAccessLog(text).entries).filter((a) => a.direction === 'inbound' || (a.responseFlags.includes('NR') && a.tcp) || (!a.upstreamCluster && a.downstreamLocalAddress?.startsWith(`${server.ip}:`)));
    server.accessLog = { ...cited, entries: access };
    const tlsErrors = interesting.filter((ev) => ev.kind === 'tls-error' || ev.kind === 'no-filter-chain');
    step.note(`${formatPod(server.pod)}: ${tlsErrors.length} TLS/filter-chain error lines, ${access.filter(failed).length} failed inbound access-log entries`);
    for (const ev of tlsErrors.slice(0, 3)) step.note(`  ${ev.kind === 'tls-error' ? `${ev.sslErrorName ?? 'TLS error'}${ev.remoteAddress ? ` from ${ev.remoteAddress}` : ''}${ev.connectionId ? ` [C${ev.connectionId}]` : ''}` : `no matching filter chain${ev.remoteAddress ? ` from ${ev.remoteAddress}` : ''}`}`);
    if (!tlsErrors.length && !capture.result) step.note('  (at Istio\'s default level, warning, the server logs nothing about failed handshakes; --reproduce or --capture-for raises the connection logger)');
  }
  if (capture.result && client.accessLog) {
    const captured = await source.containerLog(options.client, 'istio-proxy', { sinceTime: capture.result.since }).catch(() => undefined);
    if (captured) {
      step.looked(captured);
      const more = parseAccessLog(captured.text).entries.filter((x) => entryIsFor(destination, x));
      const offset = run.clientLogText.split('\n').length;
      const merged = dedupe([...client.accessLog.entries, ...more.map((x) => ({ ...x, lineNumber: x.lineNumber + offset }))]);
      step.note(`${merged.length - client.accessLog.entries.length} new client access-log entries for ${destination.host} during the capture`);
      client.accessLog.entries = merged;
      run.clientLogText += `\n${captured.text}`;
    }
  }
  const clientEvents = parseEnvoyLog(run.clientLogText).events.filter((ev): ev is Numbered<EnvoyLogEvent> => ev.kind === 'tls-error' || ev.kind === 'upstream-reset');
  if (clientEvents.length && client.accessLog) client.envoyLog = { source: client.accessLog.source, ...(client.accessLog.file ? { file: client.accessLog.file } : {}), events: clientEvents };
}

/** 8. Correlate the two sides and run the rules; skipped rules and findings go into the transcript. */
async function decide(guide: Guide, evidence: UpstreamEvidence, step: StepRecorder): Promise<ReturnType<typeof runRules>> {
  const run = runRules(evidence, UPSTREAM_RULES);
  for (const c of run.analysis.correlations.slice(0, 5)) {
    step.note(`client line ${c.client.lineNumber} (${c.client.responseCode} ${c.client.responseFlags.join(',') || '-'}) <-> ${formatPod(c.server.pod)} ${c.server.reason} [${c.via}: ${c.explanation}]`);
  }
  if (!run.analysis.correlations.length) step.note(run.analysis.signals.length ? `${run.analysis.signals.length} server-side signals, none matched to a client request by address or time` : 'no server-side signal to correlate with');
  for (const r of run.runs) {
    if (r.status === 'skipped') guide.skip(r.rule, r.because ?? 'evidence missing', step);
  }
  for (const f of run.findings) {
    guide.report(f, step);
    step.note(`${f.code} ${f.title}: ${f.target.kind} ${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.name}`);
  }
  return run;
}

/** The report: the verdict, and the data a script reads. */
function why503Report(run: Why503Run, outcome: ReturnType<typeof runRules>, capture: CaptureOutcome, evidence: UpstreamEvidence): Report<Why503Data> {
  const { source, guide, options, destination, client, servers, subset, clientDump } = run;
  const failures = (client.accessLog?.entries ?? []).filter(failed);
  const handshakes = summarizeHandshakes(evidence);
  const general = withConfidence(run, verdictOf(outcome.findings, failures.length, destination, options.client, capture.result !== undefined));
  const verdict = options.command === 'why-mtls-fails' ? mtlsVerdict(evidence, handshakes, general) : general;
  const data: Why503Data = {
    destination: {
      input: destination.input,
      host: destination.host,
      ...(destination.port !== undefined ? { port: destination.port } : {}),
      ...(destination.clusterName ? { cluster: subset ? destination.clusterName.replace('||', `|${subset}|`) : destination.clusterName } : {}),
      ...(subset ? { subset } : {}),
      ...(destination.service ? { service: `${destination.service.namespace}/${destination.service.name}` } : {}),
    },
    client: {
      pod: formatPod(options.client),
      requests: { total: client.accessLog?.entries.length ?? 0, failed: failures.length, flags: flagCounts(failures) },
      ...(client.tls ? {
        tls: {
          transport: client.tls.transport,
          sends: describeTransport(client.tls.transport),
          basis: client.tls.basis,
          ...(client.tls.configMode ? { configMode: client.tls.configMode } : {}),
          ...(client.tls.rule ? { destinationRule: `${client.tls.rule.namespace}/${client.tls.rule.name}` } : {}),
          ...(client.tls.ruleTlsMode ? { ruleTlsMode: client.tls.ruleTlsMode } : {}),
          autoMtls: client.tls.autoMtls.on,
          because: client.tls.because,
          ...(client.tls.disagreement ? { disagreement: client.tls.disagreement } : {}),
        },
      } : {}),
    },
    servers: servers.map((s) => ({
      pod: formatPod(s.pod),
      ...(s.port !== undefined ? { port: s.port } : {}),
      ...(s.demand ? { requires: s.demand.requires, basis: s.demand.basis, peerAuthentication: s.demand.mtls.because } : {}),
    })),
    handshakes,
    ...(evidence.appKeepAlive ? { appKeepAlive: evidence.appKeepAlive } : {}),
    correlations: outcome.analysis.correlations.map((c) => ({ client: c.client.raw, server: c.server.line, serverPod: formatPod(c.server.pod), via: c.via, explanation: c.explanation })),
    ...(capture.data ? { capture: capture.data } : {}),
    rules: outcome.runs.map((r) => ({ rule: r.rule, code: r.code, status: r.status, ...(r.because ? { because: r.because } : {}), findings: r.findings })),
  };
  return buildReport({
    command: options.command ?? 'why-503',
    subject: `${formatPod(options.client)} -> ${destination.host}${destination.port ? `:${destination.port}` : ''}`,
    source,
    versions: run.version ? reportVersions(run.version) : undefined,
    transcript: guide,
    verdict,
    data,
  });
}

/**
 * why-mtls-fails' verdict: a finding stands as it is; otherwise health is
 * claimed only for handshakes whose two certificates were read and judged.
 */
function mtlsVerdict(e: UpstreamEvidence, handshakes: HandshakeSummary[], general: Report['verdict']): Report['verdict'] {
  if (general.status === 'problem') return general;
  const where = `${formatPod(e.client.pod)} -> ${e.destination.host}${e.destination.port ? `:${e.destination.port}` : ''}`;
  const transport = e.client.tls?.transport;
  if (transport && transport !== 'istio-mtls') {
    return { ...general, summary: `${where} does not use Istio mTLS: the client sends ${describeTransport(transport)} (${e.client.tls!.because}); no mTLS handshake to judge. ${general.summary}` };
  }
  if (!handshakes.length) {
    const missing = !e.client.certs ? `${formatPod(e.client.pod)}'s certificates` : !e.client.cluster ? `${formatPod(e.client.pod)}'s cluster for the destination` : 'the server sidecars\' certificates';
    return { status: 'inconclusive', summary: `The mTLS handshake ${where} could not be judged: ${missing} were not read (collect the config dumps, or run live).` };
  }
  const h = handshakes[0]!;
  const roots = h.serverTrusted === undefined ? 'roots not verified (/certs carries no PEM)' : 'both chain to the root the other trusts';
  return { ...general, summary: `mTLS ${where} checks out: ${h.server} presents ${h.presents} (valid until ${h.serverValidUntil}), which the client accepts; ${roots}.${handshakes.length > 1 ? ` ${handshakes.length} server pods judged.` : ''}${general.status === 'inconclusive' ? ` ${general.summary}` : ''}` };
}

/** The verdict's confidence when a dump was missing; a healthy answer on predictions alone is inconclusive. */
function withConfidence(run: Why503Run, verdict: Report['verdict']): Report['verdict'] {
  const seen = {
    clientDump: Boolean(run.clientDump), servers: run.servers.length, serverDumps: run.servers.filter((s) => s.demand?.cited).length,
    clientAccessLog: Boolean(run.client.accessLog),
  };
  const confidence = upstreamConfidence(seen);
  if (!confidence) return verdict;
  if (verdict.status === 'healthy' && healthUnchecked(seen)) {
    const where = `${run.destination.host}${run.destination.port ? `:${run.destination.port}` : ''}`;
    return { status: 'inconclusive', summary: `Nothing found for ${formatPod(run.options.client)} -> ${where}, but without ${NO_CLIENT_DUMP} the path was not checked; collect the client's config dump.`, confidence };
  }
  return { ...verdict, confidence };
}

function verdictOf(findings: Finding[], failures: number, destination: Destination, client: PodRef, captured: boolean): Report['verdict'] {
  // Findings come in rule order, most fundamental first (MD3001 before the ejection it causes).
  const errors = findings.filter((f) => f.severity === 'error');
  const where = `${destination.host}${destination.port ? `:${destination.port}` : ''}`;
  if (errors.length) {
    const f = errors[0];
    const culprit = `${f.target.kind} ${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.name}`;
    const fix = f.remediation.text.split(/(?<=\.)\s/)[0];
    return { status: 'problem', summary: `${f.title} (${f.code}) for ${formatPod(client)} -> ${where}: culprit ${culprit}; fix: ${fix.replace(/\.$/, '')}.${errors.length > 1 ? ` ${errors.length - 1} more finding${errors.length > 2 ? 's' : ''} below.` : ''}` };
  }
  if (failures > 0) {
    return {
      status: 'inconclusive',
      summary: `${failures} failed requests from ${formatPod(client)} to ${where}, but no rule explains them${captured ? '' : '; run again with --reproduce \'curl ...\' or --capture-for 20s to capture both sidecars at debug level'}.`,
    };
  }
  const warnings = findings.filter((f) => f.severity === 'warning');
  return {
    status: 'healthy',
    summary: `Nothing in the evidence explains a 503 from ${formatPod(client)} to ${where}: the client's TLS matches what the server accepts and no failed request was logged${warnings.length ? `; ${warnings.length} warning${warnings.length > 1 ? 's' : ''} below` : ''}.`,
  };
}

interface CaptureOutcome {
  result?: CaptureResult<unknown>;
  data?: Why503Data['capture'];
}

async function runCapture(source: EvidenceSource, guide: Guide, options: Why503Options, serverRefs: PodRef[], clientPod: PodView): Promise<CaptureOutcome> {
  return guide.step('Capture: raise Envoy log levels on both sidecars, let the failure happen, restore every logger', async (step): Promise<CaptureOutcome> => {
    const skip = (reason: string): CaptureOutcome => {
      step.status = 'skipped';
      step.note(`skipped: ${reason}`);
      return { data: { status: 'skipped', reason } };
    };
    const unwanted = whyNoCapture(source, options);
    if (unwanted !== undefined) return skip(unwanted);
    if (!isAdmin(source)) return skip('this source cannot reach the Envoy admin API');
    const command = reproduceCommand(options, clientPod);
    const reproduction: Reproduction = {};
    let result: CaptureResult<void>;
    try {
      result = await captureWithRaisedLevels(source, [options.client, ...serverRefs], {
        loggers: options.capture.loggers,
        level: options.capture.level,
        context: options.kubeContext,
        kubeconfig: options.kubeconfig,
        announce: (message) => {
          options.announce(message);
          step.note(message);
        },
        during: () => letTheFailureHappen(source, options, command, reproduction, step),
      });
    } catch (error) {
      // A sidecar refused the new levels (RBAC, an old Envoy...): the ones already raised were put back;
      // the diagnosis goes on with the evidence it has.
      if (!(error instanceof MeshDoctorError) || error.kind === 'interrupted') throw error;
      step.status = 'failed';
      step.note(`capture failed: ${error.message}${error.suggestion ? ` (${error.suggestion})` : ''}; every level already raised was put back`);
      return { data: { status: 'failed', reason: error.message } };
    }
    return capturedOutcome(result, options, reproduction, step);
  });
}

/** What --reproduce ran and showed. */
interface Reproduction {
  command?: string;
  exitCode?: number;
  output?: string;
}

/** Why no capture is made on this run (offline, read-only, not asked for), or undefined. */
function whyNoCapture(source: EvidenceSource, options: Why503Options): string | undefined {
  const wanted = options.capture.reproduce !== undefined || options.capture.forMs !== undefined;
  if (source.mode === 'snapshot') return 'offline: the snapshot\'s istio-proxy.log, clusters and stats are used as captured';
  if (options.readOnly) return '--read-only forbids changing log levels (not even the read-only POST /logging is sent)';
  if (!wanted) return 'not requested: pass --reproduce \'curl -sv http://HOST:PORT/\' or --capture-for 20s to raise the connection loggers while the failure happens';
  return undefined;
}

/** --reproduce as an argument vector and the client container it runs in; a bad one is a usage error before any level is raised. */
function reproduceCommand(options: Why503Options, clientPod: PodView): { argv: string[]; container: string } | undefined {
  if (options.capture.reproduce === undefined) return undefined;
  let argv: string[];
  try {
    argv = shellWords(options.capture.reproduce);
  } catch (error) {
    if (error instanceof ShellWordsError) throw usageError(`--reproduce: ${error.message}`, 'Quote the command as one argument: --reproduce \'curl -sv http://httpbin:8000/get\'.');
    throw error;
  }
  if (!argv.length) throw usageError('--reproduce is empty', 'e.g. --reproduce \'curl -sv http://httpbin:8000/get\'.');
  const container = options.capture.container ?? appContainers(clientPod)[0];
  if (!container) throw usageError(`${formatPod(options.client)} has no app container to run --reproduce in`, 'Pass -c CONTAINER.');
  if (!clientPod.containers.includes(container)) throw usageError(`${formatPod(options.client)} has no container ${container}`, `Its containers: ${clientPod.containers.join(', ')}.`);
  return { argv, container };
}

/** While the levels are raised: run --reproduce in the client, or wait --capture-for for traffic. */
async function letTheFailureHappen(source: EvidenceSource, options: Why503Options, command: { argv: string[]; container: string } | undefined, reproduction: Reproduction, step: StepRecorder): Promise<void> {
  if (!command) {
    step.note(`waiting ${Math.round((options.capture.forMs ?? 0) / 1000)}s for traffic...`);
    await waitUnlessInterrupted(options.capture.forMs ?? 0);
    return;
  }
  const run = await source.run(options.client, command.container, command.argv);
  reproduction.command = run?.source;
  reproduction.exitCode = run?.exitCode;
  // What matters of a `curl -v`: the status line (on stderr) and the start of the body (on stdout).
  const status = (run?.stderr ?? '').split('\n').filter((l) => /^< HTTP\//.test(l)).pop();
  const body = (run?.text ?? '').trim().split('\n').slice(0, 2).join('\n');
  const tail = (run?.stderr ?? '').trim().split('\n').slice(-3).join('\n');
  const output = [status, body, status ? '' : tail].filter(Boolean).join('\n');
  reproduction.output = output;
  if (run) step.looked(run);
  step.note(`reproduced: exit ${run?.exitCode ?? '?'}${output ? `:\n${output.split('\n').map((l) => `      ${l}`).join('\n')}` : ''}`);
  // Envoy flushes access logs every second (access_log_flush_interval): give it time to write them.
  await waitUnlessInterrupted(options.capture.forMs ?? 1500);
}

/** The capture's restores for the transcript and the report; an interrupt ends the run once levels are back. */
function capturedOutcome(result: CaptureResult<void>, options: Why503Options, reproduction: Reproduction, step: StepRecorder): CaptureOutcome {
  for (const p of result.pods) {
    step.note(describeRestore(p));
    if (p.skipped.length) step.note(`  loggers this build does not have, not raised: ${p.skipped.join(', ')}`);
  }
  if (result.interrupted) throw new MeshDoctorError('interrupted', `interrupted by ${result.interrupted}; log levels were restored`);
  if (result.error) step.note(`the reproduction failed: ${result.error}`);
  const failedRestore = result.pods.filter((p) => p.error);
  if (failedRestore.length) step.status = 'failed';
  return {
    result,
    data: {
      status: failedRestore.length ? 'failed' : 'done',
      since: result.since,
      level: options.capture.level,
      loggers: options.capture.loggers,
      restores: result.pods.map(describeRestore),
      ...(reproduction.command ? { reproduce: reproduction } : {}),
    },
  };
}
