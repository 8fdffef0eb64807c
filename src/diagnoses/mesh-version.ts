/**
 * The run's one version decision (model/mesh-version.ts), fed through the
 * source: the proxy's own (a config dump's bootstrap node), the snapshot's
 * `versions` file, the pod's istio-proxy image, istiod's image. Every
 * diagnosis asks here, so they all assume the same version on the same evidence.
 */
import type { ConfigDump } from '../model/envoy/config-dump.js';
import type { PodView } from '../model/k8s/pods.js';
import type { ResourceSet } from '../model/k8s/resources.js';
import { resolveMeshVersion, type MeshVersion } from '../model/mesh-version.js';
import type { EvidenceSource } from '../sources/source.js';
import type { StepRecorder } from './guide.js';

export interface VersionInputs {
  /** The proxy's config dump (its bootstrap node has ISTIO_VERSION and Envoy's build). */
  dump?: ConfigDump;
  pod?: PodView;
  resources?: ResourceSet;
}

export async function meshVersionOf(source: EvidenceSource, input: VersionInputs, step?: StepRecorder): Promise<MeshVersion> {
  const proxy = input.dump?.versions;
  // Also read when the proxy says: its control plane line tells the skew.
  const versions = await source.versions().catch(() => undefined);
  const version = resolveMeshVersion({
    ...(proxy && (proxy.istio || proxy.envoy) ? { proxy: { ...proxy, from: `the bootstrap node of ${input.dump!.what}` } } : {}),
    ...(versions ? { versionsText: { text: versions.text, from: versions.file ? `snapshot file ${versions.file}` : versions.source } } : {}),
    ...(input.pod ? { pod: input.pod.object } : {}),
    ...(input.resources ? { resources: input.resources } : {}),
  });
  if (versions && version.source === 'versions-file') step?.looked(versions);
  step?.note(version.text);
  return version;
}
