/**
 * why-403: a request from a client pod to a destination is denied by the
 * server sidecar's authorization (`RBAC: access denied`). Names the
 * AuthorizationPolicy and rule that denied and why it matched:
 *
 *   1. the destination: Service and port, the server pod behind it
 *   2. server: its 403 access-log lines (the RBAC policy Envoy names)
 *   3. client: what it sends (mTLS with its SPIFFE identity, or plaintext)
 *   4. server: the mTLS mode of the port and the RBAC filters of the inbound chain, evaluated over the request
 *   5. the AuthorizationPolicies and RequestAuthentications that apply to the server
 *   6. the rules (src/rules/authz), the verdict
 */
import { MeshDoctorError, usageError } from '../errors.js';
import type { Finding, VerdictConfidence } from '../findings/finding.js';
import { authzConfidence } from '../rules/authz/partial-evidence.js';
import type { ConfigDump } from '../model/envoy/config-dump.js';
import { inboundAuthorization, type ChainAuthorization } from '../model/envoy/rbac.js';
import { decideAuthorization, type RbacRequest } from '../model/envoy/rbac-match.js';
import { authorizationPoliciesFor, requestAuthenticationsFor, spiffeIdentity } from '../model/istio/authorization-policy.js';
import { destinationRuleFor } from '../model/istio/destination-rule.js';
import { meshConfigFrom, type MeshConfigView } from '../model/istio/mesh-config.js';
import { effectiveMtls } from '../model/istio/peer-authentication.js';
import { resolveTargetPort } from '../model/istio/services.js';
import { parseIstioVersion } from '../model/istio/version-behaviour.js';
import { serviceAccountOf, type PodView } from '../model/k8s/pods.js';
import type { ResourceSet } from '../model/k8s/resources.js';
import { parseAccessLog } from '../model/logs/access-log.js';
import { parseEnvoyLog, type EnvoyLogEvent } from '../model/logs/envoy-log.js';
import { buildReport, type Report } from '../report/report.js';
import type { AuthzEvidence, ClientIdentity, Denial, ServerSide } from '../rules/authz/evidence.js';
import { isAuthzDenial } from '../rules/authz/denial.js';
import { runAuthzRules } from '../rules/authz/index.js';
import { isTcp, requestWords } from '../rules/authz/support.js';
import { clientTls, describeTransport } from '../rules/upstream/client-tls.js';
import { isProblem, podsBehind, resolveDestination, type Destination } from '../rules/upstream/destination.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';
import type { Guide, StepRecorder } from './guide.js';
import { readConfigDump, readProxyCertificates } from './read-dump.js';

export interface Why403Options {
  client: PodRef;
  to: string;
  /** The request path to judge when the access log has no 403 line for it. */
  path?: string;
  method?: string;
}

export interface Why403Data {
  destination: { input: string; host: string; port?: number; service?: string };
  server?: { pod: string; port: number; mtls?: string };
  client: { pod: string; sends?: string; identity?: string };
  /** tcp: the port's chain is TCP (network RBAC): a connection, no method or path. */
  request: { method: string; path: string; from: 'access-log' | 'flags'; peerIdentity?: string; tcp?: true };
  denial: { kind: Denial['kind']; basis: Denial['basis']; rbacPolicy?: string; policy?: string; rule?: number; because: string };
  policies: string[];
  rules: Array<{ rule: string; code: string; status: string; because?: string; findings: number }>;
}

const LOG_TAIL = 5000;

/** What the steps share: the run's inputs and the evidence gathered so far. */
interface Why403Run {
  source: EvidenceSource;
  guide: Guide;
  options: Why403Options;
  resources: ResourceSet;
  mesh: MeshConfigView;
  clientPod: PodView;
  destination: Destination;
  serverPod: PodView;
  server: ServerSide;
  evidence: AuthzEvidence;
  serverDump?: ConfigDump;
  clientDump?: ConfigDump;
}

