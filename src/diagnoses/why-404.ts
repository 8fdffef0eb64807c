/**
 * why-404 <gateway pod> --host H [--path P] [--port N] [--https]: follows one
 * request through an ingress gateway's real config and, where it falls out,
 * names the Gateway or VirtualService field that put it there:
 *   1. the gateway pod and its config dump (a `router~` proxy);
 *   2. the Gateways, VirtualServices and the Services in front of the pod;
 *   3. the request's path: listener for the port, filter chain (SNI for HTTPS),
 *      route config, virtual host by :authority, route by path, cluster;
 *   4. the gateway rules (src/rules/gateway/).
 */
import { StepRecorder, type Guide } from './guide.js';
import { ExitCode, MeshDoctorError } from '../errors.js';
import { parseConfigDump } from '../model/envoy/config-dump.js';
import { proxyKind } from '../model/envoy/gateway-config.js';
import { describePath, type SimulationResult } from '../model/outbound/index.js';
import { requestUrl, type Ending, type GatewayEvidence, type GatewayRequest } from '../rules/gateway/evidence.js';
import { gatewayPodsOf, walkGateway, type GatewayProxy } from '../rules/gateway/walk.js';
import { runGatewayRules } from '../rules/gateway/index.js';
import type { Finding, VerdictConfidence } from '../findings/finding.js';
import { formatRef } from '../model/k8s/resources.js';
import { buildReport, type Report, type VerdictStatus } from '../report/report.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';

export interface Why404Options {
  host: string;
  path?: string;
  /** The port the client connects to (default 80, or 443 with https). */
  port?: number;
  https?: boolean;
}

export interface Why404Data {
  request: GatewayRequest;
  path: SimulationResult['decisions'];
  ending: Ending;
  outcome: SimulationResult['outcome'];
  confidence: SimulationResult['confidence'];
}

const GATEWAY_KINDS = ['pods', 'services', 'gateways.networking.istio.io', 'virtualservices.networking.istio.io'] as const;

export async function why404(guide: Guide, source: EvidenceSource, ref: PodRef, options: Why404Options): Promise<Report<Why404Data | undefined>> {
  const podArg = formatPod(ref);
  const gateway = await guide.step(`Read gateway ${podArg} and its config`, (step) => readGateway(source, ref, podArg, step));
  const evidence = await guide.step('Read the Gateways, VirtualServices and the Services in front of the gateway', (step) => readResources(source, gateway, options, step));
  await guide.step(`Follow ${requestUrl(evidence.request)} through the gateway`, async (step) => {
    step.looked(`istioctl proxy-config listeners ${podArg} --port ${evidence.request.listenerPort}`);
    for (const line of describePath(evidence.simulation)) step.note(line);
    step.note(`ends: ${evidence.ending}`);
  });
  const verdict = await guide.step('Explain where it ends', async (step) => {
    const { findings, outcomes } = runGatewayRules(evidence);
    for (const o of outcomes) if (o.status === 'skipped') guide.skip(o.rule, o.because ?? 'its inputs are missing', step);
    for (const f of findings) guide.report(f, step);
    return verdictOf(evidence, findings);
  });
  return buildReport({
    command: 'why-404',
    subject: `gateway ${podArg}`,
    source,
    versions: gateway.dump.versions ? { istio: gateway.dump.versions.istio, envoy: gateway.dump.versions.envoy } : undefined,
    transcript: guide,
    verdict,
    data: { request: evidence.request, path: evidence.simulation.decisions, ending: evidence.ending, outcome: evidence.simulation.outcome, confidence: evidence.simulation.confidence },
  });
}

/** The evidence why-404's rules read, gathered as the diagnosis' steps gather it but without a transcript (the rules' tables build it so). */
export async function gatewayEvidence(source: EvidenceSource, ref: PodRef, options: Why404Options): Promise<GatewayEvidence> {
  const step = new StepRecorder();
  return readResources(source, await readGateway(source, ref, formatPod(ref), step), options, step);
}

