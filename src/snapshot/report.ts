/**
 * The snapshot command's report (`-o json|yaml`: `data` is the per-pod capture
 * summary) and its human rendering.
 */
import { plainTable } from '../render/table.js';
import type { Painter } from '../render/style.js';
import { buildReport, type Report } from '../report/report.js';
import { formatPod, type EvidenceSource } from '../sources/source.js';
import type { PodCapture } from './capture.js';
import type { SnapshotResult } from './index.js';
import type { PodSelection } from './plan.js';
import { formatCounts } from './redact.js';

/** The report's `data`: where the snapshot went and what each pod gave. */
export interface SnapshotData {
  out: string;
  format: 'directory' | 'archive';
  pods: PodCapture[];
  istiod: SnapshotResult['istiod'];
  cluster: SnapshotResult['cluster'];
  redactions: SnapshotResult['redactions'];
  warnings: string[];
}

export function snapshotReport(result: SnapshotResult, selection: PodSelection, source: Pick<EvidenceSource, 'mode' | 'label'>): Report<SnapshotData> {
  const partial = result.pods.filter((p) => p.status === 'partial').length;
  const failed = result.pods.filter((p) => p.status === 'failed').length;
  const details = [partial ? `${partial} partial` : '', failed ? `${failed} failed` : ''].filter(Boolean).join(', ');
  const subject = selection.pods.length
    ? selection.pods.map(formatPod).join(', ')
    : selection.namespaces === 'all' ? 'all namespaces' : `namespace ${selection.namespaces.join(', ')}`;
  return buildReport({
    command: 'snapshot',
    subject,
    source,
    verdict: {
      status: 'informational',
      summary: `snapshot written to ${result.target.path}: ${result.pods.length - failed} of ${result.pods.length} pods captured${details ? ` (${details})` : ''}`,
    },
    data: {
      out: result.target.path,
      format: result.target.format,
      pods: result.pods,
      istiod: result.istiod,
      cluster: result.cluster,
      redactions: result.redactions,
      warnings: result.warnings,
    },
  });
}

/** Lines for stderr after a capture: warnings, and the pods not fully captured. */
export function warningLines(result: SnapshotResult): string[] {
  const lines = result.warnings.map((w) => `warning: ${w}`);
  const incomplete = result.pods.filter((p) => p.status !== 'ok');
  if (incomplete.length) {
    lines.push(`warning: ${incomplete.length} of ${result.pods.length} pods not fully captured (${incomplete.map((p) => `${formatPod(p)} ${p.status}`).join(', ')}); the reasons are in meta.json`);
  }
  return lines;
}

export function renderSnapshotData(report: Report<SnapshotData>, paint: Painter): string | undefined {
  const data = report.data;
  if (!data) return undefined;
  const lines: string[] = [];
  if (data.pods.length) {
    lines.push(plainTable(['NAMESPACE', 'POD', 'STATUS', 'FILES', 'NOTE'], data.pods.map((p) => [
      p.namespace,
      p.name,
      p.status,
      String(p.files.length),
      p.status === 'ok' ? '' : p.status === 'partial' ? `missing ${p.missing.map((m) => m.file).join(', ')}` : (p.error ?? ''),
    ])), '');
  }
  const objects = Object.entries(data.cluster.files).map(([file, n]) => `${file} (${n} objects)`).join(', ');
  if (objects) lines.push(`Cluster: ${objects}`);
  for (const i of data.istiod) lines.push(`istiod ${i.namespace}/${i.name}: /debug/syncz ${i.status === 'ok' ? `recorded in ${i.file}` : `not recorded (${i.error})`}`);
  lines.push(`Redacted: ${formatCounts(data.redactions) || 'nothing'}`);
  lines.push(paint('bold', report.verdict.summary));
  lines.push(`Read it offline: kubectl mesh-doctor <command> --from ${data.out}`);
  return lines.join('\n');
}

/** The flags as given, for meta.json (names and paths only, nothing secret). */
export function recordedFlags(flags: Record<string, unknown>, pods: readonly string[]): Record<string, unknown> {
  const recorded: Record<string, unknown> = {};
  for (const key of ['context', 'kubeconfig', 'namespace', 'all-namespaces', 'selector', 'out', 'force', 'read-only', 'timeout', 'concurrency', 'from']) {
    const value = flags[key];
    if (value !== undefined && value !== false) recorded[key] = value;
  }
  if (pods.length) recorded.pods = [...pods];
  return recorded;
}
