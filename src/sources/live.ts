import { MeshDoctorError } from '../errors.js';
import { podView, PROXY_CONTAINER, type PodView } from '../model/k8s/pods.js';
import { parseKubeObjects, ResourceSet, type KubeObject } from '../model/k8s/resources.js';
import { execArgs, kubectlExec, proxySession, type ExecTarget, type ExecTransport } from './exec-transport.js';
import { classifyFailure, Kubectl, type CommandResult, type KubectlOptions } from './kubectl.js';
import { Memo } from './memo.js';
import {
  ADMIN_PATHS, adminCommand, formatPod, LEGACY_AUTH_GROUP, LEGACY_AUTH_KINDS, MESH_KINDS, objectKindOf,
  type CommandEvidence, type Evidence, type EvidenceSource, type LogOptions, type PodRef, type ProxyArtifact,
} from './source.js';

export interface LiveOptions extends KubectlOptions {
  namespace?: string;
  /** --read-only: not even the read-only `POST /logging` query is sent. */
  readOnly: boolean;
  /**
   * How commands run in containers: through one `kubectl proxy` per run (default;
   * falls back to the other by itself), or one `kubectl exec` process per call.
   */
  execTransport?: 'proxy' | 'kubectl-exec';
}

function isLegacyAuth(kind: string): boolean {
  return (LEGACY_AUTH_KINDS as readonly string[]).includes(kind);
}

/**
 * Evidence from a live cluster through kubectl; the sidecar's admin API through `pilot-agent request`.
 * Commands in containers go through an ExecTransport (exec-transport.ts): the evidence names the
 * `kubectl exec` command either way.
 */
export class LiveSource implements EvidenceSource {
  readonly mode = 'live' as const;
  readonly label: string;
  readonly defaultNamespace: string;
  readonly kubectl: Kubectl;
  private readonly memo = new Memo();
  private readonly transport: ExecTransport;

  private constructor(kubectl: Kubectl, label: string, defaultNamespace: string, private readonly readOnly: boolean, transport: LiveOptions['execTransport']) {
    this.kubectl = kubectl;
    const note = kubectl.options.onNote ?? (kubectl.options.onCommand ? (message: string) => process.stderr.write(`${message}\n`) : undefined);
    this.transport = transport === 'kubectl-exec' ? kubectlExec(kubectl) : proxySession(kubectl, { note });
    this.label = label;
    this.defaultNamespace = defaultNamespace;
  }

  static async open(options: LiveOptions): Promise<LiveSource> {
    const kubectl = new Kubectl(options);
    // One call gives both the context and its namespace (kubectl applies --context and --kubeconfig).
    const result = await kubectl.run(['config', 'view', '--minify', '-o', 'json'], { what: 'reading the current context' });
    let config: { 'current-context'?: string; contexts?: Array<{ context?: { namespace?: string } }> } = {};
    try {
      config = JSON.parse(result.stdout);
    } catch {
      // An unreadable answer leaves the defaults below.
    }
    const context = options.context ?? config['current-context'] ?? '';
    const namespace = options.namespace ?? (config.contexts?.[0]?.context?.namespace || 'default');
    return new LiveSource(kubectl, `context ${context}`, namespace, options.readOnly, options.execTransport);
  }

  async close(): Promise<void> {
    await this.transport.close();
    this.kubectl.killAll();
  }

  /** What `kubectl exec` would answer for ARGV in a container (a non-zero exit is a result). */
  private exec(ref: PodRef, container: string, command: readonly string[]): Promise<CommandResult> {
    return this.transport.exec({ pod: ref, container, command });
  }

  private execLine(target: ExecTarget): string {
    return this.kubectl.commandLine(execArgs(target));
  }

  resources(kinds: readonly string[] = MESH_KINDS): Promise<ResourceSet> {
    // Every live diagnosis reads resources, then queries sidecars: start the exec transport meanwhile.
    this.transport.prepare();
    this.prefetch(kinds.filter((kind) => !isLegacyAuth(kind)));
    return Promise.all(kinds.map((kind) => isLegacyAuth(kind) ? this.legacyAuthKind(kind) : this.kind(kind)))
      .then((lists) => new ResourceSet(lists.flat()));
  }

