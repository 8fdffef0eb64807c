/**
 * why-502 <pod> --host H: follows a plain HTTP request through the sidecar
 * (incident 3: REGISTRY_ONLY's block_all route answers 502 itself), names the
 * missing or hidden ServiceEntry, and quotes the matching access-log lines.
 */
import type { Guide } from './guide.js';
import { PROXY_CONTAINER } from '../model/k8s/pods.js';
import type { Report } from '../report/report.js';
import type { EvidenceSource, PodRef } from '../sources/source.js';
import { diagnoseOutbound, gatherSidecarEvidence, outboundReport, type OutboundData, type OutboundOptions } from './why-https-fails.js';

export async function why502(guide: Guide, source: EvidenceSource, ref: PodRef, options: OutboundOptions): Promise<Report<OutboundData | undefined>> {
  const evidence = await gatherSidecarEvidence(guide, source, ref);
  const result = await diagnoseOutbound(guide, source, evidence, 'http', options);
  await guide.step(`Find the sidecar's access-log lines for ${options.host}`, async (step) => {
    const log = await source.containerLog(ref, PROXY_CONTAINER, { tail: 5000 });
    if (!log) {
      guide.skip('access-log lines', `no ${PROXY_CONTAINER} log for ${evidence.podArg} in ${source.label}`, step);
      return;
    }
    step.looked(log);
    const host = options.host.toLowerCase();
    const lines = log.text.split('\n').filter((l) => l.toLowerCase().includes(`"${host}`) && /\s50[23]\s/.test(l)).slice(-5);
    if (lines.length === 0) {
      step.note(`no 502/503 access-log line for ${options.host} (the access log may be off, or the request was not made since the log started)`);
      return;
    }
    for (const l of lines) step.note(l);
    for (const f of result.verdict.findings.filter((x) => x.code === 'MD2001' || x.code === 'MD2002')) {
      f.evidence.push({ source: log.source, excerpt: lines.join('\n'), ...(log.file ? { file: log.file } : {}), note: 'The sidecar logged these requests: `502 - direct_response ... block_all` is REGISTRY_ONLY\'s own reply.' });
    }
  });
  return outboundReport('why-502', source, guide, evidence, result);
}
