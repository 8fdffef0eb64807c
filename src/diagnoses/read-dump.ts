import { certificatesFromAdminCerts, certificatesFromSecrets, type ProxyCertificates } from '../model/envoy/certificates.js';
import { parseConfigDump, type ConfigDump } from '../model/envoy/config-dump.js';
import type { Provenance } from '../model/provenance.js';
import { parseListeningSockets, type ListeningSocket } from '../model/sockets.js';
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

/**
 * A proxy's certificates: its config dump's SDS secrets (the PEMs, private key
 * redacted by Envoy), else `/certs` (serials, SANs and validity only). The
 * dump is the one the caller already read, so nothing is fetched twice.
 */
export async function readProxyCertificates(source: EvidenceSource, pod: PodRef, read: { dump?: ConfigDump; cited?: Provenance }): Promise<(Provenance & { certs: ProxyCertificates }) | undefined> {
  const fromDump = read.dump ? certificatesFromSecrets(read.dump.secrets) : undefined;
  if (fromDump?.chain.length && read.cited) return { ...read.cited, certs: fromDump };
  const admin = await source.proxy(pod, 'certs').catch(() => undefined);
  if (!admin) return fromDump && read.cited ? { ...read.cited, certs: fromDump } : undefined;
  return { source: admin.source, ...(admin.file ? { file: admin.file } : {}), certs: certificatesFromAdminCerts(admin.text) };
}

/** The pod's listening sockets (ss, netstat or /proc/net/tcp from istio-proxy: the app's network namespace), or undefined when none could be read. */
export async function readListeningSockets(source: EvidenceSource, pod: PodRef): Promise<(Provenance & { value: ListeningSocket[] }) | undefined> {
  const evidence = await source.proxy(pod, 'netstat').catch(() => undefined);
  if (!evidence) return undefined;
  try {
    return { value: parseListeningSockets(evidence.text, `listening sockets of ${formatPod(pod)}`), source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) };
  } catch {
    return undefined;
  }
}
