/**
 * A typed view over Envoy's `/config_dump` (envoy.admin.v3.ConfigDump, as
 * Istio 1.7+ sidecars produce it): `{"configs": [...]}` with one typed dump
 * per `@type` (Bootstrap, Clusters, Listeners, ScopedRoutes, Routes,
 * Endpoints with `?include_eds`, Secrets).
 *
 * Cost model: the text is JSON.parse'd once; the views keep references into
 * that tree and build their wrappers on first use (then cache them). Nothing
 * is deep-copied, so a 50 MB dump costs about what JSON.parse costs.
 */
import { ParseError } from '../../errors.js';
import { Cluster, readClustersConfigDump } from './clusters.js';
import { type ConfigProblem, readConfigProblems } from './config-state.js';
import { ClusterLoadAssignment, readEndpointsConfigDump } from './endpoints.js';
import { type JsonObject, isObject, obj } from './json.js';
import { Listener, readListenersConfigDump } from './listeners.js';
import { RouteConfig, readRoutesConfigDump } from './routes.js';
import { type Secret, readSecretsConfigDump } from './secrets.js';
import { type ProxyNode, type ProxyVersions, readNode, versionsFromNode } from './versions.js';

/** The config dump kinds mesh-doctor reads, by the last segment of their `@type`. */
export type ConfigDumpKind =
  | 'BootstrapConfigDump'
  | 'ClustersConfigDump'
  | 'ListenersConfigDump'
  | 'ScopedRoutesConfigDump'
  | 'RoutesConfigDump'
  | 'EndpointsConfigDump'
  | 'SecretsConfigDump'
  | 'EcdsConfigDump';

const KNOWN_KINDS = new Set<string>([
  'BootstrapConfigDump',
  'ClustersConfigDump',
  'ListenersConfigDump',
  'ScopedRoutesConfigDump',
  'RoutesConfigDump',
  'EndpointsConfigDump',
  'SecretsConfigDump',
  'EcdsConfigDump',
]);

function kindOf(entry: JsonObject): string | undefined {
  const t = entry['@type'];
  if (typeof t !== 'string') return undefined;
  const dot = t.lastIndexOf('.');
  return dot >= 0 ? t.slice(dot + 1) : t;
}

export class ConfigDump {
  /** What was parsed, for messages: `config_dump of productpage-v1.default`. */
  readonly what: string;
  readonly raw: JsonObject;
  /** The typed dumps by kind (the first of each kind, as istioctl reads them). */
  private readonly byKind = new Map<string, JsonObject>();
  /** `@type`s present that mesh-doctor does not read (reported, not an error). */
  readonly unknownTypes: readonly string[];
  private cache: {
    listeners?: Listener[];
    clusters?: Cluster[];
    routes?: RouteConfig[];
    endpoints?: ClusterLoadAssignment[];
    secrets?: Secret[];
    problems?: ConfigProblem[];
    node?: ProxyNode | null;
    listenerByName?: Map<string, Listener>;
    clusterByName?: Map<string, Cluster>;
    routeByName?: Map<string, RouteConfig>;
  } = {};

  constructor(raw: JsonObject, configs: readonly unknown[], what: string) {
    this.what = what;
    this.raw = raw;
    const unknown: string[] = [];
    for (const c of configs) {
      if (!isObject(c)) continue;
      const kind = kindOf(c);
      if (kind === undefined) continue;
      if (!KNOWN_KINDS.has(kind)) unknown.push(String(c['@type']));
      else if (!this.byKind.has(kind)) this.byKind.set(kind, c);
    }
    this.unknownTypes = unknown;
  }

  /** True when the dump has that section (EndpointsConfigDump only with `?include_eds`). */
  has(kind: ConfigDumpKind): boolean {
    return this.byKind.has(kind);
  }

  /** The raw typed dump of a kind, e.g. `section('ListenersConfigDump')`. */
  section(kind: ConfigDumpKind): JsonObject | undefined {
    return this.byKind.get(kind);
  }

  get kinds(): ConfigDumpKind[] {
    return [...this.byKind.keys()] as ConfigDumpKind[];
  }

  /** The bootstrap's node (id, metadata: ISTIO_VERSION, NAMESPACE, NAME, LABELS, CLUSTER_ID; Envoy build). */
  get node(): ProxyNode | undefined {
    if (this.cache.node === undefined) {
      const b = obj(this.byKind.get('BootstrapConfigDump'), 'bootstrap');
      this.cache.node = b && obj(b, 'node') ? readNode(obj(b, 'node')) : null;
    }
    return this.cache.node ?? undefined;
  }

