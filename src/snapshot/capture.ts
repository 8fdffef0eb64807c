/**
 * Captures a source's evidence into a SnapshotWriter: cluster objects, each
 * selected pod's Envoy admin artifacts and logs, the versions file and
 * meta.json. Works on any EvidenceSource (live cluster, or an existing
 * snapshot to re-write it redacted). A pod that fails (exec forbidden,
 * timeout, pod gone) is recorded and does not stop the others; an unexpected
 * error (a bug, a disk error) stops the whole capture, and the caller aborts
 * the writer so nothing half-written is left.
 */
import { userInfo } from 'node:os';
import { stringify as toYaml } from 'yaml';
import { MeshDoctorError } from '../errors.js';
import { parseServerInfo } from '../model/envoy/versions.js';
import { istiodInstances, type IstiodInstance } from '../model/istio/istiod.js';
import { SYNCZ_COMMAND } from '../model/istio/syncz.js';
import { formatRecordedProbe, normalizeCommand } from '../sources/probes.js';
import type { PodView } from '../model/k8s/pods.js';
import { ResourceSet, type KubeObject } from '../model/k8s/resources.js';
import { formatPod, type Evidence, type EvidenceSource, type PodRef } from '../sources/source.js';
import { CAPTURE_KINDS, isIstioObject, keepConfigMap, podFiles, selectPods, type PodFile, type PodSelection } from './plan.js';
import { redactObjects, type RedactionCounts, addCounts } from './redact.js';
import type { SnapshotWriter } from './writer.js';

export const SNAPSHOT_META_SCHEMA = 'mesh-doctor.snapshot/v1';

export const RESOURCES_FILE = 'cluster/k8s-resources';
export const CRS_FILE = 'cluster/crs';
export const VERSIONS_FILE = 'versions';
export const META_FILE = 'meta.json';

/** ok: every file the proxy could give was captured; partial: some were, some failed; failed: no file at all. */
export type PodStatus = 'ok' | 'partial' | 'failed';

export interface PodCapture {
  namespace: string;
  name: string;
  status: PodStatus;
  /** The first failure, as a sentence (for failed and partial pods). */
  error?: string;
  /** Files written, relative to the pod's folder. */
  files: string[];
  /** Files that failed, and why. */
  missing: Array<{ file: string; reason: string }>;
  /** Files the proxy cannot give, and why (no ss/netstat in the image, --read-only). Not failures. */
  unavailable: Array<{ file: string; reason: string }>;
  versions?: { istio?: string; envoy?: string };
}

/** istiod's /debug/syncz: recorded (ok; failed when the command exited non-zero), or why not. */
export interface IstiodCapture {
  namespace: string;
  name: string;
  status: 'ok' | 'failed' | 'unavailable';
  /** The recorded command, relative to the snapshot root. */
  file?: string;
  error?: string;
}

export interface ClusterCapture {
  /** Objects written per file. */
  files: Record<string, number>;
  /** Kinds that could not be listed. */
  failed: Array<{ kind: string; error: string }>;
}

/** What the caller knows about where and how the capture runs (written to meta.json and versions). */
export interface CaptureEnvironment {
  tool: { name: string; version: string };
  /** The kubeconfig context, cluster and user names (never credentials). */
  kube?: { context?: string; cluster?: string; user?: string };
  kubectl?: { client?: string; server?: string };
  /** The command line flags, as given. */
  flags: Record<string, unknown>;
}

/** Where pod files come from; the source itself by default (see live-fetch.ts for why not always). */
export type ArtifactFetcher = Pick<EvidenceSource, 'proxy' | 'containerLog'>;

export interface SnapshotCaptureOptions {
  selection: PodSelection;
  fetcher?: ArtifactFetcher;
  readOnly: boolean;
  environment: CaptureEnvironment;
  /** Called as each pod finishes. */
  onPod?: (pod: PodCapture, done: number, total: number) => void;
  /** Called once the pods to capture are known. */
  onPlan?: (pods: PodRef[]) => void;
  now?: () => Date;
}