export async function diagnoseWhy403(source: EvidenceSource, guide: Guide, options: Why403Options): Promise<Report<Why403Data>> {
  const resources = await source.resources();
  const mesh = meshConfigFrom(resources);
  const clientPod = await source.pod(options.client);
  const { destination, serverPod, port } = await guide.step('Destination: the Service and the server pod behind it', (step) => findServer(source, options, resources, step));
  const server: ServerSide = { pod: { namespace: serverPod.namespace, name: serverPod.name }, labels: serverPod.labels, port };
  const evidence: AuthzEvidence = {
    client: { pod: options.client }, server, mesh, policies: [], requestAuthentications: [],
    request: { method: options.method ?? 'GET', path: options.path ?? '/', port, host: destination.host, from: 'flags' },
  };
  const run: Why403Run = { source, guide, options, resources, mesh, clientPod, destination, serverPod, server, evidence };
  await guide.step(`Server ${formatPod(server.pod)}: 403 lines in its access log`, (step) => readDenials(run, step));
  await guide.step(`Client ${formatPod(options.client)}: what it sends, and the identity it presents`, (step) => readClientIdentity(run, step));
  await guide.step(`Server ${formatPod(server.pod)}: mTLS on port ${port} and the RBAC filters Envoy enforces`, (step) => readServerAuthorization(run, step));
  await guide.step('AuthorizationPolicies and RequestAuthentications that apply to the server', (step) => readPolicies(run, step));
  const outcome = await guide.step('Who denied, and why', async (step) => decide(run, step));
  return why403Report(run, outcome);
}

/** 1. The destination, the server pod behind it, and the port the server receives on. */
async function findServer(source: EvidenceSource, options: Why403Options, resources: ResourceSet, step: StepRecorder): Promise<{ destination: Destination; serverPod: PodView; port: number }> {
  const resolved = resolveDestination(options.to, options.client.namespace, resources);
  if (isProblem(resolved)) throw resolved.notFound ? new MeshDoctorError('not-found', resolved.problem, { suggestion: resolved.suggestion }) : usageError(resolved.problem, resolved.suggestion);
  for (const note of resolved.notes) step.note(note);
  if (resolved.service) step.looked(`kubectl get service ${resolved.service.name} -n ${resolved.service.namespace} -o yaml`);
  const pods = podsBehind(resolved, await source.pods(resolved.service?.namespace)).filter((p) => p.hasSidecar);
  const serverPod = pods[0];
  if (!serverPod) throw new MeshDoctorError('not-found', `no pod with a sidecar behind ${options.to}`, { suggestion: 'why-403 reads the server sidecar\'s authorization; check the Service selector and that the pods are injected.' });
  const port = resolved.servicePort ? resolveTargetPort(resolved.servicePort, serverPod.object).port : resolved.port;
  if (port === undefined) throw usageError(`which port of ${resolved.host}?`, 'Pass --to HOST:PORT.');
  step.note(`destination ${resolved.host}${resolved.port ? `:${resolved.port}` : ''}; server pod ${formatPod(serverPod)}${serverPod.ip ? ` (${serverPod.ip})` : ''}, port ${port}${pods.length > 1 ? ` (${pods.length - 1} more pods behind it share its policies)` : ''}`);
  return { destination: resolved, serverPod, port };
}

/** 2. The server's 403 lines for the port; the last one is the request the verdict is about. */
async function readDenials(run: Why403Run, step: StepRecorder): Promise<void> {
  const { source, server, evidence, options } = run;
  const log = await source.containerLog(server.pod, 'istio-proxy', { tail: LOG_TAIL }).catch((error: Error) => {
    step.note(`log unavailable: ${error.message}`);
    return undefined;
  });
  if (!log) {
    run.guide.skip('server access log', `no istio-proxy log for ${formatPod(server.pod)} in ${source.label}`, step);
    step.status = 'skipped';
    return;
  }
  step.looked(log);
  // The server's inbound entries for the port (and path): the denials, and the latest answer.
  const forRequest = parseAccessLog(log.text).entries.filter((x) => {
    const here = x.direction !== 'outbound' && (!x.downstreamLocalAddress || x.downstreamLocalAddress.endsWith(`:${server.port}`));
    // A TCP line (`"- - -"`) has no path: --path cannot rule it out.
    return here && (!options.path || x.path === undefined || x.path.split('?')[0] === options.path.split('?')[0]);
  });
  const entries = forRequest.filter(isAuthzDenial);
  const lastAnswer = forRequest.at(-1);
  if (lastAnswer) evidence.lastAnswer = lastAnswer;
  const cited = { source: log.source, ...(log.file ? { file: log.file } : {}) };
  evidence.denials = { ...cited, entries };
  const saw = deniedCheck(parseEnvoyLog(log.text).events);
  if (saw) {
    evidence.serverSaw = { ...cited, ...saw };
    step.note(`the server's RBAC filter logged the peer identity it saw: ${saw.peer ?? 'none (ssl: none)'}, and denied`);
  }
  const last = entries.at(-1);
  if (!last) {
    step.note(lastAnswer
      ? `no RBAC or ext_authz denial for port ${server.port}${options.path ? ` and path ${options.path}` : ''}; the last request was answered ${lastAnswer.responseCode ?? '-'}`
      : `no access-log entry for port ${server.port}${options.path ? ` and path ${options.path}` : ''} (the verdict is predicted from the server's RBAC filters)`);
    return;
  }
  if (lastAnswer && lastAnswer !== last) step.note(`the last request was answered ${lastAnswer.responseCode ?? '-'} after ${entries.length} denial${entries.length > 1 ? 's' : ''}`);
  step.note(`${entries.length} RBAC denial line${entries.length > 1 ? 's' : ''}; the last: ${last.responseCode ?? '-'} ${last.responseCodeDetails ?? last.connectionTerminationDetails ?? ''}`);
  if (last.method && last.path) Object.assign(evidence.request, { method: last.method, path: last.path, from: 'access-log' });
}

