import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MeshDoctorError } from '../errors.js';
import { podView, type PodView } from '../model/k8s/pods.js';
import { parseKubeObjects, ResourceSet, type KubeObject } from '../model/k8s/resources.js';
import { shellQuote } from './shell-quote.js';
import { filterLog } from './log-filter.js';
import { Memo } from './memo.js';
import { normalizeCommand, parseRecordedProbe, type RecordedProbe } from './probes.js';
import {
  ADMIN_PATHS, adminCommand, formatPod,
  type CommandEvidence, type Evidence, type EvidenceSource, type LogOptions, type PodRef, type ProxyArtifact,
} from './source.js';

/**
 * File names an artifact may have in a snapshot, first match wins: what
 * `mesh-doctor snapshot` writes and wrote before, and what `istioctl bug-report`
 * (tools/bug-report/pkg/common: `config_dump`, `stats/prometheus`) and
 * hand-made captures use. writtenName() picks the one it writes.
 */
export const SNAPSHOT_FILES: Record<ProxyArtifact, string[]> = {
  config_dump: ['config_dump?include_eds', 'config_dump', 'config_dump.json'],
  clusters: ['clusters', 'clusters.txt'],
  'clusters.json': ['clusters.json', 'clusters?format=json'],
  listeners: ['listeners', 'listeners.txt'],
  server_info: ['server_info', 'server_info.json'],
  certs: ['certs', 'certs.json'],
  stats: ['stats/prometheus', 'stats.txt', 'stats'],
  memory: ['memory'],
  runtime: ['runtime'],
  logging: ['logging'],
  netstat: ['netstat', 'ss'],
};

/**
 * The name `mesh-doctor snapshot` writes: the first portable one (no `?`, `*`, `:`...,
 * so a snapshot unpacks on Windows too). The config dump is written as `config_dump`,
 * bug-report's own name; `config_dump?include_eds`, what earlier versions wrote, is still read.
 */
