// A small Kubernetes API server that serves a snapshot directory as a cluster,
// for end-to-end tests that drive the real kubectl (see README.md here).

import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import type {Duplex} from 'node:stream';
import {mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, statSync} from 'node:fs';
import {x as extractTar} from 'tar';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {WebSocketServer, type WebSocket} from 'ws';
import {parse as parseYaml} from 'yaml';
import {KINDS, VERBS, kindByResource, type KindInfo} from './registry.js';
import {loadSnapshot, readOptional, type K8sObject, type StoredObject} from './snapshot.js';
import {Journal, type JournalEntry} from './journal.js';
import {ProxyState, type Levels} from './envoy-admin.js';
import {buildTable} from './tables.js';
import {parseFieldSelector, parseLabelSelector} from './selectors.js';
import {runCommand, type CommandResult} from './commands.js';

export interface ForbidRule {
  /** RBAC verb: get, list, create (exec is `create pods/exec`), ... */
  verb: string;
  /** `pods`, `pods/exec`, `pods/log`, `services`, `destinationrules.networking.istio.io`... */
  resource: string;
  namespace?: string;
  name?: string;
}

export interface Faults {
  /** requests answered 403 Forbidden */
  forbidden?: ForbidRule[];
  /** how long every exec takes to answer, in ms (at least the EXEC_START_MS every exec has) */
  execLatencyMs?: number;
  /** execs that never answer (the WebSocket stays open); `match` is a substring of the joined argv */
  execHang?: Array<{match?: string; pod?: string; container?: string}>;
  /**
   * Drop the connection after N bytes of output: exec stdout (target `exec`, the
   * default; `match` is a substring of the joined argv) or a log body (target `logs`).
   */
  cutStream?: Array<{afterBytes: number; target?: 'exec' | 'logs'; match?: string; pod?: string; container?: string}>;
  /** restart the pod's proxy (uptime resets, log levels back to bootstrap) once N execs into it completed */
  restartProxyAfterExecs?: Array<{pod: string; after: number}>;
  /** the pod disappears (404) once N API requests (discovery excluded) were served */
  deletePodAfterRequests?: Array<{pod: string; after: number}>;
  /** after N API requests (discovery excluded) the server accepts connections but never answers */
  stopAnsweringAfterRequests?: number;
}

/**
 * A real data plane behind the API server (the mesh lab, test/lab): `kubectl
 * exec` into its pods runs the real command in the pod's network namespace as
 * the container's uid, and `kubectl logs` reads the containers' real output.
 */
export interface LabBackend {
  has(ns: string, pod: string): boolean;
  exec(ns: string, pod: string, container: string, command: string[]): Promise<{stdout: string; stderr: string; exitCode: number}>;
  /** The container's output so far, or undefined when it has none. */
  logText(ns: string, pod: string, container: string): string | undefined;
  /** Envoy's current log levels (POST /logging, read-only), for the journal. */
  levels(ns: string, pod: string): Promise<Levels | undefined>;
}

export interface TestClusterOptions {
  snapshotDir: string;
  /** serve these pods from a real data plane instead of the snapshot */
  lab?: LabBackend;
  /** merged over the snapshot's faults.yaml */
  faults?: Faults;
  /** reported by /version; the kubectl dispatcher picks its client version from it */
  serverVersion?: string;
  /** user named in Forbidden messages */
  user?: string;
  /**
   * How a missing executable fails. `containerd` (default, Kubernetes >= 1.24):
   * the error channel carries an InternalError status, kubectl prints
   * `error: Internal error occurred: ... executable file not found in $PATH: unknown`
   * and exits 1. `exit-code`: the OCI message on stderr and that exit code
   * (dockershim clusters showed 126; a shell says 127).
   */
  missingExecutable?: {style: 'containerd'} | {style: 'exit-code'; code: number};
  port?: number;
  /** serve apidiscovery.k8s.io/v2 aggregated discovery (default true); false exercises kubectl's fallback */
  aggregatedDiscovery?: boolean;
}

export interface TestCluster {
  url: string;
  port: number;
  kubeconfigPath: string;
  /** environment for a kubectl subprocess: KUBECONFIG and a private KUBECACHEDIR */
  env: Record<string, string>;
  contextName: string;
  journal: Journal;
  faults: Faults;
  setFaults(f: Faults): void;
  appendLog(ns: string, pod: string, container: string, line: string): void;
  restartProxy(ns: string, pod: string): void;
  deletePod(ns: string, pod: string): void;
  currentLevels(ns: string, pod: string): Levels;
  bootstrapLevels(ns: string, pod: string): Levels;
  proxyUptimeSeconds(ns: string, pod: string): number;
  /** every object currently served, for assertions */
  objects(): K8sObject[];
  warnings: string[];
  stop(): Promise<void>;
}

interface LogLine {
  text: string;
  /** ms since epoch: the line's own leading timestamp, else the previous line's, else the arrival time of appended lines */
  ts?: number;
}

/** how long a command takes to start, like a kubelet's exec setup */
const EXEC_START_MS = 50;

const TS_RE = /^\[?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\]?/;

export function leadingTimestamp(line: string): number | undefined {
  const m = TS_RE.exec(line);
  if (!m) return undefined;
  const t = Date.parse(m[1]);
  return Number.isNaN(t) ? undefined : t;
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? {details} : {}), code};
}