/** The RBAC filter's last `checking request:` line before an enforced denial, and that decision (debug lines, when the `rbac` logger was raised). */
function deniedCheck(events: EnvoyLogEvent[]): { check: string; decision: string; peer?: string } | undefined {
  let check: EnvoyLogEvent | undefined;
  let found: { check: string; decision: string; peer?: string } | undefined;
  for (const ev of events) {
    if (ev.kind === 'rbac-check') check = ev;
    if (ev.kind === 'rbac-decision' && ev.rbac?.decision === 'denied' && !ev.rbac.shadow && check) {
      found = { check: check.raw.split('\n')[0], decision: ev.raw, ...(check.rbac?.peer ? { peer: check.rbac.peer } : {}) };
    }
  }
  return found;
}

/** 3. What the client sends to the destination, and so which identity the server sees. */
async function readClientIdentity(run: Why403Run, step: StepRecorder): Promise<void> {
  const { source, options, destination, resources, mesh, clientPod, serverPod, evidence } = run;
  const { dump, cited } = await readConfigDump(source, options.client, step);
  run.clientDump = dump;
  const lookup = destinationRuleFor(destination.host, { namespace: options.client.namespace, labels: clientPod.labels }, resources, { mesh });
  const cluster = dump && destination.clusterName ? dump.cluster(destination.clusterName) : undefined;
  const tls = clientTls({ cluster, endpointIsIstio: serverPod.hasSidecar, lookup, resources, mesh, istioVersion: parseIstioVersion(dump?.versions?.istio), ...(destination.port !== undefined ? { port: destination.port } : {}) });
  const { identity, identityFrom } = await presentedIdentity(run, { ...(dump ? { dump } : {}), ...(cited ? { cited } : {}) }, step);
  const client: ClientIdentity = {
    pod: options.client,
    ...(identity ? { identity, identityFrom } : {}),
    transport: clientPod.hasSidecar ? tls.transport : 'plaintext',
    because: clientPod.hasSidecar ? tls.because : 'the client pod has no sidecar: it sends what its app sends, without an Istio certificate',
    ...(tls.rule ? { destinationRule: tls.rule.ref } : {}),
    ...(tls.ruleTlsMode ? { ruleTlsMode: tls.ruleTlsMode } : {}),
  };
  evidence.client = client;
  // What the server's RBAC filter logged it saw wins over what the client's config predicts.
  const peer = evidence.serverSaw ? evidence.serverSaw.peer : client.transport === 'istio-mtls' ? identity : undefined;
  if (peer) evidence.request.peerPrincipal = peer;
  step.note(`${formatPod(options.client)} sends ${describeTransport(client.transport!)}${identity && client.transport === 'istio-mtls' ? ` with identity ${identity}` : ''}: ${client.because}`);
}

/**
 * The identity the client's sidecar presents: its certificate's SPIFFE URI
 * when its certificates can be read (what the server's RBAC filter sees),
 * else predicted from its service account and the mesh's trust domain.
 */
async function presentedIdentity(run: Why403Run, read: Parameters<typeof readProxyCertificates>[2], step: StepRecorder): Promise<Pick<ClientIdentity, 'identity' | 'identityFrom'>> {
  const { source, options, clientPod, mesh } = run;
  if (!clientPod.hasSidecar) return {};
  const predicted = spiffeIdentity(mesh.trustDomain, clientPod.namespace, serviceAccountOf(clientPod.object));
  const presented = (await readProxyCertificates(source, options.client, read))?.certs.chain[0]?.spiffe?.uri;
  if (!presented) return { identity: predicted, identityFrom: 'service-account' };
  if (presented !== predicted) step.note(`${formatPod(options.client)}'s certificate says ${presented}, not ${predicted} (its service account and the mesh's trust domain): the server sees the certificate's`);
  return { identity: presented, identityFrom: 'certificate' };
}

