/**
 * why-502 <pod> --host H: follows a plain HTTP request through the sidecar
 * (incident 3: REGISTRY_ONLY's block_all route answers 502 itself), names the
 * missing or hidden ServiceEntry, and quotes the matching access-log lines.
 * Without the sidecar's config dump the access log and the resources decide
 * what they can (rules/egress/blocked-without-dump.ts), with the confidence
 * and what was missing in the verdict.
 */
import { ahead, type Guide, type StepRecorder } from './guide.js';
import type { EvidenceItem } from '../findings/finding.js';
import { PROXY_CONTAINER } from '../model/k8s/pods.js';
import { parseAccessLog, type AccessLogEntry } from '../model/logs/access-log.js';
import type { Provenance } from '../model/provenance.js';
import { blockedVerdict, blockedWithoutDumpRule, NO_DUMP, partialOutboundEvidence, type PartialOutboundEvidence } from '../rules/egress/blocked-without-dump.js';
import { runRules } from '../rules/engine.js';
import type { OutboundVerdict } from '../rules/egress/outbound-path.js';
import type { Report } from '../report/report.js';
import type { EvidenceSource, PodRef } from '../sources/source.js';
import { diagnoseOutbound, gatherSidecarEvidence, outboundReport, type OutboundData, type OutboundOptions, type SidecarEvidence } from './why-https-fails.js';

export async function why502(guide: Guide, source: EvidenceSource, ref: PodRef, options: OutboundOptions): Promise<Report<OutboundData | undefined>> {
  const evidence = await gatherSidecarEvidence(guide, source, ref);
  if (!evidence.dump) {
    // Without the sidecar's config its access log is the traffic evidence: read it first, then decide from what exists.
    const log = await readHostLines(guide, source, evidence, options.host);
    const verdict = await guide.step('Decide from the resources and the access log (no sidecar config)', async (step) => decideWithoutDump(guide, evidence, options, log, step));
    const result = verdict ? { verdict } : await diagnoseOutbound(guide, source, evidence, 'http', options);
    return outboundReport('why-502', source, guide, evidence, result);
  }
  // The rules quote the access-log lines, so they are read first; their step keeps its place at the end.
  const lines = await ahead((linesGuide) => readHostLines(linesGuide, source, evidence, options.host));
  const result = await diagnoseOutbound(guide, source, evidence, 'http', options, quoteOf(lines.value));
  guide.adopt(lines.guide);
  return outboundReport('why-502', source, guide, evidence, result);
}

interface HostLines {
  log?: Provenance;
  entries: AccessLogEntry[];
}

/** The sidecar's 502/503 access-log lines for the host (the last five). */
async function readHostLines(guide: Guide, source: EvidenceSource, evidence: SidecarEvidence, host: string): Promise<HostLines> {
  return guide.step(`Find the sidecar's access-log lines for ${host}`, async (step) => {
    const ref = { namespace: evidence.pod.namespace, name: evidence.pod.name };
    const log = await source.containerLog(ref, PROXY_CONTAINER, { tail: 5000 });
    if (!log) {
      guide.skip('access-log lines', `no ${PROXY_CONTAINER} log for ${evidence.podArg} in ${source.label}`, step);
      return { entries: [] };
    }
    step.looked(log);
    const wanted = host.toLowerCase();
    const entries = parseAccessLog(log.text).entries.filter((e) => e.authority?.toLowerCase().replace(/:\d+$/, '') === wanted && (e.responseCode === 502 || e.responseCode === 503)).slice(-5);
    if (entries.length === 0) step.note(`no 502/503 access-log line for ${host} (the access log may be off, or the request was not made since the log started)`);
    for (const e of entries) step.note(e.raw);
    return { log: { source: log.source, ...(log.file ? { file: log.file } : {}) }, entries };
  });
}

/** The access-log lines as the evidence item MD2001/MD2002 quote. */
function quoteOf(lines: HostLines): EvidenceItem | undefined {
  if (!lines.log || !lines.entries.length) return undefined;
  return { ...lines.log, excerpt: lines.entries.map((e) => e.raw).join('\n'), note: 'The sidecar logged these requests: `502 - direct_response ... block_all` is REGISTRY_ONLY\'s own reply.' };
}

async function decideWithoutDump(guide: Guide, evidence: SidecarEvidence, options: OutboundOptions, lines: HostLines, step: StepRecorder): Promise<OutboundVerdict | undefined> {
  const partial: PartialOutboundEvidence = {
    pod: evidence.pod, podArg: evidence.podArg, resources: evidence.resources, mesh: evidence.mesh, ...(evidence.istioVersion ? { istioVersion: evidence.istioVersion } : {}),
    host: options.host, port: options.port ?? 80, protocol: 'HTTP', ...(lines.log ? { accessLog: { ...lines.log, entries: lines.entries } } : {}),
  };
  const { findings, outcomes } = runRules([blockedWithoutDumpRule], partialOutboundEvidence(partial));
  for (const o of outcomes) if (o.status === 'skipped') guide.skip(o.rule, o.because ?? 'its inputs are missing', step);
  const verdict = blockedVerdict(partial, findings);
  if (!verdict) {
    step.status = 'skipped';
    step.note(`the resources and the access log do not decide it without ${NO_DUMP}`);
    return undefined;
  }
  for (const line of verdict.observations) step.note(line);
  step.note(`confidence ${verdict.confidence!.level}; missing: ${verdict.confidence!.missing.join('; ')}`);
  for (const f of verdict.findings) guide.report(f, step);
  return verdict;
}