export function writtenName(artifact: ProxyArtifact): string {
  return SNAPSHOT_FILES[artifact].find((name) => !/[?*:<>|"\\]/.test(name))!;
}

const RESOURCE_FILES = ['cluster/k8s-resources', 'cluster/k8s-resources.yaml', 'cluster/crs', 'cluster/crs.yaml'];

/** How deep below the given path the snapshot root may sit (bug-report/, a timestamped folder...). */
const MAX_ROOT_DEPTH = 3;

/** Evidence read from a snapshot directory or .tar.gz (design: "The snapshot layout"). */
export class SnapshotSource implements EvidenceSource {
  readonly mode = 'snapshot' as const;
  readonly label: string;
  readonly defaultNamespace: string;
  private readonly root: string;
  private readonly cleanup?: string;
  private readonly memo = new Memo();

  private constructor(root: string, label: string, defaultNamespace: string, cleanup?: string) {
    this.root = root;
    this.label = label;
    this.defaultNamespace = defaultNamespace;
    this.cleanup = cleanup;
  }

  /** Opens a snapshot; a missing path, an unreadable archive or a folder with no snapshot in it is a bad-snapshot error. */
  static async open(location: string, options: { namespace?: string } = {}): Promise<SnapshotSource> {
    const info = await stat(location).catch(() => undefined);
    if (!info) {
      throw new MeshDoctorError('bad-snapshot', `snapshot ${location} does not exist`, {
        suggestion: 'Pass a snapshot directory or .tar.gz to --from (e.g. one written by `kubectl mesh-doctor snapshot` or `istioctl bug-report`).',
      });
    }
    let directory = location;
    let cleanup: string | undefined;
    if (info.isFile()) {
      cleanup = await mkdtemp(path.join(tmpdir(), 'mesh-doctor-'));
      try {
        // tar refuses absolute paths and `..` entries by default, so an archive cannot write outside cleanup.
        // Loaded only for an archive (start-up, docs/performance.md).
        const { extract } = await import('tar');
        await extract({ file: location, cwd: cleanup, strict: true });
      } catch (error) {
        await rm(cleanup, { recursive: true, force: true });
        throw new MeshDoctorError('bad-snapshot', `snapshot ${location} is not a readable .tar.gz (${(error as Error).message})`, {
          suggestion: 'Check the archive with `tar tzf`, or pass the extracted directory to --from.',
          cause: error,
        });
      }
      directory = cleanup;
    }
    const root = await findRoot(directory, MAX_ROOT_DEPTH);
    if (!root) {
      if (cleanup) await rm(cleanup, { recursive: true, force: true });
      throw new MeshDoctorError('bad-snapshot', `${location} holds no snapshot (no proxies/ or cluster/ folder)`, {
        suggestion: 'Point --from at the folder that contains proxies/ and cluster/, or at the archive itself.',
      });
    }
    return new SnapshotSource(root, `snapshot ${location}`, options.namespace ?? 'default', cleanup);
  }

  capturedAt(): Promise<Date | undefined> {
    return this.once('capturedAt', async () => {
      const text = await this.read('meta.json');
      if (text === undefined) return undefined;
      try {
        const at = new Date(String((JSON.parse(text) as { capturedAt?: unknown }).capturedAt));
        return Number.isNaN(at.getTime()) ? undefined : at;
      } catch {
        return undefined;
      }
    });
  }

  async close(): Promise<void> {
    if (this.cleanup) await rm(this.cleanup, { recursive: true, force: true });
  }

  resources(): Promise<ResourceSet> {
    return this.once('resources', async () => {
      const set = new ResourceSet();
      for (const file of RESOURCE_FILES) {
        const text = await this.read(file);
        if (text === undefined) continue;
        for (const object of parseKubeObjects(text, `${this.label}: ${file}`)) set.add(object);
      }
      return set;
    });
  }

  pods(namespace?: string): Promise<PodView[]> {
    return this.once(`pods`, async () => {
      const resources = await this.resources();
      const views = resources.of('Pod').map(podView);
      // A proxy folder without a Pod object (a bare config dump) still counts as a pod with a sidecar.
      for (const ref of await this.proxyFolders()) {
        if (!views.some((p) => p.namespace === ref.namespace && p.name === ref.name)) views.push(syntheticPod(ref));
      }
      return views;
    }).then((all) => (namespace === undefined ? all : all.filter((p) => p.namespace === namespace)));
  }

  async pod(ref: PodRef): Promise<PodView> {
    const found = (await this.pods(ref.namespace)).find((p) => p.name === ref.name);
    if (!found) {
      throw new MeshDoctorError('not-found', `pod ${formatPod(ref)} is not in ${this.label}`, {
        suggestion: `List the pods it holds with \`kubectl mesh-doctor pods --from ...\`, or pass the pod as name.namespace.`,
      });
    }
    return found;
  }

  release(ref: PodRef, what: ProxyArtifact | { container: string }): void {
    this.memo.forget(typeof what === 'string' ? `proxy:${ref.namespace}/${ref.name}:${what}` : `log:${ref.namespace}/${ref.name}:${what.container}`);
  }

  proxy(ref: PodRef, artifact: ProxyArtifact): Promise<Evidence | undefined> {
    return this.once(`proxy:${ref.namespace}/${ref.name}:${artifact}`, async () => {
      for (const name of SNAPSHOT_FILES[artifact]) {
        const file = path.posix.join('proxies', ref.namespace, ref.name, name);
        const text = await this.read(file);
        if (text !== undefined) return { text, file, source: liveEquivalent(ref, artifact) };
      }
      return undefined;
    });
  }

  async containerLog(ref: PodRef, container: string, options: LogOptions = {}): Promise<Evidence | undefined> {
    const text = await this.once(`log:${ref.namespace}/${ref.name}:${container}`, async () => {
      for (const name of [`${container}.log`, `logs/${container}.log`]) {
        const file = path.posix.join('proxies', ref.namespace, ref.name, name);
        const content = await this.read(file);
        if (content !== undefined) return { content, file };
      }
      return undefined;
    });
    if (!text) return undefined;
    const flags = [options.sinceTime ? ` --since-time=${options.sinceTime}` : '', options.tail !== undefined ? ` --tail=${options.tail}` : ''].join('');
    return {
      text: filterLog(text.content, options),
      file: text.file,
      source: `kubectl logs ${ref.name} -n ${ref.namespace} -c ${container}${flags}`,
    };
  }

  async run(ref: PodRef, container: string, argv: readonly string[]): Promise<CommandEvidence | undefined> {
    const wanted = normalizeCommand(argv);
    const probes = await this.once(`probes:${ref.namespace}/${ref.name}`, () => this.recordedProbes(ref));
    const found = probes.find((p) => p.probe.command === wanted && (!p.probe.container || p.probe.container === container));
    if (!found) return this.istiodDebug(ref, container, argv);
    return {
      text: found.probe.stdout,
      stderr: found.probe.stderr,
      exitCode: found.probe.exitCode,
      file: found.file,
      source: execLine(ref, container, argv),
    };
  }

  /**
   * `pilot-discovery request GET URL` in istiod as istioctl bug-report records it:
   * the output in istio/<ns>/<pod>/<URL> (tools/bug-report/pkg/bugreport: GetIstiodInfo
   * runs it for each of common.IstiodDebugURLs, debug/syncz among them, and writes files by URL).
   */
  private async istiodDebug(ref: PodRef, container: string, argv: readonly string[]): Promise<CommandEvidence | undefined> {
    const [binary, request, method, url] = argv;
    if (argv.length !== 4 || binary !== 'pilot-discovery' || request !== 'request' || method !== 'GET' || !url) return undefined;
    const file = path.posix.join('istio', ref.namespace, ref.name, ...url.replace(/^\/+/, '').split('/'));
    const text = await this.read(file);
    if (text === undefined) return undefined;
    return { text, stderr: '', exitCode: 0, file, source: execLine(ref, container, argv) };
  }

  private async recordedProbes(ref: PodRef): Promise<Array<{ file: string; probe: RecordedProbe }>> {
    const folder = path.posix.join('proxies', ref.namespace, ref.name, 'probes');
    let names: string[];
    try {
      names = (await readdir(path.join(this.root, ...folder.split('/')))).filter((n) => n.endsWith('.txt')).sort();
    } catch {
      return [];
    }
    const out: Array<{ file: string; probe: RecordedProbe }> = [];
    for (const name of names) {
      const file = `${folder}/${name}`;
      const probe = parseRecordedProbe((await this.read(file)) ?? '');
      if (probe) out.push({ file, probe });
    }
    return out;
  }

  versions(): Promise<Evidence | undefined> {
    return this.once('versions', async () => {
      const text = await this.read('versions');
      return text === undefined ? undefined : { text, file: 'versions', source: 'istioctl version' };
    });
  }

  /** A file below the snapshot root, or undefined when it is absent. */
  async read(relative: string): Promise<string | undefined> {
    const full = path.join(this.root, ...relative.split('/'));
    if (!full.startsWith(this.root)) return undefined;
    try {
      return await readFile(full, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw new MeshDoctorError('bad-snapshot', `cannot read ${relative} in ${this.label}: ${(error as Error).message}`, { cause: error });
    }
  }

  private async proxyFolders(): Promise<PodRef[]> {
    const refs: PodRef[] = [];
    for (const namespace of await listDirs(path.join(this.root, 'proxies'))) {
      for (const name of await listDirs(path.join(this.root, 'proxies', namespace))) refs.push({ namespace, name });
    }
    return refs;
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.memo.once(key, load);
  }
}

function liveEquivalent(ref: PodRef, artifact: ProxyArtifact): string {
  if (artifact === 'logging') return adminCommand(ref, 'POST', 'logging');
  if (artifact === 'netstat') return `kubectl exec ${ref.name} -n ${ref.namespace} -c istio-proxy -- ss -ltnH`;
  return adminCommand(ref, 'GET', ADMIN_PATHS[artifact] ?? artifact);
}

function syntheticPod(ref: PodRef): PodView {
  const object: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: ref.name, namespace: ref.namespace } };
  return { ...ref, labels: {}, containers: ['istio-proxy'], initContainers: [], hasSidecar: true, proxyReady: undefined, object };
}

async function listDirs(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function findRoot(directory: string, depth: number): Promise<string | undefined> {
  const entries = await listDirs(directory);
  if (entries.includes('proxies') || entries.includes('cluster')) return directory;
  if (depth === 0) return undefined;
  for (const entry of entries) {
    const found = await findRoot(path.join(directory, entry), depth - 1);
    if (found) return found;
  }
  return undefined;
}

/** The `kubectl exec` that would have printed a recorded command's output live. */
function execLine(ref: PodRef, container: string, argv: readonly string[]): string {
  return `kubectl exec ${ref.name} -n ${ref.namespace} -c ${container} -- ${argv.map(shellQuote).join(' ')}`;
}