const HTTP_TEXT: Record<number, string> = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error'};

class HttpError extends Error {
  constructor(readonly code: number, readonly body: Record<string, unknown>) {
    super(String(body.message));
  }
}

/** Minimal protobuf reading: the length-delimited fields of one message, by field number. */
function pbFields(buf: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  let i = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 2) {
      const len = varint();
      const arr = out.get(field) ?? [];
      arr.push(buf.subarray(i, i + len));
      out.set(field, arr);
      i += len;
    } else if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return out;
}

/**
 * k8s.io/apimachinery runtime.Unknown envelope ("k8s\0" + {1 typeMeta, 2 raw}) holding an
 * authorization/v1 SelfSubjectAccessReview {2 spec {1 resourceAttributes {1 namespace, 2 verb,
 * 3 group, 4 version, 5 resource, 6 subresource, 7 name}}}.
 */
function ssarAttributesFromProtobuf(body: Buffer): Record<string, string> | undefined {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') return undefined;
  const raw = pbFields(body.subarray(4)).get(2)?.[0];
  const spec = raw && pbFields(raw).get(2)?.[0];
  const attrs = spec && pbFields(spec).get(1)?.[0];
  if (!attrs) return undefined;
  const f = pbFields(attrs);
  const names = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
  const out: Record<string, string> = {};
  for (let n = 1; n < names.length; n++) {
    const v = f.get(n)?.[0];
    if (v) out[names[n]] = v.toString('utf8');
  }
  return out;
}

function loadFaultsFile(dir: string): Faults {
  for (const f of ['faults.yaml', 'faults.yml']) {
    const p = join(dir, f);
    if (existsSync(p)) return (parseYaml(readFileSync(p, 'utf8')) ?? {}) as Faults;
  }
  return {};
}

