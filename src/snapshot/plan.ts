/**
 * What a snapshot captures: which pods (selection), which files per pod, and
 * how Kubernetes objects are split into cluster/k8s-resources and cluster/crs.
 * Pure: no I/O here (the capture in capture.ts does the fetching).
 */
import { usageError } from '../errors.js';
import { PROXY_CONTAINER, type PodView } from '../model/k8s/pods.js';
import { apiGroup, type KubeObject } from '../model/k8s/resources.js';
import { writtenName } from '../sources/snapshot.js';
import { MESH_KINDS, type PodRef, type ProxyArtifact } from '../sources/source.js';

/** Which pods to capture. */
export interface PodSelection {
  /** Pods named on the command line; when given, namespaces and selector only filter nothing else. */
  pods: PodRef[];
  /** Namespaces to look in when no pod is named; 'all' for -A. */
  namespaces: string[] | 'all';
  /** -l: a Kubernetes label selector. */
  selector?: string;
}

/** Kinds listed for cluster/k8s-resources and cluster/crs (the same the live source reads). */
export const CAPTURE_KINDS: readonly string[] = MESH_KINDS;

export const INIT_CONTAINER = 'istio-init';

/** One file of a pod's folder and where it comes from. */
export type PodFile =
  | { file: string; from: 'proxy'; artifact: ProxyArtifact }
  | { file: string; from: 'log'; container: string };

/**
 * The files captured for a pod, named by writtenName() (portable names the
 * reader knows): the Envoy admin artifacts, then the container logs.
 * server_info comes first: it is the cheapest call and tells whether the proxy answers.
 */
export function podFiles(pod: Pick<PodView, 'initContainers'>): PodFile[] {
  const order: ProxyArtifact[] = ['server_info', 'config_dump', 'clusters', 'clusters.json', 'listeners', 'certs', 'stats', 'memory', 'runtime', 'logging', 'netstat'];
  const files: PodFile[] = order.map((artifact) => ({ file: writtenName(artifact), from: 'proxy' as const, artifact }));
  files.push({ file: `${PROXY_CONTAINER}.log`, from: 'log', container: PROXY_CONTAINER });
  if (pod.initContainers.includes(INIT_CONTAINER)) files.push({ file: `${INIT_CONTAINER}.log`, from: 'log', container: INIT_CONTAINER });
  return files;
}

/** Pods to capture from the pods a source lists: those with a sidecar, in the namespaces, matching the selector. */
export function selectPods(all: readonly PodView[], selection: Omit<PodSelection, 'pods'>): PodView[] {
  const matches = selection.selector ? labelSelector(selection.selector) : () => true;
  const namespaces = selection.namespaces;
  return all
    .filter((p) => p.hasSidecar)
    .filter((p) => namespaces === 'all' || namespaces.includes(p.namespace))
    .filter((p) => matches(p.labels))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

type LabelMatcher = (labels: Record<string, string>) => boolean;

const KEY = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * A Kubernetes label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
 * `a`, `!a`, comma-separated (all must hold). Throws a usage error when it cannot be read.
 */
export function labelSelector(selector: string): LabelMatcher {
  const requirements: LabelMatcher[] = [];
  for (const part of splitSelector(selector)) {
    const text = part.trim();
    if (text === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(text))) {
      const [, key, op, list] = m;
      checkKey(key!, selector);
      const values = list!.split(',').map((v) => v.trim()).filter((v) => v !== '');
      requirements.push(op === 'in'
        ? (labels) => key! in labels && values.includes(labels[key!]!)
        : (labels) => !(key! in labels) || !values.includes(labels[key!]!));
    } else if ((m = /^([^\s!=(),]+)\s*(!=|==|=)\s*([^\s!=(),]*)$/.exec(text))) {
      const [, key, op, value] = m;
      checkKey(key!, selector);
      requirements.push(op === '!='
        ? (labels) => labels[key!] !== value
        : (labels) => labels[key!] === value);
    } else if ((m = /^!\s*([^\s!=(),]+)$/.exec(text))) {
      const key = m[1]!;
      checkKey(key, selector);
      requirements.push((labels) => !(key in labels));
    } else if (/^[^\s!=(),]+$/.test(text)) {
      checkKey(text, selector);
      requirements.push((labels) => text in labels);
    } else {
      throw usageError(`cannot read the label selector "${selector}" at "${text}"`, 'Write it as kubectl takes it: -l app=web,version!=v1 or -l "tier in (a,b)".');
    }
  }
  return (labels) => requirements.every((r) => r(labels));
}

function checkKey(key: string, selector: string): void {
  if (!KEY.test(key)) throw usageError(`"${key}" in the label selector "${selector}" is not a label key`, 'Label keys look like app or app.kubernetes.io/name.');
}

/** Splits at commas outside parentheses. */
function splitSelector(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of selector) {
    if (c === '(') depth++;
    if (c === ')') depth = Math.max(0, depth - 1);
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** Istio objects go to cluster/crs, everything else to cluster/k8s-resources (as bug-report splits them). */
export function isIstioObject(object: Pick<KubeObject, 'apiVersion'>): boolean {
  const group = apiGroup(object);
  return group === 'istio.io' || group.endsWith('.istio.io');
}

/**
 * ConfigMaps are captured only where they are evidence, since a snapshot is
 * meant to be attached to tickets: in the namespaces in scope, and the Istio
 * ones anywhere (mesh config `istio*`, the CA root cert, the sidecar injector),
 * and cluster DNS. With -A every ConfigMap is kept.
 */
export function keepConfigMap(object: KubeObject, scope: ReadonlySet<string> | 'all'): boolean {
  if (scope === 'all') return true;
  const namespace = object.metadata.namespace ?? '';
  if (scope.has(namespace)) return true;
  const name = object.metadata.name;
  return name.startsWith('istio') || (namespace === 'kube-system' && name === 'coredns');
}