  /**
   * A pre-1.6 authentication kind, listed only when discovery shows it: on a
   * modern cluster, asking for a kind it does not serve would fail the joined
   * listing (prefetch) and make kubectl refresh its discovery cache each run.
   */
  private legacyAuthKind(kind: string): Promise<KubeObject[]> {
    return this.memo.once(`kind:${kind}`, async () => {
      const served = await this.legacyAuthServed();
      if (served && !served.has(kind)) return [];
      return this.listKind(kind);
    });
  }

  /**
   * The legacy kinds the server serves, from kubectl's discovery cache (`--cached`:
   * no request when it is warm); undefined when discovery could not answer, then
   * each kind is listed and an unknown one has no objects.
   */
  private legacyAuthServed(): Promise<Set<string> | undefined> {
    return this.memo.once(`served:${LEGACY_AUTH_GROUP}`, async () => {
      const args = ['api-resources', '--cached', `--api-group=${LEGACY_AUTH_GROUP}`, '-o', 'name'];
      const result = await this.kubectl.run(args, { allowFailure: true, what: `discovering ${LEGACY_AUTH_GROUP}` });
      const names = result.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
      // A partial discovery failure (an unavailable aggregated API) still lists what it found.
      if (result.exitCode !== 0 && names.length === 0) return undefined;
      return new Set(names);
    });
  }

