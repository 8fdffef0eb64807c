// An in-memory EvidenceSource for the snapshot writer tests: pods, objects,
// artifacts and logs from plain maps, failures injected per pod.
import { MeshDoctorError } from '../../src/errors.js';
import { podView, type PodView } from '../../src/model/k8s/pods.js';
import { ResourceSet, type KubeObject } from '../../src/model/k8s/resources.js';
import { objectKindOf, type CommandEvidence, type Evidence, type EvidenceSource, type LogOptions, type PodRef, type ProxyArtifact } from '../../src/sources/source.js';

export const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
export const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmb28ifQ.c2lnbmF0dXJl';

export function pod(namespace: string, name: string, options: { sidecar?: boolean; init?: boolean; labels?: Record<string, string> } = {}): KubeObject {
  const sidecar = options.sidecar ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: options.labels ?? { app: name.split('-')[0]! } },
    spec: {
      ...(options.init ?? sidecar ? { initContainers: [{ name: 'istio-init', image: 'proxyv2' }] } : {}),
      containers: [{ name: 'app', image: 'app', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }] }, ...(sidecar ? [{ name: 'istio-proxy', image: 'proxyv2' }] : [])],
    },
    status: { phase: 'Running', podIP: '10.0.0.1', containerStatuses: sidecar ? [{ name: 'istio-proxy', ready: true }] : [] },
  };
}

export function serverInfo(istio: string, envoy: string): string {
  return JSON.stringify({
    version: `abc123/${envoy}/Clean/RELEASE/BoringSSL`,
    state: 'LIVE',
    uptime_current_epoch: '100s',
    node: { id: 'sidecar~10.0.0.1~x.foo~foo.svc.cluster.local', metadata: { ISTIO_VERSION: istio } },
    command_line_options: {},
  }, null, 2);
}

export type Failure = MeshDoctorError | Error;

export interface FakeOptions {
  objects: KubeObject[];
  /** Artifacts per pod (`ns/name`), text; absent means undefined (not available). */
  artifacts?: Record<string, Partial<Record<ProxyArtifact, string>>>;
  logs?: Record<string, Record<string, string>>;
  /** Failures per pod for proxy() (every artifact or one), and per container for logs. */
  proxyFailures?: Record<string, Failure | Partial<Record<ProxyArtifact, Failure>>>;
  logFailures?: Record<string, Failure>;
  /** Failure of resources() for a kind. */
  kindFailures?: Record<string, Failure>;
  /** Called before each proxy() call (to interrupt a capture half-way). */
  onProxy?: (ref: PodRef, artifact: ProxyArtifact) => void | Promise<void>;
  readOnly?: boolean;
}

export class FakeSource implements EvidenceSource {
  readonly mode = 'live' as const;
  readonly label = 'context fake';
  readonly defaultNamespace = 'foo';
  readonly calls: string[] = [];
  closed = false;

  constructor(private readonly options: FakeOptions) {}

  async resources(kinds?: readonly string[]): Promise<ResourceSet> {
    const set = new ResourceSet();
    for (const kind of kinds ?? ['*']) {
      const failure = this.options.kindFailures?.[kind];
      if (failure) throw failure;
      for (const object of this.options.objects) if (kind === '*' || matchesKind(object, kind)) set.add(object);
    }
    return set;
  }

  async pods(namespace?: string): Promise<PodView[]> {
    const failure = this.options.kindFailures?.pods;
    if (failure) throw failure;
    return this.options.objects.filter((o) => o.kind === 'Pod').map(podView).filter((p) => namespace === undefined || p.namespace === namespace);
  }

  async pod(ref: PodRef): Promise<PodView> {
    const found = (await this.pods(ref.namespace)).find((p) => p.name === ref.name);
    if (!found) throw new MeshDoctorError('not-found', `pod ${ref.name}.${ref.namespace} not found`);
    return found;
  }

  async proxy(ref: PodRef, artifact: ProxyArtifact): Promise<Evidence | undefined> {
    const key = `${ref.namespace}/${ref.name}`;
    this.calls.push(`proxy ${key} ${artifact}`);
    await this.options.onProxy?.(ref, artifact);
    const failure = this.options.proxyFailures?.[key];
    if (failure instanceof Error) throw failure;
    if (failure?.[artifact]) throw failure[artifact];
    if (artifact === 'logging' && this.options.readOnly) return undefined;
    const text = this.options.artifacts?.[key]?.[artifact];
    return text === undefined ? undefined : { text, source: `fake ${artifact}` };
  }

  async containerLog(ref: PodRef, container: string, _options?: LogOptions): Promise<Evidence | undefined> {
    const key = `${ref.namespace}/${ref.name}`;
    this.calls.push(`log ${key} ${container}`);
    const failure = this.options.logFailures?.[`${key}/${container}`];
    if (failure) throw failure;
    const text = this.options.logs?.[key]?.[container];
    return text === undefined ? undefined : { text, source: `fake logs ${container}` };
  }

  async run(_ref: PodRef, _container: string, _argv: readonly string[]): Promise<CommandEvidence | undefined> {
    return undefined;
  }

  async versions(): Promise<Evidence | undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}


function matchesKind(object: KubeObject, kind: string): boolean {
  return objectKindOf(kind) === object.kind;
}

/** Every admin artifact, with recognisable text. */
export function allArtifacts(name: string, extra: Partial<Record<ProxyArtifact, string>> = {}): Partial<Record<ProxyArtifact, string>> {
  return {
    config_dump: JSON.stringify({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', name }] }),
    clusters: `outbound|80||${name}::observability_name::${name}\n`,
    'clusters.json': JSON.stringify({ cluster_statuses: [] }),
    listeners: `0.0.0.0_15006::0.0.0.0:15006\n`,
    server_info: serverInfo('1.24.1', '1.32.3'),
    certs: JSON.stringify({ certificates: [] }),
    stats: '# TYPE envoy_cluster_upstream_cx_total counter\n',
    memory: JSON.stringify({ allocated: '1' }),
    runtime: JSON.stringify({ entries: {} }),
    logging: 'active loggers:\n  admin: warning\n',
    netstat: 'LISTEN 0 4096 0.0.0.0:15006 0.0.0.0:*\n',
    ...extra,
  };
}