export async function startTestCluster(opts: TestClusterOptions): Promise<TestCluster> {
  // a .tar.gz snapshot (what `istioctl bug-report` writes) is unpacked to a temp dir first
  let unpacked: string | undefined;
  let snapshotDir = opts.snapshotDir;
  if (/\.(tar\.gz|tgz)$/.test(snapshotDir) && statSync(snapshotDir).isFile()) {
    unpacked = mkdtempSync(join(tmpdir(), 'mesh-doctor-test-snapshot-'));
    extractTar({file: snapshotDir, cwd: unpacked, sync: true});
    snapshotDir = unpacked;
  }
  const snap = loadSnapshot(snapshotDir);
  const faults: Faults = {...loadFaultsFile(snapshotDir), ...(snap.root !== snapshotDir ? loadFaultsFile(snap.root) : {}), ...(opts.faults ?? {})};
  const user = opts.user ?? 'mesh-doctor-test';
  const serverVersion = opts.serverVersion ?? 'v1.32.4';
  const journal = new Journal();
  const objects: StoredObject[] = [...snap.objects];
  const startedAt = Date.now();
  let resourceVersion = 1000;

  // Pods the snapshot only knows from proxies/<ns>/<pod>/: synthesize a running pod with a sidecar.
  for (const key of snap.proxyDirs.keys()) {
    const [ns, name] = key.split('/');
    if (objects.some((s) => s.info.kind === 'Pod' && s.obj.metadata.name === name && s.obj.metadata.namespace === ns)) continue;
    const dir = snap.proxyDirs.get(key)!;
    const hasInit = existsSync(join(dir, 'istio-init.log'));
    const created = new Date(startedAt - 3600_000).toISOString();
    objects.push({
      info: KINDS.find((k) => k.kind === 'Pod')!,
      obj: {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {name, namespace: ns, creationTimestamp: created, annotations: {'mesh-doctor.test/synthesized': 'from proxies/ directory'}},
        spec: {nodeName: 'mesh-doctor-test-node', containers: [{name: 'istio-proxy', image: 'docker.io/istio/proxyv2'}], ...(hasInit ? {initContainers: [{name: 'istio-init', image: 'docker.io/istio/proxyv2'}]} : {})},
        status: {phase: 'Running', containerStatuses: [{name: 'istio-proxy', ready: true, restartCount: 0, state: {running: {startedAt: created}}}]},
      },
    });
  }
  // Namespaces referenced by objects but not listed.
  const nsKind = KINDS.find((k) => k.kind === 'Namespace')!;
  const nsNames = new Set(objects.filter((s) => s.info.kind === 'Namespace').map((s) => s.obj.metadata.name));
  for (const s of [...objects]) {
    const ns = s.obj.metadata.namespace;
    if (ns && !nsNames.has(ns)) {
      nsNames.add(ns);
      objects.push({info: nsKind, obj: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns, creationTimestamp: new Date(startedAt - 86400_000).toISOString()}, status: {phase: 'Active'}}});
    }
  }
  for (const [i, s] of objects.entries()) {
    s.obj.metadata.resourceVersion ??= String(++resourceVersion);
    s.obj.metadata.uid ??= `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  }

  const proxies = new Map<string, ProxyState>();
  const proxy = (ns: string, pod: string): ProxyState => {
    const key = `${ns}/${pod}`;
    let p = proxies.get(key);
    if (!p) {
      p = new ProxyState(snap.proxyDirs.get(key));
      proxies.set(key, p);
    }
    return p;
  };
  const execCounts = new Map<string, number>();

  // ---- logs ----
  const logs = new Map<string, LogLine[]>();
  const previousLogs = new Map<string, LogLine[]>();
  interface Follower {
    key: string;
    push(l: LogLine): void;
    end(): void;
  }
  const followers = new Set<Follower>();
  const logFileFor = (ns: string, pod: string, container: string): string | undefined => {
    const dir = snap.proxyDirs.get(`${ns}/${pod}`);
    if (container === 'istio-proxy') return readOptional(dir, 'istio-proxy.log');
    if (container === 'istio-init') return readOptional(dir, 'istio-init.log');
    return readOptional(dir, `logs/${container}.log`);
  };
  const logLines = (ns: string, pod: string, container: string): LogLine[] => {
    const key = `${ns}/${pod}/${container}`;
    const fromLab = opts.lab?.has(ns, pod) === true;
    let lines = fromLab ? undefined : logs.get(key);
    if (!lines) {
      lines = [];
      const text = (fromLab ? opts.lab!.logText(ns, pod, container) : logFileFor(ns, pod, container)) ?? '';
      let last: number | undefined;
      for (const t of text.split('\n')) {
        if (t === '' ) continue;
        const ts = leadingTimestamp(t) ?? last;
        last = ts;
        lines.push({text: t, ts});
      }
      if (!fromLab) logs.set(key, lines);
    }
    return lines;
  };

  // ---- sockets, timers, upgrade ----
  const sockets = new Set<Socket | Duplex>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => {
      for (const p of ['v5.channel.k8s.io', 'v4.channel.k8s.io']) if (protocols.has(p)) return p;
      return false;
    },
  });
  let apiRequestCount = 0;
  let silent = false;

  const findObj = (info: KindInfo, ns: string | undefined, name: string) =>
    objects.find((s) => s.info === info && s.obj.metadata.name === name && (!info.namespaced || s.obj.metadata.namespace === ns));

  const forbidden = (verb: string, resource: string, ns: string | undefined, name: string | undefined, group: string) => {
    const rule = (faults.forbidden ?? []).find((r) =>
      r.verb === verb && (r.resource === resource || r.resource === `${resource}${group ? '.' + group : ''}` || r.resource === '*') &&
      (!r.namespace || r.namespace === ns) && (!r.name || r.name === name));
    if (!rule) return undefined;
    const res = resource.split('/')[0];
    const scope = ns ? `in the namespace "${ns}"` : 'at the cluster scope';
    const who = name ? `${res} "${name}"` : res;
    return new HttpError(403, status(403, 'Forbidden', `${who} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`, {...(name ? {name} : {}), ...(group ? {group} : {}), kind: res}));
  };

  const countApiRequest = () => {
    apiRequestCount++;
    for (const d of faults.deletePodAfterRequests ?? []) {
      if (apiRequestCount > d.after) {
        const [ns, name] = d.pod.split('/');
        removePod(ns, name);
      }
    }
    if (faults.stopAnsweringAfterRequests !== undefined && apiRequestCount > faults.stopAnsweringAfterRequests) silent = true;
  };

  const removePod = (ns: string, name: string) => {
    const i = objects.findIndex((s) => s.info.kind === 'Pod' && s.obj.metadata.name === name && s.obj.metadata.namespace === ns);
    if (i >= 0) objects.splice(i, 1);
    for (const f of followers) {
      if (f.key.startsWith(`${ns}/${name}/`)) f.end();
    }
  };

  // ---- routing ----
  interface Route {
    kind: JournalEntry['kind'];
    group?: string;
    version?: string;
    namespace?: string;
    resource?: string;
    name?: string;
    subresource?: string;
  }
  const parseRoute = (path: string): Route => {
    const segs = path.split('/').filter(Boolean);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      if (segs.length <= 2) return {kind: 'discovery'};
      group = '';
      version = segs[1];
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      if (segs.length <= 3) return {kind: 'discovery'};
      group = segs[1];
      version = segs[2];
      rest = segs.slice(3);
    } else {
      return {kind: ['version', 'openapi', 'healthz', 'livez', 'readyz'].includes(segs[0] ?? '') ? 'discovery' : 'other'};
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, subresource] = rest;
    const kind = subresource === 'exec' ? 'exec' : subresource === 'log' ? 'log' : 'api';
    return {kind, group, version, namespace, resource, name, subresource};
  };

  const verbOf = (method: string, r: Route, q: URLSearchParams) => {
    if (r.subresource === 'exec') return 'create';
    if (method === 'GET') return r.name ? 'get' : q.get('watch') === 'true' || q.get('watch') === '1' ? 'watch' : 'list';
    return ({POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: r.name ? 'delete' : 'deletecollection'} as Record<string, string>)[method] ?? method.toLowerCase();
  };

  const queryRecord = (q: URLSearchParams) => {
    const out: Record<string, string[]> = {};
    for (const [k, v] of q) (out[k] ??= []).push(v);
    return out;
  };

  const sendJson = (res: ServerResponse, code: number, body: unknown, contentType = 'application/json') => {
    const text = JSON.stringify(body);
    res.writeHead(code, {'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private'});
    res.end(text);
  };

  const served = () => KINDS.filter((k) => !k.onlyIfPresent || objects.some((s) => s.info === k));
  const groupVersions = () => {
    const groups = new Map<string, string[]>();
    for (const k of served()) {
      if (!k.group) continue;
      const vs = groups.get(k.group) ?? [];
      for (const v of k.versions) if (!vs.includes(v)) vs.push(v);
      groups.set(k.group, vs);
    }
    return groups;
  };
  const apiGroup = (name: string, versions: string[]) => ({
    name,
    versions: versions.map((v) => ({groupVersion: `${name}/${v}`, version: v})),
    preferredVersion: {groupVersion: `${name}/${versions[0]}`, version: versions[0]},
  });
  const aggregated = opts.aggregatedDiscovery ?? true;
  const AGG_RE = /g=apidiscovery\.k8s\.io;\s*v=v2;\s*as=APIGroupDiscoveryList/;
  const aggregatedList = (core: boolean) => {
    const groups = core ? new Map([['', ['v1']]]) : groupVersions();
    return {
      kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
      items: [...groups].map(([g, vs]) => ({
        metadata: {name: g, creationTimestamp: null},
        versions: vs.map((v) => ({
          version: v,
          freshness: 'Current',
          resources: served().filter((k) => k.group === g && k.versions.includes(v)).map((k) => ({
            resource: k.resource,
            responseKind: {group: g, version: v, kind: k.kind},
            scope: k.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: k.singular,
            verbs: k.verbs ?? VERBS,
            ...(k.shortNames?.length ? {shortNames: k.shortNames} : {}),
            ...(k.categories ? {categories: k.categories} : {}),
            ...(k.subresources?.length ? {subresources: k.subresources.map((sub) => ({
              subresource: sub,
              responseKind: {group: '', version: 'v1', kind: sub === 'exec' ? 'PodExecOptions' : sub === 'log' ? 'Pod' : k.kind},
              verbs: sub === 'exec' ? ['create', 'get'] : sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
            }))} : {}),
          })),
        })),
      })),
    };
  };
  const resourceList = (group: string, version: string) => {
    const resources: unknown[] = [];
    for (const k of served()) {
      if (k.group !== group || !k.versions.includes(version)) continue;
      resources.push({name: k.resource, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: k.verbs ?? VERBS,
        ...(k.shortNames?.length ? {shortNames: k.shortNames} : {}), ...(k.categories ? {categories: k.categories} : {}), storageVersionHash: ''});
      for (const sub of k.subresources ?? []) {
        resources.push({name: `${k.resource}/${sub}`, singularName: '', namespaced: k.namespaced, kind: sub === 'exec' || sub === 'log' ? (sub === 'exec' ? 'PodExecOptions' : 'Pod') : k.kind,
          verbs: sub === 'exec' ? ['create', 'get'] : sub === 'log' ? ['get'] : ['get', 'patch', 'update']});
      }
    }
    return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources};
  };

  const discovery = (path: string, req: IncomingMessage, res: ServerResponse) => {
    const segs = path.split('/').filter(Boolean);
    if (path === '/version' || path === '/version/') {
      const [maj, min] = serverVersion.replace(/^v/, '').split('.');
      return sendJson(res, 200, {major: maj, minor: min, gitVersion: serverVersion, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.8', compiler: 'gc', platform: 'linux/amd64'});
    }
    // Aggregated discovery (apidiscovery.k8s.io/v2, what 1.30+ servers answer):
    // one document for /api and one for /apis. With aggregatedDiscovery: false
    // the legacy documents go back as plain application/json and client-go
    // falls back to one request per group version.
    if (aggregated && segs.length === 1 && (segs[0] === 'api' || segs[0] === 'apis') && AGG_RE.test(String(req.headers.accept ?? ''))) {
      return sendJson(res, 200, aggregatedList(segs[0] === 'api'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    }
    if (segs[0] === 'api' && segs.length === 1) {
      return sendJson(res, 200, {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}`}]});
    }
    if (segs[0] === 'api' && segs.length === 2) {
      if (segs[1] !== 'v1') throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return sendJson(res, 200, resourceList('', 'v1'));
    }
    if (segs[0] === 'apis' && segs.length === 1) {
      return sendJson(res, 200, {kind: 'APIGroupList', apiVersion: 'v1', groups: [...groupVersions()].map(([g, vs]) => apiGroup(g, vs))});
    }
    if (segs[0] === 'apis' && segs.length === 2) {
      const vs = groupVersions().get(segs[1]);
      if (!vs) throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return sendJson(res, 200, {kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(segs[1], vs)});
    }
    if (segs[0] === 'apis' && segs.length === 3) {
      const vs = groupVersions().get(segs[1]);
      if (!vs || !vs.includes(segs[2])) throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return sendJson(res, 200, resourceList(segs[1], segs[2]));
    }
    if (segs[0] === 'healthz' || segs[0] === 'livez' || segs[0] === 'readyz') {
      res.writeHead(200, {'Content-Type': 'text/plain'});
      return res.end('ok');
    }
    throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  };

  const present = (s: StoredObject, version: string) => {
    const o = structuredClone(s.obj);
    o.apiVersion = s.info.group ? `${s.info.group}/${version}` : version;
    o.kind = s.info.kind;
    return o;
  };

  const wantsTable = (req: IncomingMessage) => /as=Table/.test(String(req.headers.accept ?? ''));

  const handleApi = (req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams, entry: JournalEntry) => {
    const info = kindByResource(r.group!, r.version!, r.resource!);
    if (!info || !served().includes(info)) throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const verb = entry.verb!;
    const fullResource = r.subresource ? `${info.resource}/${r.subresource}` : info.resource;
    const denied = forbidden(verb, fullResource, r.namespace, r.name, info.group);
    if (denied) throw denied;
    if (req.method !== 'GET') {
      throw new HttpError(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource (test cluster is read-only)'));
    }
    if (verb === 'watch') throw new HttpError(405, status(405, 'MethodNotAllowed', 'watch is not supported by the test cluster'));
    if (r.name) {
      const s = findObj(info, r.namespace, r.name);
      if (!s) throw new HttpError(404, status(404, 'NotFound', `${info.resource}${info.group ? '.' + info.group : ''} "${r.name}" not found`, {name: r.name, ...(info.group ? {group: info.group} : {}), kind: info.resource}));
      if (r.subresource === 'log') return handleLogs(req, res, s, q, entry);
      if (r.subresource && r.subresource !== 'status') throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      if (wantsTable(req)) return sendJson(res, 200, buildTable(info, [s.obj], q.get('includeObject') ?? 'Metadata', String(resourceVersion)), 'application/json;as=Table;v=v1;g=meta.k8s.io');
      return sendJson(res, 200, present(s, r.version!));
    }
    let items = objects.filter((s) => s.info === info && (!r.namespace || s.obj.metadata.namespace === r.namespace));
    try {
      const ls = q.get('labelSelector');
      if (ls) {
        const m = parseLabelSelector(ls);
        items = items.filter((s) => m(s.obj.metadata.labels ?? {}));
      }
      const fs = q.get('fieldSelector');
      if (fs) {
        const m = parseFieldSelector(fs, info.kind);
        items = items.filter((s) => m(s.obj));
      }
    } catch (e) {
      throw new HttpError(400, status(400, 'BadRequest', (e as Error).message));
    }
    items.sort((a, b) => (a.obj.metadata.namespace ?? '').localeCompare(b.obj.metadata.namespace ?? '') || a.obj.metadata.name.localeCompare(b.obj.metadata.name));
    // chunking (kubectl asks limit=500): an opaque continue token holding the offset
    const offset = q.get('continue') ? Number(Buffer.from(q.get('continue')!, 'base64url').toString()) || 0 : 0;
    const limit = Number(q.get('limit') ?? 0);
    let cont: string | undefined;
    if (offset > 0) items = items.slice(offset);
    if (limit > 0 && items.length > limit) {
      items = items.slice(0, limit);
      cont = Buffer.from(String(offset + limit)).toString('base64url');
    }
    if (wantsTable(req)) {
      const table = buildTable(info, items.map((s) => s.obj), q.get('includeObject') ?? 'Metadata', String(resourceVersion)) as {metadata: Record<string, string>};
      if (cont) table.metadata.continue = cont;
      return sendJson(res, 200, table, 'application/json;as=Table;v=v1;g=meta.k8s.io');
    }
    return sendJson(res, 200, {
      kind: `${info.kind}List`,
      apiVersion: info.group ? `${info.group}/${r.version}` : r.version,
      metadata: {resourceVersion: String(resourceVersion), ...(cont ? {continue: cont} : {})},
      items: items.map((s) => {
        const o = present(s, r.version!);
        delete o.apiVersion;
        delete o.kind;
        return o;
      }),
    });
  };

  const containersOf = (pod: K8sObject): string[] => [
    ...(pod.spec?.containers ?? []).map((c: any) => c.name),
    ...(pod.spec?.initContainers ?? []).map((c: any) => c.name),
    ...(pod.spec?.ephemeralContainers ?? []).map((c: any) => c.name),
  ];
  // pkg/registry/core/pod/strategy.go (ExecLocation/LogLocation): the API server itself
  // ignores kubectl's default-container annotation; kubectl sends the container it chose.
  const pickContainer = (pod: K8sObject, requested: string | null): string => {
    const podName = pod.metadata.name;
    const mains: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
    const inits: string[] = (pod.spec?.initContainers ?? []).map((c: any) => c.name);
    let container: string;
    if (requested) {
      if (!containersOf(pod).includes(requested)) {
        throw new HttpError(400, status(400, 'BadRequest', `container ${requested} is not valid for pod ${podName}`));
      }
      container = requested;
    } else if (mains.length === 1) {
      container = mains[0];
    } else {
      throw new HttpError(400, status(400, 'BadRequest', `a container name must be specified for pod ${podName}, choose one of: [${mains.join(' ')}]` + (inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : '')));
    }
    if (!pod.spec?.nodeName) throw new HttpError(400, status(400, 'BadRequest', `pod ${podName} does not have a host assigned`));
    return container;
  };

  const handleLogs = (req: IncomingMessage, res: ServerResponse, s: StoredObject, q: URLSearchParams, entry: JournalEntry) => {
    const ns = s.obj.metadata.namespace!;
    const pod = s.obj.metadata.name;
    const container = pickContainer(s.obj, q.get('container'));
    let lines = logLines(ns, pod, container);
    if (q.get('previous') === 'true') {
      const prev = previousLogs.get(`${ns}/${pod}/${container}`);
      if (!prev) throw new HttpError(400, status(400, 'BadRequest', `previous terminated container "${container}" in pod "${pod}" not found`));
      lines = prev;
    }
    const since = q.get('sinceTime');
    const sinceSeconds = q.get('sinceSeconds');
    const cutoff = since ? Date.parse(since) : sinceSeconds ? Date.now() - Number(sinceSeconds) * 1000 : undefined;
    if (cutoff !== undefined && !Number.isNaN(cutoff)) lines = lines.filter((l) => l.ts !== undefined && l.ts >= cutoff);
    const tail = q.get('tailLines');
    if (tail !== null && Number(tail) >= 0) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
    const timestamps = q.get('timestamps') === 'true';
    // kubelet prefixes RFC3339Nano (Go trims trailing zeros of the fraction)
    const rfc3339Nano = (ms: number) => new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
    const fmt = (l: LogLine) => (timestamps ? `${rfc3339Nano(l.ts ?? startedAt)} ` : '') + l.text + '\n';
    const cut = (faults.cutStream ?? []).find((c) => c.target === 'logs' && (!c.pod || c.pod === `${ns}/${pod}`) && (!c.container || c.container === container));
    res.writeHead(200, {'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private'});
    res.on('error', () => undefined);
    entry.status = 200;
    let written = 0;
    const limitBytes = Number(q.get('limitBytes') ?? 0);
    const write = (text: string): boolean => {
      if (res.writableEnded || res.destroyed) return false;
      if (limitBytes > 0 && written + Buffer.byteLength(text) >= limitBytes) {
        res.end(Buffer.from(text).subarray(0, limitBytes - written));
        return false;
      }
      if (cut && written + Buffer.byteLength(text) > cut.afterBytes) {
        const room = Math.max(0, cut.afterBytes - written);
        res.write(Buffer.from(text).subarray(0, room));
        entry.fault = `cutStream after ${cut.afterBytes} bytes`;
        res.socket?.destroy();
        return false;
      }
      written += Buffer.byteLength(text);
      res.write(text);
      return true;
    };
    for (const l of lines) if (!write(fmt(l))) return;
    if (q.get('follow') === 'true') {
      const follower: Follower = {key: `${ns}/${pod}/${container}`, end: () => res.end(), push: (l) => write(fmt(l))};
      followers.add(follower);
      req.on('close', () => followers.delete(follower));
      res.on('close', () => followers.delete(follower));
      if (opts.lab?.has(ns, pod)) followLabLog(ns, pod, container, follower, res);
      return;
    }
    res.end();
  };

  // A lab container's log grows on disk: poll it, as the kubelet streams a container's file.
  const followLabLog = (ns: string, pod: string, container: string, follower: Follower, res: ServerResponse) => {
    let seen = logLines(ns, pod, container).length;
    const poll = setInterval(() => {
      const now = logLines(ns, pod, container);
      for (const l of now.slice(seen)) follower.push(l);
      seen = now.length;
    }, 100);
    const stop = () => clearInterval(poll);
    res.on('close', stop);
    timers.add(poll);
  };

  // ---- exec ----
  const rejectUpgrade = (socket: Duplex, code: number, body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    socket.end(`HTTP/1.1 ${code} ${HTTP_TEXT[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  };

  const handleExecUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, r: Route, q: URLSearchParams, entry: JournalEntry) => {
    const command = q.getAll('command');
    entry.exec = {container: q.get('container') ?? '', command};
    const denied = forbidden('create', 'pods/exec', r.namespace, r.name, '');
    if (denied) {
      entry.status = 403;
      entry.exec.outcome = 'forbidden';
      return rejectUpgrade(socket, 403, denied.body);
    }
    const s = findObj(KINDS.find((k) => k.kind === 'Pod')!, r.namespace, r.name!);
    if (!s) {
      entry.status = 404;
      entry.exec.outcome = 'pod-not-found';
      return rejectUpgrade(socket, 404, status(404, 'NotFound', `pods "${r.name}" not found`, {name: r.name, kind: 'pods'}));
    }
    let container: string;
    try {
      container = pickContainer(s.obj, q.get('container'));
    } catch (e) {
      const he = e as HttpError;
      entry.status = he.code;
      entry.exec.outcome = 'bad-container';
      return rejectUpgrade(socket, he.code, he.body);
    }
    entry.exec.container = container;
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      entry.status = 400;
      entry.exec.outcome = 'not-websocket';
      return rejectUpgrade(socket, 400, status(400, 'BadRequest', 'Upgrade request required (the test cluster serves exec over WebSocket only)'));
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      entry.status = 101;
      runExec(ws, s.obj, container, command, entry);
    });
  };

  const runExec = (ws: WebSocket, pod: K8sObject, container: string, command: string[], entry: JournalEntry) => {
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name;
    const joined = command.join(' ');
    const podKey = `${ns}/${name}`;
    const hang = (faults.execHang ?? []).find((h) => (!h.match || joined.includes(h.match)) && (!h.pod || h.pod === podKey) && (!h.container || h.container === container));
    if (hang) {
      entry.exec!.outcome = 'hung';
      entry.fault = 'execHang';
      return; // never answer; stop() closes the socket
    }
    const go = () => {
      if (ws.readyState !== ws.OPEN) return;
      if (opts.lab?.has(ns, name)) {
        void labExec(ns, name, container, command, entry).then((result) => answer(result));
        return;
      }
      const st = proxy(ns, name);
      answer(runCommand({
        container, command, pod, proxyDir: snap.proxyDirs.get(podKey), proxyRel: `proxies/${podKey}`, state: st,
        missingExecutable: opts.missingExecutable ?? {style: 'containerd'},
      }));
    };
    const answer = (result: CommandResult) => {
      if (ws.readyState !== ws.OPEN) return;
      entry.exec!.exitCode = result.exitCode;
      if (result.logging) entry.logging = result.logging;
      if (result.adminMutation) entry.adminMutation = result.adminMutation;
      const frame = (ch: number, data: string | Buffer) => ws.send(Buffer.concat([Buffer.from([ch]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
      const cut = (faults.cutStream ?? []).find((c) => (c.target ?? 'exec') === 'exec' && (!c.match || joined.includes(c.match)) && (!c.pod || c.pod === podKey));
      const out = Buffer.from(result.stdout);
      if (cut) {
        const part = out.subarray(0, cut.afterBytes);
        for (let i = 0; i < part.length; i += 16384) frame(1, part.subarray(i, i + 16384));
        entry.exec!.outcome = 'cut';
        entry.fault = `cutStream after ${cut.afterBytes} bytes`;
        // let the frames leave, then drop the TCP connection without a close frame or status
        later(20, () => ws.terminate());
        return;
      }
      for (let i = 0; i < out.length; i += 16384) frame(1, out.subarray(i, i + 16384));
      if (result.stderr) frame(2, result.stderr);
      let statusBody: Record<string, unknown>;
      if (result.statusError) {
        statusBody = result.statusError;
        entry.exec!.outcome = 'failed-status';
      } else if (result.exitCode === 0) {
        statusBody = {metadata: {}, status: 'Success'};
        entry.exec!.outcome = 'completed';
      } else {
        statusBody = {metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${result.exitCode}`,
          reason: 'NonZeroExitCode', details: {causes: [{reason: 'ExitCode', message: String(result.exitCode)}]}};
        entry.exec!.outcome = 'completed';
      }
      frame(3, JSON.stringify(statusBody));
      ws.close(1000);
      // fault: restart the proxy after N execs into this pod
      const n = (execCounts.get(podKey) ?? 0) + 1;
      execCounts.set(podKey, n);
      for (const rf of faults.restartProxyAfterExecs ?? []) {
        if (rf.pod === podKey && n === rf.after) restartProxy(ns, name);
      }
    };
    // client-go registers its streams only after the handshake and drops frames
    // for a stream it does not know yet ("Unknown stream id 1, discarding
    // message"); a real kubelet takes a while to start the process, so wait a bit.
    // A declared latency is the whole time an exec takes to answer; the start is part of it.
    later(Math.max(EXEC_START_MS, faults.execLatencyMs ?? 0), go);
  };

  /**
   * An exec into a lab pod: the real command. A `pilot-agent request POST logging…`
   * is journalled like the emulator's, with the levels read from the real Envoy
   * before and after it (a read-only POST /logging without a query).
   */
  const labExec = async (ns: string, name: string, container: string, command: string[], entry: JournalEntry): Promise<CommandResult> => {
    const loggingQuery = container === 'istio-proxy' && command[1] === 'request' && command[2]?.toUpperCase() === 'POST' ? /^\/?logging\??(.*)$/.exec(command[3] ?? '') : null;
    const before = loggingQuery ? await opts.lab!.levels(ns, name) : undefined;
    const result = await opts.lab!.exec(ns, name, container, command);
    if (loggingQuery && before) {
      const after = (await opts.lab!.levels(ns, name)) ?? {};
      const changed = Object.keys(after).some((k) => after[k] !== before[k]);
      entry.logging = {query: loggingQuery[1], before, after, mutation: changed || loggingQuery[1] !== '', ok: result.exitCode === 0, httpStatus: result.exitCode === 0 ? 200 : 400};
    }
    return result;
  };

  const restartProxy = (ns: string, name: string) => {
    proxy(ns, name).restart();
    // a restarted container starts a fresh log; the old one is `--previous`, and followers end
    const key = `${ns}/${name}/istio-proxy`;
    previousLogs.set(key, logLines(ns, name, 'istio-proxy'));
    logs.set(key, []);
    for (const f of followers) if (f.key === key) f.end();
    const s = objects.find((o) => o.info.kind === 'Pod' && o.obj.metadata.name === name && o.obj.metadata.namespace === ns);
    const cs = (s?.obj.status?.containerStatuses ?? []).find((c: any) => c.name === 'istio-proxy');
    if (cs) {
      const now = new Date().toISOString();
      cs.restartCount = (cs.restartCount ?? 0) + 1;
      cs.lastState = {terminated: {exitCode: 0, reason: 'Completed', startedAt: cs.state?.running?.startedAt, finishedAt: now}};
      cs.state = {running: {startedAt: now}};
      s!.obj.metadata.resourceVersion = String(++resourceVersion);
    }
  };

  // `kubectl auth can-i`: allowed unless a `forbidden` fault matches
  const selfSubjectAccessReview = (req: IncomingMessage, res: ServerResponse, entry: JournalEntry) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      // kubectl's typed clients send protobuf (application/vnd.kubernetes.protobuf); others JSON
      const a = String(req.headers['content-type'] ?? '').includes('protobuf') ? ssarAttributesFromProtobuf(body) : (() => {
        try {
          return JSON.parse(body.toString('utf8'))?.spec?.resourceAttributes;
        } catch {
          return undefined;
        }
      })();
      if (!a) {
        entry.status = 400;
        return sendJson(res, 400, status(400, 'BadRequest', 'invalid SelfSubjectAccessReview'));
      }
      const resource = a.subresource ? `${a.resource}/${a.subresource}` : String(a.resource ?? '');
      const denied = a.resource ? forbidden(String(a.verb ?? ''), resource, a.namespace || undefined, a.name || undefined, String(a.group ?? '')) : undefined;
      entry.status = 201;
      sendJson(res, 201, {kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {creationTimestamp: null}, spec: {resourceAttributes: a},
        status: denied ? {allowed: false} : {allowed: true, reason: 'the test cluster allows it'}});
    });
  };

  // ---- HTTP server ----
  const server = createServer({keepAlive: true}, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const r = parseRoute(url.pathname);
    const q = url.searchParams;
    const entry = journal.add({
      method: req.method ?? 'GET', path: url.pathname, query: queryRecord(q), userAgent: String(req.headers['user-agent'] ?? ''), accept: String(req.headers.accept ?? ''),
      kind: r.kind, namespace: r.namespace, resource: r.resource, name: r.name, subresource: r.subresource,
      ...(r.kind !== 'discovery' && r.kind !== 'other' ? {verb: verbOf(req.method ?? 'GET', r, q)} : {}),
    });
    if (r.kind !== 'discovery') countApiRequest();
    if (silent) {
      entry.fault = 'stopAnswering';
      return; // accept, never answer
    }
    try {
      if (r.kind === 'discovery') return discovery(url.pathname, req, res);
      if (r.kind === 'other') throw new HttpError(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      if (r.kind === 'exec') {
        // Not an upgrade (or SPDY refused by handleUpgrade): answer like the API server would.
        const denied = forbidden('create', 'pods/exec', r.namespace, r.name, '');
        if (denied) throw denied;
        throw new HttpError(400, status(400, 'BadRequest', 'Upgrade request required'));
      }
      if (r.group === 'authorization.k8s.io' && r.resource === 'selfsubjectaccessreviews' && req.method === 'POST') {
        return selfSubjectAccessReview(req, res, entry);
      }
      handleApi(req, res, r, q, entry);
      entry.status ??= res.statusCode;
    } catch (e) {
      if (e instanceof HttpError) {
        entry.status = e.code;
        sendJson(res, e.code, e.body);
      } else {
        entry.status = 500;
        sendJson(res, 500, status(500, 'InternalError', `test cluster: ${(e as Error).stack ?? e}`));
      }
    }
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const r = parseRoute(url.pathname);
    const q = url.searchParams;
    const entry = journal.add({
      method: req.method ?? 'GET', path: url.pathname, query: queryRecord(q), userAgent: String(req.headers['user-agent'] ?? ''), accept: String(req.headers.accept ?? ''),
      kind: r.kind, namespace: r.namespace, resource: r.resource, name: r.name, subresource: r.subresource, verb: r.kind === 'exec' ? 'create' : undefined,
    });
    countApiRequest();
    if (silent) {
      entry.fault = 'stopAnswering';
      return;
    }
    if (r.kind !== 'exec') return rejectUpgrade(socket, 400, status(400, 'BadRequest', 'upgrade not supported on this path'));
    handleExecUpgrade(req, socket, head, r, q, entry);
  });

  const port: number = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve((server.address() as {port: number}).port));
  });
  const url = `http://127.0.0.1:${port}`;
  const tmp = mkdtempSync(join(tmpdir(), 'mesh-doctor-test-cluster-'));
  const kubeconfigPath = join(tmp, 'kubeconfig');
  const contextName = 'mesh-doctor-test';
  writeFileSync(kubeconfigPath, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${contextName}`,
    '  cluster:',
    `    server: ${url}`,
    'users:',
    `- name: ${user}`,
    '  user: {}',
    'contexts:',
    `- name: ${contextName}`,
    '  context:',
    `    cluster: ${contextName}`,
    `    user: ${user}`,
    '    namespace: default',
    `current-context: ${contextName}`,
    '',
  ].join('\n'));

  const appendLog = (ns: string, pod: string, container: string, line: string) => {
    const lines = logLines(ns, pod, container);
    const l: LogLine = {text: line.replace(/\n$/, ''), ts: leadingTimestamp(line) ?? Date.now()};
    lines.push(l);
    for (const f of followers) if (f.key === `${ns}/${pod}/${container}`) f.push(l);
  };

  let stopped = false;
  return {
    url, port, kubeconfigPath, contextName, journal, faults, warnings: snap.warnings,
    env: {KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(tmp, 'cache')},
    setFaults: (f: Faults) => {
      for (const k of Object.keys(faults) as Array<keyof Faults>) delete faults[k];
      Object.assign(faults, f);
      silent = false;
    },
    appendLog,
    restartProxy,
    deletePod: removePod,
    currentLevels: (ns, pod) => proxy(ns, pod).current(),
    bootstrapLevels: (ns, pod) => Object.fromEntries(proxy(ns, pod).bootstrap),
    proxyUptimeSeconds: (ns, pod) => proxy(ns, pod).uptimeSeconds(),
    objects: () => objects.map((s) => s.obj),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const f of followers) f.end();
      followers.clear();
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => {
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      rmSync(tmp, {recursive: true, force: true});
      if (unpacked) rmSync(unpacked, {recursive: true, force: true});
    },
  };
}
