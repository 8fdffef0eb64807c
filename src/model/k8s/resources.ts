import { parseAllDocuments } from 'yaml';
import { ParseError } from '../../errors.js';
import type { ObjectRef } from './ref.js';

export { formatRef, type ObjectRef } from './ref.js';

/**
 * Kubernetes and Istio objects as `kubectl get -o yaml|json` writes them:
 * multi-document YAML, `kind: List` wrappers, or JSON. Kept as plain objects
 * with a typed header; the Istio views in model/istio read their `spec`.
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export function parseKubeObjects(text: string, what: string): KubeObject[] {
  const json = asJson(text);
  if (json !== undefined) {
    const objects: KubeObject[] = [];
    collect(json, objects);
    return objects;
  }
  let documents;
  try {
    // `yaml` also reads JSON, which is YAML 1.2.
    documents = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  } catch (error) {
    throw new ParseError(what, `not YAML or JSON (${(error as Error).message})`, { cause: error });
  }
  if (!Array.isArray(documents)) documents = [documents];
  const objects: KubeObject[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) {
      throw new ParseError(what, `not valid YAML: ${document.errors[0].message.split('\n')[0]}`);
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      // Unresolved or runaway aliases (`*a` without `&a`) fail only here, not while parsing.
      throw new ParseError(what, `not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    collect(value, objects);
  }
  return objects;
}

/**
 * `kubectl get -o json`, what every live read asks for, through JSON.parse: on
 * a listing of 1,000 pods the YAML parser takes some 400 ms, JSON.parse a
 * few milliseconds. Anything else (YAML, a flow mapping that is not JSON) is undefined: the YAML parser reads it.
 */
function asJson(text: string): unknown {
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function collect(value: unknown, into: KubeObject[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, into);
    return;
  }
  const object = value as Record<string, unknown>;
  // `kubectl get a,b -o yaml` wraps everything in `kind: List` (and typed lists like PodList).
  if (Array.isArray(object.items) && typeof object.kind === 'string' && object.kind.endsWith('List')) {
    for (const item of object.items) collect(item, into);
    return;
  }
  if (isKubeObject(object)) into.push(object);
}

function isKubeObject(value: Record<string, unknown>): value is KubeObject {
  const metadata = value.metadata as Record<string, unknown> | undefined;
  return typeof value.kind === 'string' && typeof value.apiVersion === 'string'
    && metadata !== null && typeof metadata === 'object' && typeof metadata.name === 'string';
}

/** The API group of an object: "" for core, "networking.istio.io", ... */
export function apiGroup(object: Pick<KubeObject, 'apiVersion'>): string {
  const slash = object.apiVersion.indexOf('/');
  return slash === -1 ? '' : object.apiVersion.slice(0, slash);
}

export function refOf(object: KubeObject): ObjectRef {
  return { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}

/**
 * Every object a source knows, indexed by kind. Kinds are matched by `kind`
 * (ServiceEntry, DestinationRule, ...) regardless of API version, because
 * Istio serves the same objects under v1alpha3, v1beta1 and v1.
 */
export class ResourceSet {
  private readonly byKind = new Map<string, KubeObject[]>();
  /** Views derived from the objects (Istio's services, ServiceEntries, rules), built once per set; dropped on add. */
  private readonly views = new Map<string, readonly unknown[]>();

  constructor(objects: Iterable<KubeObject> = []) {
    for (const object of objects) this.add(object);
  }

  add(object: KubeObject): void {
    this.views.clear();
    const list = this.byKind.get(object.kind) ?? [];
    const duplicate = list.findIndex((o) => o.metadata.name === object.metadata.name && o.metadata.namespace === object.metadata.namespace);
    if (duplicate === -1) list.push(object);
    else list[duplicate] = object;
    this.byKind.set(object.kind, list);
  }

  of(kind: string, namespace?: string): KubeObject[] {
    const list = this.byKind.get(kind) ?? [];
    return namespace === undefined ? list : list.filter((o) => o.metadata.namespace === namespace);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.of(kind, namespace).find((o) => o.metadata.name === name);
  }

  /**
   * A view of this set built once and shared by every rule and step of a run
   * (a copy of the list each time, so a caller's sort cannot reorder another's).
   */
  view<T>(key: string, build: () => T[]): T[] {
    let cached = this.views.get(key) as T[] | undefined;
    if (!cached) {
      cached = build();
      this.views.set(key, cached);
    }
    return [...cached];
  }

  kinds(): string[] {
    return [...this.byKind.keys()].sort();
  }

  get size(): number {
    let n = 0;
    for (const list of this.byKind.values()) n += list.length;
    return n;
  }
}