  get versions(): ProxyVersions | undefined {
    const n = this.node;
    return n ? versionsFromNode(n) : undefined;
  }

  /**
   * What Envoy rejected (error_state) or has not made ready (warming) among
   * listeners, clusters, route configs and secrets (model/envoy/config-state.ts).
   */
  get configProblems(): ConfigProblem[] {
    this.cache.problems ??= readConfigProblems({
      listeners: this.byKind.get('ListenersConfigDump'),
      clusters: this.byKind.get('ClustersConfigDump'),
      routes: this.byKind.get('RoutesConfigDump'),
      secrets: this.byKind.get('SecretsConfigDump'),
    });
    return this.cache.problems;
  }

  /** Every listener in the dump: dynamic (active, warming, draining, rejected) in dump order, then static. */
  get allListeners(): Listener[] {
    if (!this.cache.listeners) {
      const d = this.byKind.get('ListenersConfigDump');
      this.cache.listeners = d ? readListenersConfigDump(d) : [];
    }
    return this.cache.listeners;
  }

  /**
   * The listeners Envoy is serving: dynamic active ones then static ones,
   * the set and order istioctl's listener commands start from.
   */
  get listeners(): Listener[] {
    return this.allListeners.filter((l) => l.state === 'active' || l.state === 'static');
  }

  listener(name: string): Listener | undefined {
    if (!this.cache.listenerByName) {
      const m = new Map<string, Listener>();
      for (const l of this.listeners) if (!m.has(l.name)) m.set(l.name, l);
      this.cache.listenerByName = m;
    }
    return this.cache.listenerByName.get(name);
  }

  /** Static, dynamic active and dynamic warming clusters. */
  get clusters(): Cluster[] {
    if (!this.cache.clusters) {
      const d = this.byKind.get('ClustersConfigDump');
      this.cache.clusters = d ? readClustersConfigDump(d) : [];
    }
    return this.cache.clusters;
  }

  /** A cluster by name (the active or static one; warming ones only if nothing else has the name). */
  cluster(name: string): Cluster | undefined {
    if (!this.cache.clusterByName) {
      const m = new Map<string, Cluster>();
      for (const c of this.clusters) {
        const prev = m.get(c.name);
        if (!prev || (prev.state === 'warming' && c.state !== 'warming')) m.set(c.name, c);
      }
      this.cache.clusterByName = m;
    }
    return this.cache.clusterByName.get(name);
  }

  get routeConfigs(): RouteConfig[] {
    if (!this.cache.routes) {
      const d = this.byKind.get('RoutesConfigDump');
      this.cache.routes = d ? readRoutesConfigDump(d) : [];
    }
    return this.cache.routes;
  }

  routeConfig(name: string): RouteConfig | undefined {
    if (!this.cache.routeByName) {
      const m = new Map<string, RouteConfig>();
      for (const r of this.routeConfigs) if (!m.has(r.name)) m.set(r.name, r);
      this.cache.routeByName = m;
    }
    return this.cache.routeByName.get(name);
  }

  /** EDS endpoints; empty when the dump was taken without `?include_eds` (see `has('EndpointsConfigDump')`). */
  get endpoints(): ClusterLoadAssignment[] {
    if (!this.cache.endpoints) {
      const d = this.byKind.get('EndpointsConfigDump');
      this.cache.endpoints = d ? readEndpointsConfigDump(d) : [];
    }
    return this.cache.endpoints;
  }

  get secrets(): Secret[] {
    if (!this.cache.secrets) {
      const d = this.byKind.get('SecretsConfigDump');
      this.cache.secrets = d ? readSecretsConfigDump(d) : [];
    }
    return this.cache.secrets;
  }
}