/** 4. The server's mTLS mode for the port and the RBAC filters of the chain the request lands on, evaluated. */
async function readServerAuthorization(run: Why403Run, step: StepRecorder): Promise<void> {
  const { source, server, resources, mesh, evidence } = run;
  const mtls = effectiveMtls(resources, { namespace: server.pod.namespace, labels: server.labels }, server.port, { mesh });
  Object.assign(server, { mtlsMode: mtls.mode, mtlsBecause: mtls.because, ...(mtls.decidedBy ? { mtlsDecidedBy: mtls.decidedBy } : {}) });
  step.note(`port ${server.port}: mTLS ${mtls.mode} (${mtls.because})`);
  const { dump, cited } = await readConfigDump(source, server.pod, step);
  run.serverDump = dump;
  if (!dump) {
    run.guide.skip('server RBAC filters', `no config dump for ${formatPod(server.pod)} in ${source.label}`, step);
    return;
  }
  const chains = inboundAuthorization(dump, server.port);
  const chain = pickChain(chains, evidence.request, evidence.client.transport);
  if (!chain) {
    step.note(`no inbound filter chain for port ${server.port}`);
    return;
  }
  step.looked(`istioctl proxy-config listeners ${formatPod(server.pod)} --port ${server.port} -o json`);
  const decision = decideAuthorization(chain, evidence.request);
  evidence.authorization = { source: cited?.source ?? 'config_dump', ...(cited?.file ? { file: cited.file } : {}), chain, decision };
  step.note(`chain ${chain.chain}${chain.transport ? ` (${chain.transport})` : ''}: ${chain.rbac.length ? chain.rbac.map((f) => `${f.layer} rbac ${f.purpose === 'custom-trigger' ? 'CUSTOM trigger' : f.rules?.action ?? 'none'} [${(f.purpose === 'custom-trigger' ? f.shadow : f.rules)?.policies.map((p) => p.name).join(', ') ?? ''}]`).join(' -> ') : 'no RBAC filter: no AuthorizationPolicy applies'}${chain.extAuthz.length ? ' -> ext_authz' : ''}`);
  step.note(`evaluated over ${evidence.request.method} ${evidence.request.path} (peer identity ${evidence.request.peerPrincipal ?? 'none'}): ${decision.outcome.kind}`);
}

/** The chain a request of this transport lands on: TLS chains for Istio mTLS, raw_buffer ones for plaintext. */
function pickChain(chains: ChainAuthorization[], request: RbacRequest, transport: ClientIdentity['transport']): ChainAuthorization | undefined {
  const want = transport === 'plaintext' ? 'raw_buffer' : 'tls';
  const http = chains.filter((c) => c.layer === 'http');
  const pool = http.length && request.method ? http : chains;
  return pool.find((c) => c.transport === want) ?? pool.find((c) => !c.transport) ?? pool[0];
}

/** 5. The policies that apply to the server pod. */
async function readPolicies(run: Why403Run, step: StepRecorder): Promise<void> {
  const { resources, mesh, server, evidence } = run;
  const workload = { namespace: server.pod.namespace, labels: server.labels };
  evidence.policies = authorizationPoliciesFor(resources, workload, mesh.rootNamespace);
  evidence.requestAuthentications = requestAuthenticationsFor(resources, workload, mesh.rootNamespace);
  step.looked(`kubectl get authorizationpolicies -n ${server.pod.namespace} -o yaml; kubectl get authorizationpolicies -n ${mesh.rootNamespace} -o yaml`);
  step.note(evidence.policies.length ? evidence.policies.map((p) => `${p.action} ${p.namespace}/${p.name}${p.noRules ? ' (no rules)' : ` (${p.rules.length} rule${p.rules.length > 1 ? 's' : ''})`}${p.provider ? ` provider ${p.provider}` : ''}`).join('; ') : 'no AuthorizationPolicy applies to the server');
  if (evidence.requestAuthentications.length) step.note(`RequestAuthentication: ${evidence.requestAuthentications.map((r) => `${r.namespace}/${r.name}`).join(', ')}`);
}

/** 6. The rules; skipped ones and findings go into the transcript. */
function decide(run: Why403Run, step: StepRecorder): ReturnType<typeof runAuthzRules> {
  const result = runAuthzRules(run.evidence);
  step.note(`${result.denial.kind} (${result.denial.basis === 'access-log' ? 'from the access log' : 'from the config'}): ${result.denial.because}`);
  for (const o of result.outcomes) if (o.status === 'skipped') run.guide.skip(o.rule, o.because ?? 'evidence missing', step);
  for (const f of result.findings) {
    run.guide.report(f, step);
    step.note(`${f.code} ${f.title}: ${f.target.kind} ${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.name}`);
  }
  return result;
}