export interface CaptureSummary {
  pods: PodCapture[];
  /** istiod's view of the proxies' sync state, one per istiod pod. */
  istiod: IstiodCapture[];
  cluster: ClusterCapture;
  redactions: RedactionCounts;
  /** Warnings for people (no pods matched, a kind could not be listed...). */
  warnings: string[];
  /** The pod listing failed, so the selection could not be made. */
  podListingFailed?: string;
}

/** Errors that mean "this pod's proxy cannot be asked": skip its other admin calls. */
const POD_FATAL = new Set(['forbidden', 'not-found', 'no-sidecar', 'timeout', 'unreachable', 'kubectl-missing', 'no-context', 'proxy-not-ready']);

export async function captureSnapshot(source: EvidenceSource, writer: SnapshotWriter, options: SnapshotCaptureOptions): Promise<CaptureSummary> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const warnings: string[] = [];
  const cluster = await listClusterObjects(source);
  warnings.push(...cluster.failedKinds.map((f) => `could not list ${f.kind}: ${f.error}`));
  const { selected, podListingFailed } = await selectCapturePods(source, options.selection, cluster.objects, warnings);
  options.onPlan?.(selected.map((s) => s.ref));
  const clusterFiles = await writeClusterFiles(writer, cluster, options.selection, selected);

  // Pods, all at once: the source's pool (Kubectl, --concurrency) bounds the calls in flight.
  let done = 0;
  const istiod = Promise.all(istiodInstances(cluster.objects).map((i) => captureIstiodSync(source, writer, i)));
  const pods = await Promise.all(selected.map(async (s) => {
    const capture = s.error !== undefined
      ? failedPod(s.ref, s.error, s.view)
      : await capturePod(source, options.fetcher ?? source, writer, s.ref, s.view!, options.readOnly);
    options.onPod?.(capture, ++done, selected.length);
    return capture;
  }));

  const istiodCaptures = await istiod;
  for (const i of istiodCaptures) if (i.status !== 'ok' && i.error) warnings.push(`istiod ${i.namespace}/${i.name}: /debug/syncz not recorded: ${i.error}`);

  // versions and meta.json, last: they describe what was captured.
  await writer.write(VERSIONS_FILE, versionsText(options.environment, pods, await sourceVersions(source)));
  const finishedAt = now();
  const summary: CaptureSummary = {
    pods,
    istiod: istiodCaptures,
    cluster: { files: clusterFiles, failed: cluster.failedKinds },
    redactions: writer.redactions,
    warnings,
    ...(podListingFailed ? { podListingFailed } : {}),
  };
  const meta = metaDocument(source, options, summary, startedAt, finishedAt, writer);
  await writer.write(META_FILE, JSON.stringify(meta, null, 2) + '\n');
  return summary;
}

interface ClusterObjects {
  objects: ResourceSet;
  /** The kinds that could be listed (possibly empty). */
  listed: Set<string>;
  failedKinds: ClusterCapture['failed'];
}

/** Cluster objects, one kind at a time so one forbidden kind does not lose the others. */
async function listClusterObjects(source: EvidenceSource): Promise<ClusterObjects> {
  const failedKinds: ClusterCapture['failed'] = [];
  const objects = new ResourceSet();
  const listed = new Set<string>();
  await Promise.all(CAPTURE_KINDS.map(async (kind) => {
    try {
      const set = await source.resources([kind]);
      for (const k of set.kinds()) for (const object of set.of(k)) objects.add(object);
      listed.add(kind);
    } catch (error) {
      failedKinds.push({ kind, error: expectedMessage(error) });
    }
  }));
  failedKinds.sort((a, b) => a.kind.localeCompare(b.kind));
  return { objects, listed, failedKinds };
}

interface SelectedPod {
  ref: PodRef;
  view?: PodView;
  error?: string;
}