/** JSON.parse with an error a human can act on. */
export function parseJson(text: string, what: string, expected: string): unknown {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ParseError(what, `is empty; expected ${expected}.`, {
      suggestion: 'Check that the command that produced it succeeded and printed its output.',
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const trimmed = text.trimStart();
    const first = trimmed[0];
    if (first !== '{' && first !== '[') {
      const start = trimmed.slice(0, 60).split('\n')[0];
      throw new ParseError(what, `is not JSON: it starts with "${start}"; expected ${expected}.`, {
        cause: e,
        suggestion: 'The command may have printed an error instead of the dump; run it by hand and read its output.',
      });
    }
    if (/end of JSON input|Unterminated/i.test(message) || positionAtEnd(message, text)) {
      throw new ParseError(what, `is truncated: the JSON stops after ${text.length} characters before it is complete; expected ${expected}.`, {
        cause: e,
        suggestion: 'Fetch it again; a dump cut off by an output limit or a dropped connection cannot be read.',
      });
    }
    throw new ParseError(what, `is not valid JSON (${message}); expected ${expected}.`, { cause: e });
  }
}

function positionAtEnd(message: string, text: string): boolean {
  const m = /position (\d+)/.exec(message);
  return m !== null && Number(m[1]) >= text.trimEnd().length - 1;
}

const DUMP = "an Envoy config dump (the JSON of /config_dump: an object with a \"configs\" list)";

/**
 * Parses the text of Envoy's `/config_dump` (optionally `?include_eds`).
 * Throws ParseError for empty, non-JSON, truncated JSON, or JSON that is not
 * a config dump.
 */
export function parseConfigDump(text: string, what: string): ConfigDump {
  const raw = parseJson(text, what, DUMP);
  return configDumpFromJson(raw, what);
}

/** The same checks as parseConfigDump, for JSON already parsed (e.g. inside a bug-report archive reader). */
export function configDumpFromJson(raw: unknown, what: string): ConfigDump {
  if (Array.isArray(raw)) {
    throw new ParseError(what, `is a JSON list, not ${DUMP}; it may be \`istioctl proxy-config ... -o json\` output, which holds one kind of resource.`, {
      suggestion: 'Read it with parseListenersJson or parseClustersJson, or capture /config_dump instead.',
    });
  }
  if (!isObject(raw)) {
    throw new ParseError(what, `is JSON but not ${DUMP}: it is a ${raw === null ? 'null' : typeof raw}.`);
  }
  const configs = raw.configs;
  if (!Array.isArray(configs)) {
    const keys = Object.keys(raw).slice(0, 5);
    throw new ParseError(
      what,
      `is JSON but not ${DUMP}: ${configs === undefined ? 'it has no "configs" field' : '"configs" is not a list'}${keys.length ? ` (top-level fields: ${keys.join(', ')})` : ''}.`,
    );
  }
  const typed = configs.filter((c) => isObject(c) && typeof c['@type'] === 'string').length;
  if (configs.length > 0 && typed === 0) {
    throw new ParseError(what, `is JSON but not ${DUMP}: none of its ${configs.length} "configs" entries has an "@type".`);
  }
  return new ConfigDump(raw, configs, what);
}

function parseList(text: string, what: string, kind: 'listeners' | 'clusters'): JsonObject[] | ConfigDump {
  const raw = parseJson(text, what, `the JSON of \`istioctl proxy-config ${kind} -o json\` (a list) or of /config_dump`);
  if (isObject(raw) && Array.isArray(raw.configs)) return configDumpFromJson(raw, what);
  if (!Array.isArray(raw)) {
    throw new ParseError(what, `is JSON but not a list of ${kind} (\`istioctl proxy-config ${kind} -o json\`) nor a config dump.`);
  }
  const bad = raw.findIndex((x) => !isObject(x));
  if (bad >= 0) throw new ParseError(what, `is a JSON list, but item ${bad} is not an object, so it is not a list of Envoy ${kind}.`);
  return raw as JsonObject[];
}

/**
 * Parses `istioctl proxy-config listeners <pod> -o json` (a bare list of
 * listeners, protojson camelCase) or a whole config dump. Listeners from a
 * list are in state `bare`.
 */
export function parseListenersJson(text: string, what: string): Listener[] {
  const r = parseList(text, what, 'listeners');
  if (r instanceof ConfigDump) return r.listeners;
  return r.map((l) => new Listener(l, 'bare'));
}

/** Parses `istioctl proxy-config clusters <pod> -o json` (a bare list of clusters) or a whole config dump. */
export function parseClustersJson(text: string, what: string): Cluster[] {
  const r = parseList(text, what, 'clusters');
  if (r instanceof ConfigDump) return r.clusters;
  return r.map((c) => new Cluster(c, 'bare'));
}
