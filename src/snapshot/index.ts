/**
 * `mesh-doctor snapshot`: capture a source's evidence into the snapshot layout
 * (design.md, "The snapshot layout"), redacted, owner-only, all or nothing.
 */
import { MeshDoctorError } from '../errors.js';
import { formatPod, type EvidenceSource } from '../sources/source.js';
import { captureSnapshot, type ArtifactFetcher, type CaptureEnvironment, type CaptureSummary, type PodCapture } from './capture.js';
import type { PodSelection } from './plan.js';
import type { CaptureProgress } from './progress.js';
import { SnapshotWriter, type SnapshotTarget } from './writer.js';

export { checkTarget, defaultOut, resolveTarget, type SnapshotTarget } from './writer.js';
export type { CaptureEnvironment, CaptureSummary, PodCapture } from './capture.js';

export interface TakeSnapshotOptions {
  target: SnapshotTarget;
  force: boolean;
  selection: PodSelection;
  readOnly: boolean;
  environment: CaptureEnvironment;
  progress?: CaptureProgress;
  fetcher?: ArtifactFetcher;
}

export interface SnapshotResult extends CaptureSummary {
  target: SnapshotTarget;
  /** Files in the snapshot, relative to its root. */
  files: string[];
}

/**
 * Captures into a staging folder and commits it; when nothing could be
 * captured (the cluster cannot be read, every selected pod failed), nothing is
 * written and the error says why (exit 1). Any other error aborts as well.
 */
export async function takeSnapshot(source: EvidenceSource, options: TakeSnapshotOptions): Promise<SnapshotResult> {
  const writer = await SnapshotWriter.create(options.target, { force: options.force });
  try {
    const summary = await captureSnapshot(source, writer, {
      selection: options.selection,
      readOnly: options.readOnly,
      ...(options.fetcher ? { fetcher: options.fetcher } : {}),
      environment: options.environment,
      onPlan: (pods) => options.progress?.planned(pods),
      onPod: (pod, done, total) => options.progress?.pod(pod, done, total),
    });
    options.progress?.stop();
    const nothing = nothingCaptured(summary);
    if (nothing) throw new MeshDoctorError(nothing.kind, nothing.message, { suggestion: nothing.suggestion });
    const files = writer.files();
    await writer.commit();
    return { ...summary, target: options.target, files };
  } catch (error) {
    options.progress?.stop();
    await writer.abort();
    throw error;
  }
}

/** Why the capture is worth nothing, or undefined when something was captured. */
export function nothingCaptured(summary: CaptureSummary): { kind: MeshDoctorError['kind']; message: string; suggestion: string } | undefined {
  const captured = summary.pods.filter((p) => p.status !== 'failed');
  if (captured.length > 0) return undefined;
  if (summary.pods.length > 0) {
    const first = summary.pods[0]!;
    const more = summary.pods.length > 1 ? ` (and ${summary.pods.length - 1} more pod${summary.pods.length > 2 ? 's' : ''})` : '';
    return {
      kind: 'exec-failed',
      message: `nothing could be captured: ${failureLine(first)}${more}`,
      suggestion: 'Check the pods and your RBAC (get/list, pods/exec, pods/log; see docs/snapshot.md); nothing was written.',
    };
  }
  if (summary.podListingFailed) {
    return {
      kind: 'exec-failed',
      message: `nothing could be captured: ${summary.podListingFailed}`,
      suggestion: 'Check that the cluster answers and that you may list pods (docs/snapshot.md, RBAC); nothing was written.',
    };
  }
  if (Object.keys(summary.cluster.files).length === 0) {
    const first = summary.cluster.failed[0];
    return {
      kind: 'exec-failed',
      message: `nothing could be captured${first ? `: listing ${first.kind}: ${first.error}` : ''}`,
      suggestion: 'Check that the cluster answers (`kubectl cluster-info`) and your RBAC; nothing was written.',
    };
  }
  return undefined;
}

function failureLine(pod: PodCapture): string {
  const error = pod.error ?? 'no file could be fetched';
  return error.includes(pod.name) ? error : `${formatPod(pod)}: ${error}`;
}