async function readGateway(source: EvidenceSource, ref: PodRef, podArg: string, step: StepRecorder): Promise<GatewayProxy> {
  const pod = await source.pod(ref);
  const evidence = await source.proxy(ref, 'config_dump');
  if (!evidence) {
    throw new MeshDoctorError('not-found', `no config dump for ${podArg} in ${source.label}: why-404 follows the request through the gateway's config`, {
      suggestion: `Capture one (kubectl mesh-doctor snapshot ${podArg}) or run against the cluster.`,
    });
  }
  step.looked(evidence);
  const dump = parseConfigDump(evidence.text, `config_dump of ${podArg}`);
  const kind = proxyKind(dump);
  if (kind !== 'gateway') {
    throw new MeshDoctorError('usage', `${podArg} is a ${kind} proxy (node id ${dump.node?.id ?? 'unknown'}); why-404 follows requests through gateway pods (node id router~...)`, {
      suggestion: 'Name the ingress gateway pod (kubectl get pods -n istio-system -l istio=ingressgateway); for a sidecar use why-502 or why-503.',
      exitCode: ExitCode.runFailed, // an unsupported proxy kind is exit 1, like every command's
    });
  }
  step.note(`${dump.listeners.length} listeners, ${dump.routeConfigs.length} route configs, ${dump.secrets.length} secrets; Istio ${dump.versions?.istio ?? 'version unknown'}`);
  return { pod, podArg, dump, dumpSource: evidence.source, ...(evidence.file ? { dumpFile: evidence.file } : {}) };
}

async function readResources(source: EvidenceSource, g: GatewayProxy, options: Why404Options, step: StepRecorder): Promise<GatewayEvidence> {
  const resources = await source.resources(GATEWAY_KINDS);
  step.looked('kubectl get gateways,virtualservices,services -A -o yaml');
  const evidence = walkGateway(g, resources, gatewayPodsOf(await source.pods()), options);
  step.note(`${evidence.gateways.length} Gateways, ${evidence.virtualServices.length} VirtualServices; ${g.podArg} is behind ${evidence.podServices.map((s) => `Service ${s.namespace}/${s.name}`).join(', ') || 'no Service'}; port ${evidence.request.port} lands on ${evidence.request.listenerPort}`);
  return evidence;
}

/**
 * A verdict the gateway's config alone cannot explain rests on the Gateways:
 * when none was read (not captured, not permitted) no rule could name the
 * resource the config came from, and the confidence says so.
 */
function verdictOf(e: GatewayEvidence, findings: readonly Finding[]): { status: VerdictStatus; summary: string; confidence?: VerdictConfidence } {
  const verdict = endingVerdict(e, findings);
  if (verdict.status === 'healthy' || e.listed.has('Gateway')) return verdict;
  return { ...verdict, confidence: { level: 'low', missing: ['the Gateway and VirtualService resources (none was read, so no rule could name the resource behind the gateway\'s config)'] } };
}

function endingVerdict(e: GatewayEvidence, findings: readonly Finding[]): { status: VerdictStatus; summary: string } {
  const line = requestUrl(e.request);
  const first = findings[0];
  const blame = first ? `: ${first.title} (${first.code}), culprit ${formatRef(first.target)}` : '';
  if (e.ending === 'routed') return { status: findings.length ? 'problem' : 'healthy', summary: `The gateway routes ${line} to ${e.simulation.outcome.cluster}${blame}.` };
  if (e.ending === 'redirect') return { status: 'problem', summary: `The gateway answers ${line} with a redirect to HTTPS${blame}.` };
  const how = e.ending === 'no-cluster' ? '503' : e.ending === 'no-route' ? '404' : e.ending === 'warming' || e.ending === 'no-listener' ? 'a refused connection' : 'a failed connection';
  if (first) return { status: 'problem', summary: `${line} gets ${how} at the gateway${blame}.` };
  return { status: 'inconclusive', summary: `${line} falls out of the gateway's config (${e.simulation.outcome.why}), and no rule explains it from the resources read.` };
}