  /**
   * Lists the kinds not fetched yet with one `kubectl get a,b,c -A -o json` (one
   * kubectl process instead of one per kind). If a kind is unknown to the server
   * (Istio's CRDs absent), kubectl fails the whole call: each kind is then fetched
   * on its own, where a missing one simply has no objects.
   */
  private prefetch(kinds: readonly string[]): void {
    const wanted = kinds.filter((kind) => !this.memo.has(`kind:${kind}`) && objectKindOf(kind));
    if (wanted.length < 2) return;
    const joined = wanted.join(',');
    const all = this.kubectl.run(['get', joined, '--all-namespaces', '-o', 'json'], { allowFailure: true, what: `listing ${joined}` }).then((result) => {
      if (result.exitCode !== 0 && /doesn't have a resource type|the server could not find the requested resource/.test(result.stderr)) return undefined;
      if (result.exitCode !== 0) throw classifyFailure(this.kubectl.commandLine(['get', joined, '-A', '-o', 'json']), result, `listing ${joined}`);
      return parseKubeObjects(result.stdout, `kubectl get ${joined}`);
    });
    for (const kind of wanted) {
      this.memo.once(`kind:${kind}`, async () => {
        const objects = await all;
        return objects ? objects.filter((o) => o.kind === objectKindOf(kind)) : this.listKind(kind);
      });
    }
  }

  private kind(kind: string): Promise<KubeObject[]> {
    return this.memo.once(`kind:${kind}`, () => this.listKind(kind));
  }

  private async listKind(kind: string): Promise<KubeObject[]> {
    const result = await this.kubectl.run(['get', kind, '--all-namespaces', '-o', 'json'], { allowFailure: true, what: `listing ${kind}` });
    // Istio's CRDs may be absent (no Istio, or an old one): no objects of that kind, not a failure.
    if (result.exitCode !== 0 && /doesn't have a resource type|the server could not find the requested resource/.test(result.stderr)) return [];
    if (result.exitCode !== 0) {
      throw classifyFailure(this.kubectl.commandLine(['get', kind, '-A', '-o', 'json']), result, `listing ${kind}`);
    }
    return parseKubeObjects(result.stdout, `kubectl get ${kind}`);
  }

  async pods(namespace?: string): Promise<PodView[]> {
    const set = await this.resources(['pods']);
    return set.of('Pod', namespace).map(podView);
  }

  pod(ref: PodRef): Promise<PodView> {
    // Looking up a pod means its sidecar is queried next.
    this.transport.prepare();
    return this.memo.once(`pod:${ref.namespace}/${ref.name}`, async () => {
      const result = await this.kubectl.run(['get', 'pod', ref.name, '-n', ref.namespace, '-o', 'json'], { what: `pod ${formatPod(ref)}` });
      const [object] = parseKubeObjects(result.stdout, `kubectl get pod ${ref.name}`);
      if (!object) throw new MeshDoctorError('not-found', `pod ${formatPod(ref)} not found`);
      return podView(object);
    });
  }

  release(ref: PodRef, what: ProxyArtifact | { container: string }): void {
    // Container logs are not kept (each call fetches): only proxy artifacts are forgotten.
    if (typeof what === 'string') this.memo.forget(`proxy:${ref.namespace}/${ref.name}:${what}`);
  }

  proxy(ref: PodRef, artifact: ProxyArtifact): Promise<Evidence | undefined> {
    return this.memo.once(`proxy:${ref.namespace}/${ref.name}:${artifact}`, async () => {
      if (artifact === 'netstat') return this.sockets(ref);
      if (artifact === 'logging') {
        // POST /logging with no query changes nothing, but it is still a POST: --read-only sends none.
        if (this.readOnly) return undefined;
        return this.admin(ref, 'POST', 'logging');
      }
      const path = ADMIN_PATHS[artifact];
      return path ? this.admin(ref, 'GET', path) : undefined;
    });
  }

  /** One Envoy admin request through `pilot-agent request` (works on distroless proxies). */
  async admin(ref: PodRef, method: 'GET' | 'POST', path: string): Promise<Evidence> {
    const target: ExecTarget = { pod: ref, container: PROXY_CONTAINER, command: ['pilot-agent', 'request', method, path] };
    const result = await this.transport.exec(target);
    if (result.exitCode !== 0) throw classifyFailure(this.execLine(target), result, `${method} ${path} on ${formatPod(ref)}`);
    return { text: result.stdout, source: adminCommand(ref, method, path) };
  }

  /** Listening sockets from whichever tool the proxy image has (ss, then netstat, then cat /proc/net/tcp{,6}). */
  private async sockets(ref: PodRef): Promise<Evidence | undefined> {
    for (const command of [['ss', '-ltnH'], ['netstat', '-natpw']]) {
      const result = await this.exec(ref, PROXY_CONTAINER, command);
      if (result.exitCode === 0) return { text: result.stdout, source: this.execLine({ pod: ref, container: PROXY_CONTAINER, command }) };
    }
    // Images without ss and netstat but with cat can still show the kernel's tables (model/sockets.ts parses both files
    // concatenated). A distroless proxy has no cat either: then the sockets are reported unavailable.
    const texts: string[] = [];
    const sources: string[] = [];
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      const command = ['cat', file];
      const result = await this.exec(ref, PROXY_CONTAINER, command);
      if (result.exitCode !== 0) continue;
      texts.push(result.stdout);
      sources.push(this.execLine({ pod: ref, container: PROXY_CONTAINER, command }));
    }
    if (texts.length > 0) return { text: texts.join('\n'), source: sources.join(' ; ') };
    return undefined;
  }

  async run(ref: PodRef, container: string, argv: readonly string[]): Promise<CommandEvidence> {
    const target: ExecTarget = { pod: ref, container, command: argv };
    const result = await this.transport.exec(target);
    // kubectl's own failures (RBAC, a missing pod or container, a missing executable) are errors;
    // the command's non-zero exit (curl's 35, say) is the evidence.
    if (result.exitCode !== 0 && /^(Error from server|error: |Error in configuration|The connection to the server|Unable to connect)/m.test(result.stderr)) {
      throw classifyFailure(this.execLine(target), result, `running ${argv[0]} in ${formatPod(ref)}/${container}`);
    }
    return { text: result.stdout, stderr: result.stderr, exitCode: result.exitCode, source: this.execLine(target) };
  }

  async containerLog(ref: PodRef, container: string, options: LogOptions = {}): Promise<Evidence | undefined> {
    const args = ['logs', ref.name, '-n', ref.namespace, '-c', container];
    if (options.sinceTime) args.push(`--since-time=${options.sinceTime}`);
    if (options.tail !== undefined) args.push(`--tail=${options.tail}`);
    const source = this.kubectl.commandLine(args);
    // Through the exec transport's kubectl proxy when it has one (no kubectl process per pod).
    const text = await this.transport.log?.({ pod: ref, container, ...options });
    if (text !== undefined) {
      this.kubectl.options.onCommand?.(source);
      return { text, source };
    }
    const result = await this.kubectl.run(args, { what: `logs of ${formatPod(ref)}/${container}` });
    return { text: result.stdout, source };
  }

  async versions(): Promise<Evidence | undefined> {
    return undefined;
  }
}