function why403Report(run: Why403Run, outcome: ReturnType<typeof runAuthzRules>): Report<Why403Data> {
  const { source, guide, options, destination, evidence, server, serverDump } = run;
  const { denial } = outcome;
  const data: Why403Data = {
    destination: { input: destination.input, host: destination.host, ...(destination.port !== undefined ? { port: destination.port } : {}), ...(destination.service ? { service: `${destination.service.namespace}/${destination.service.name}` } : {}) },
    server: { pod: formatPod(server.pod), port: server.port, ...(server.mtlsMode ? { mtls: server.mtlsMode } : {}) },
    client: { pod: formatPod(options.client), ...(evidence.client.transport ? { sends: describeTransport(evidence.client.transport) } : {}), ...(evidence.client.identity ? { identity: evidence.client.identity } : {}) },
    request: { method: evidence.request.method, path: evidence.request.path, from: evidence.request.from, ...(evidence.request.peerPrincipal ? { peerIdentity: evidence.request.peerPrincipal } : {}), ...(isTcp(evidence) ? { tcp: true as const } : {}) },
    denial: { kind: denial.kind, basis: denial.basis, ...(denial.rbacPolicy ? { rbacPolicy: denial.rbacPolicy } : {}), ...(denial.origin ? { policy: `${denial.origin.namespace}/${denial.origin.name}`, rule: denial.origin.rule } : {}), because: denial.because },
    policies: evidence.policies.map((p) => `${p.action} ${p.namespace}/${p.name}`),
    rules: outcome.outcomes.map((r) => ({ rule: r.rule, code: r.code, status: r.status, ...(r.because ? { because: r.because } : {}), findings: r.findings })),
  };
  return buildReport({
    command: 'why-403',
    subject: `${formatPod(options.client)} -> ${destination.host}${destination.port ? `:${destination.port}` : ''}${evidence.request.path !== '/' ? ` ${evidence.request.path}` : ''}`,
    source,
    versions: serverDump?.versions ? { istio: serverDump.versions.istio, envoy: serverDump.versions.envoy } : undefined,
    transcript: guide,
    verdict: withConfidence(verdictOf(outcome.findings, denial, evidence), authzConfidence({
      serverDump: serverDump !== undefined, clientDump: run.clientDump !== undefined, clientHasSidecar: run.clientPod.hasSidecar, basis: denial.basis,
    })),
    data,
  });
}

function withConfidence(verdict: Report['verdict'], confidence: VerdictConfidence | undefined): Report['verdict'] {
  return confidence ? { ...verdict, confidence } : verdict;
}

function verdictOf(findings: Finding[], denial: Denial, e: AuthzEvidence): Report['verdict'] {
  const request = `${requestWords(e)} from ${formatPod(e.client.pod)} to ${formatPod(e.server.pod)}:${e.server.port}`;
  const f = findings.find((x) => x.severity === 'error');
  if (f) {
    const culprit = `${f.target.kind} ${f.target.namespace ? `${f.target.namespace}/` : ''}${f.target.name}`;
    return { status: 'problem', summary: `${f.title} (${f.code}) for ${request}: culprit ${culprit}; fix: ${f.remediation.text.split(/(?<=\.)\s/)[0].replace(/\.$/, '')}.` };
  }
  if (denial.kind === 'allowed') {
    const earlier = e.denials?.entries.length ?? 0;
    const applied = e.policies.length ? `${e.policies.length} AuthorizationPolic${e.policies.length > 1 ? 'ies' : 'y'} apply` : 'no AuthorizationPolicy applies';
    return { status: 'healthy', summary: denial.basis === 'access-log'
      ? `${request} is allowed: ${denial.because}${earlier ? ` (after ${earlier} earlier denial${earlier > 1 ? 's' : ''})` : ''}; ${applied}.`
      : `The server's RBAC filters allow ${request} (${applied}), and its access log has no RBAC denial for it.` };
  }
  if (denial.kind === 'ext-authz') {
    return { status: 'inconclusive', summary: `${request} is decided by the CUSTOM provider (ext_authz)${denial.policy ? ` of AuthorizationPolicy ${denial.policy.namespace}/${denial.policy.name}` : ''}: its answer is not in the sidecar's config; read the provider's logs.` };
  }
  return { status: 'inconclusive', summary: `Could not tell who denies ${request}: ${denial.because}.` };
}