/** The pods to capture: the ones named (each looked up, a pod without a sidecar kept as a failure), or the selection's. */
async function selectCapturePods(source: EvidenceSource, selection: PodSelection, objects: ResourceSet, warnings: string[]): Promise<{ selected: SelectedPod[]; podListingFailed?: string }> {
  let podListingFailed: string | undefined;
  let podObjects: PodView[] = [];
  try {
    podObjects = await source.pods();
  } catch (error) {
    podListingFailed = expectedMessage(error);
  }
  if (selection.pods.length === 0) {
    const selected = selectPods(podObjects, selection).map((view) => ({ ref: { namespace: view.namespace, name: view.name }, view }));
    if (!podListingFailed && selected.length === 0) {
      const where = selection.namespaces === 'all' ? 'any namespace' : `namespace ${selection.namespaces.join(', ')}`;
      warnings.push(`no pods with an istio-proxy container${selection.selector ? ` matching -l ${selection.selector}` : ''} in ${where}`);
    }
    return { selected, podListingFailed };
  }
  const named = [...new Map(selection.pods.map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()];
  const selected = await Promise.all(named.map(async (ref): Promise<SelectedPod> => {
    let view = podObjects.find((p) => p.namespace === ref.namespace && p.name === ref.name);
    if (!view) {
      try {
        view = await source.pod(ref);
        // A snapshot source makes up a Pod for a bare proxies/ folder; only real objects go to k8s-resources.
        if (view.object.spec !== undefined || view.object.status !== undefined) objects.add(view.object);
      } catch (error) {
        return { ref, error: expectedMessage(error) };
      }
    }
    if (!view.hasSidecar) return { ref, view, error: `pod ${formatPod(ref)} has no istio-proxy container` };
    return { ref, view };
  }));
  return { selected, podListingFailed };
}

/** The cluster files, redacted structurally here and as text by the writer; returns each file's object count. */
async function writeClusterFiles(writer: SnapshotWriter, { objects, listed }: ClusterObjects, selection: PodSelection, selected: SelectedPod[]): Promise<Record<string, number>> {
  const scope: ReadonlySet<string> | 'all' = selection.namespaces === 'all'
    ? 'all'
    : new Set([...selection.namespaces, ...selected.map((s) => s.ref.namespace)]);
  const all = objects.kinds().flatMap((kind) => objects.of(kind)).filter((o) => o.kind !== 'ConfigMap' || keepConfigMap(o, scope));
  const { objects: clean, counts: objectCounts } = redactObjects(all);
  addCounts(writer.redactions, objectCounts);
  const clusterFiles: Record<string, number> = {};
  const k8s = clean.filter((o) => !isIstioObject(o));
  const crs = clean.filter((o) => isIstioObject(o));
  if (listed.size > 0 || k8s.length > 0) {
    await writer.write(RESOURCES_FILE, kubeList(k8s));
    clusterFiles[RESOURCES_FILE] = k8s.length;
  }
  if (crs.length > 0 || CAPTURE_KINDS.some((k) => listed.has(k) && k.includes('istio.io'))) {
    await writer.write(CRS_FILE, kubeList(crs));
    clusterFiles[CRS_FILE] = crs.length;
  }
  if (Object.keys(objectCounts).length) {
    writer.redactedFiles[RESOURCES_FILE] = addCounts(writer.redactedFiles[RESOURCES_FILE] ?? {}, objectCounts);
  }
  return clusterFiles;
}

async function capturePod(source: EvidenceSource, fetcher: ArtifactFetcher, writer: SnapshotWriter, ref: PodRef, view: PodView, readOnly: boolean): Promise<PodCapture> {
  const capture: PodCapture = { namespace: ref.namespace, name: ref.name, status: 'ok', files: [], missing: [], unavailable: [] };
  const folder = `proxies/${ref.namespace}/${ref.name}`;
  const plan = podFiles(view);
  /** Set when server_info failed in a way that means the proxy cannot be asked at all. */
  let fatal: { kind: string; message: string } | undefined;

  const fetchOne = async (item: PodFile): Promise<void> => {
    if (item.from === 'proxy' && item.artifact === 'logging' && readOnly) {
      capture.unavailable.push({ file: item.file, reason: 'not asked: --read-only sends no POST /logging' });
      return;
    }
    // No exec (RBAC, no sidecar, timeout): skip the other admin calls, still try the logs (pods/log is another
    // permission); the pod is gone: skip everything.
    if (fatal && (item.from === 'proxy' || fatal.kind === 'not-found')) {
      capture.missing.push({ file: item.file, reason: fatal.message });
      return;
    }
    let evidence: Evidence | undefined;
    try {
      evidence = item.from === 'proxy' ? await fetcher.proxy(ref, item.artifact) : await fetcher.containerLog(ref, item.container);
    } catch (error) {
      const message = expectedMessage(error);
      capture.missing.push({ file: item.file, reason: message });
      capture.error ??= message;
      if (item.from === 'proxy' && item.artifact === 'server_info' && error instanceof MeshDoctorError && POD_FATAL.has(error.kind)) {
        fatal = { kind: error.kind, message };
      }
      return;
    }
    if (evidence === undefined) {
      capture.unavailable.push({ file: item.file, reason: unavailableReason(item, source) });
      return;
    }
    // Outside the try: a write failure is not the pod's fault; it stops the snapshot.
    await writer.write(`${folder}/${item.file}`, evidence.text);
    capture.files.push(item.file);
    if (item.from === 'proxy' && item.artifact === 'server_info') capture.versions = proxyVersions(evidence.text);
  };

  // server_info first (plan order): the cheapest call, and it tells whether the proxy can be asked at all.
  const [first, ...rest] = plan;
  await fetchOne(first!);
  await Promise.all(rest.map(fetchOne));

  const order = new Map(plan.map((p, i) => [p.file, i]));
  const byPlan = (a: { file: string } | string, b: { file: string } | string) =>
    (order.get(typeof a === 'string' ? a : a.file) ?? 0) - (order.get(typeof b === 'string' ? b : b.file) ?? 0);
  capture.files.sort(byPlan);
  capture.missing.sort(byPlan);
  capture.unavailable.sort(byPlan);
  if (capture.missing.length === 0) capture.status = 'ok';
  else capture.status = capture.files.length === 0 ? 'failed' : 'partial';
  if (capture.status !== 'ok') capture.error ??= fatal?.message ?? capture.missing[0]?.reason;
  return capture;
}

/**
 * One istiod's view of its proxies (`pilot-discovery request GET /debug/syncz`,
 * what istioctl proxy-status reads), as a recorded command in the istiod pod's
 * probes/ (docs/snapshot-layout.md), so `check --from` judges sync state as a live check does.
 * A non-zero exit is recorded too: offline then says what live would have said.
 */
async function captureIstiodSync(source: EvidenceSource, writer: SnapshotWriter, istiod: IstiodInstance): Promise<IstiodCapture> {
  const ref = { namespace: istiod.ref.namespace ?? 'istio-system', name: istiod.ref.name };
  const base = { namespace: ref.namespace, name: ref.name };
  let result;
  try {
    result = await source.run(ref, istiod.container, SYNCZ_COMMAND);
  } catch (error) {
    return { ...base, status: 'failed', error: expectedMessage(error) };
  }
  if (!result) return { ...base, status: 'unavailable', error: `not in ${source.label}` };
  const file = `proxies/${ref.namespace}/${ref.name}/probes/syncz.txt`;
  await writer.write(file, formatRecordedProbe({ command: normalizeCommand(SYNCZ_COMMAND), container: istiod.container, exitCode: result.exitCode, stdout: result.text, stderr: result.stderr }));
  return result.exitCode === 0
    ? { ...base, status: 'ok', file }
    : { ...base, status: 'failed', file, error: `exited ${result.exitCode}: ${result.stderr.trim().split('\n')[0] ?? ''}` };
}

function failedPod(ref: PodRef, error: string, view?: PodView): PodCapture {
  const files = view ? podFiles(view) : podFiles({ initContainers: [] });
  return {
    namespace: ref.namespace,
    name: ref.name,
    status: 'failed',
    error,
    files: [],
    missing: files.map((f) => ({ file: f.file, reason: error })),
    unavailable: [],
  };
}

function unavailableReason(item: PodFile, source: EvidenceSource): string {
  if (source.mode === 'snapshot') return `not in ${source.label}`;
  if (item.from === 'proxy' && item.artifact === 'netstat') return 'the proxy image has neither ss nor netstat';
  if (item.from === 'proxy' && item.artifact === 'logging') return 'not asked: --read-only';
  return 'the source does not provide it';
}

/** A failure we expect (MeshDoctorError) becomes its message; anything else is a bug and stops the capture. */
function expectedMessage(error: unknown): string {
  if (error instanceof MeshDoctorError) return error.message;
  throw error;
}

function proxyVersions(serverInfo: string): PodCapture['versions'] | undefined {
  try {
    const info = parseServerInfo(serverInfo, 'server_info');
    const v = info.versions;
    return v.istio || v.envoy ? { ...(v.istio ? { istio: v.istio } : {}), ...(v.envoy ? { envoy: v.envoy } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

async function sourceVersions(source: EvidenceSource): Promise<string | undefined> {
  try {
    return (await source.versions())?.text;
  } catch (error) {
    expectedMessage(error);
    return undefined;
  }
}

/** One `kind: List` document, as `kubectl get -o yaml` writes several kinds. */
export function kubeList(objects: readonly KubeObject[]): string {
  const sorted = [...objects].sort((a, b) => a.kind.localeCompare(b.kind)
    || (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '')
    || a.metadata.name.localeCompare(b.metadata.name));
  return toYaml({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: sorted }, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The `versions` file: free text, what is known. */
export function versionsText(environment: CaptureEnvironment, pods: readonly PodCapture[], fromSource?: string): string {
  const lines = [`${environment.tool.name} version: ${environment.tool.version}`];
  if (environment.kubectl?.client) lines.push(`kubectl client version: ${environment.kubectl.client}`);
  if (environment.kubectl?.server) lines.push(`kubernetes server version: ${environment.kubectl.server}`);
  const withVersions = pods.filter((p) => p.versions);
  const istio = [...new Set(withVersions.map((p) => p.versions?.istio).filter((v): v is string => Boolean(v)))].sort();
  if (istio.length) lines.push(`data plane version: ${istio.map((v) => `${v} (${withVersions.filter((p) => p.versions?.istio === v).length} proxies)`).join(', ')}`);
  for (const pod of withVersions) {
    const parts = [pod.versions?.istio ? `istio ${pod.versions.istio}` : undefined, pod.versions?.envoy ? `envoy ${pod.versions.envoy}` : undefined].filter(Boolean);
    lines.push(`proxy ${pod.namespace}/${pod.name}: ${parts.join(', ')} (from server_info)`);
  }
  let text = lines.join('\n') + '\n';
  if (fromSource && fromSource.trim()) text += `\n# versions recorded by the source snapshot\n${fromSource.trimEnd()}\n`;
  return text;
}

function metaDocument(source: EvidenceSource, options: SnapshotCaptureOptions, summary: CaptureSummary, startedAt: Date, finishedAt: Date, writer: SnapshotWriter): unknown {
  const env = options.environment;
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = undefined;
  }
  const selection = options.selection;
  return {
    schema: SNAPSHOT_META_SCHEMA,
    tool: env.tool,
    capturedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    capturedBy: { ...(user ? { user } : {}) },
    source: { mode: source.mode, label: source.label, ...(env.kube ?? {}) },
    ...(env.kubectl ? { kubectl: env.kubectl } : {}),
    flags: env.flags,
    selection: {
      ...(selection.pods.length ? { pods: selection.pods.map(formatPod) } : {}),
      namespaces: selection.namespaces,
      ...(selection.selector ? { selector: selection.selector } : {}),
    },
    cluster: summary.cluster,
    pods: summary.pods,
    istiod: summary.istiod,
    summary: {
      selected: summary.pods.length,
      ok: summary.pods.filter((p) => p.status === 'ok').length,
      partial: summary.pods.filter((p) => p.status === 'partial').length,
      failed: summary.pods.filter((p) => p.status === 'failed').length,
    },
    warnings: summary.warnings,
    redactions: { total: writer.redactions, files: writer.redactedFiles },
  };
}
