import { parseConfigDump, type ConfigDump } from '../model/envoy/config-dump.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';
import type { StepRecorder } from './guide.js';

/** A sidecar's config dump, parsed, with where it came from; an unavailable or unreadable one is noted in the step, not thrown. */
export async function readConfigDump(source: EvidenceSource, pod: PodRef, step: StepRecorder): Promise<{ dump?: ConfigDump; cited?: { source: string; file?: string } }> {
  const evidence = await source.proxy(pod, 'config_dump').catch((error: Error) => {
    step.note(`config dump of ${formatPod(pod)} unavailable: ${error.message}`);
    return undefined;
  });
  if (!evidence) return {};
  step.looked(evidence);
  try {
    return { dump: parseConfigDump(evidence.text, `config_dump of ${formatPod(pod)}`), cited: { source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) } };
  } catch (error) {
    step.note(`config dump of ${formatPod(pod)} unreadable: ${(error as Error).message}`);
    return {};
  }
}
