/**
 * Defensive accessors over the raw JSON of an Envoy config dump.
 *
 * Envoy's `/config_dump` prints proto field names (`filter_chains`), while
 * `istioctl proxy-config ... -o json` prints protojson's lowerCamelCase
 * (`filterChains`). protojson accepts both on input, so every accessor here
 * does too. Accessors never throw: a field of the wrong JSON type reads as
 * absent, so a view over a strange dump shows less instead of crashing.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const camelCache = new Map<string, string>();

/** `filter_chain_match` -> `filterChainMatch` (protojson's json_name). */
export function camelName(snake: string): string {
  let camel = camelCache.get(snake);
  if (camel === undefined) {
    camel = snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    camelCache.set(snake, camel);
  }
  return camel;
}

/** The value of a proto field, under its proto name or its JSON (camelCase) name. */
export function field(obj: unknown, snake: string): unknown {
  if (!isObject(obj)) return undefined;
  const v = obj[snake];
  if (v !== undefined) return v;
  if (!snake.includes('_')) return undefined;
  return obj[camelName(snake)];
}

export function obj(o: unknown, snake: string): JsonObject | undefined {
  const v = field(o, snake);
  return isObject(v) ? v : undefined;
}

export function str(o: unknown, snake: string): string | undefined {
  const v = field(o, snake);
  return typeof v === 'string' ? v : undefined;
}

/**
 * A number field. protojson writes 64-bit integers as strings and wrapper
 * types (UInt32Value) as bare numbers; both read as a number here.
 */
export function num(o: unknown, snake: string): number | undefined {
  const v = field(o, snake);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (isObject(v) && typeof v.value === 'number') return v.value; // {"value": n} wrapper form
  return undefined;
}

export function bool(o: unknown, snake: string): boolean | undefined {
  const v = field(o, snake);
  if (typeof v === 'boolean') return v;
  if (isObject(v) && typeof v.value === 'boolean') return v.value;
  return undefined;
}

export function arr(o: unknown, snake: string): unknown[] {
  const v = field(o, snake);
  return Array.isArray(v) ? v : [];
}

export function objs(o: unknown, snake: string): JsonObject[] {
  return arr(o, snake).filter(isObject);
}

export function strs(o: unknown, snake: string): string[] {
  return arr(o, snake).filter((v): v is string => typeof v === 'string');
}

/** `type.googleapis.com/envoy.config.cluster.v3.Cluster` -> `envoy.config.cluster.v3.Cluster`. */
export function typeName(typed: unknown): string | undefined {
  const t = isObject(typed) ? typed['@type'] : undefined;
  if (typeof t !== 'string') return undefined;
  const slash = t.lastIndexOf('/');
  return slash >= 0 ? t.slice(slash + 1) : t;
}

/** Last dotted segment of a type name: `...v3.UpstreamTlsContext` -> `UpstreamTlsContext`. */
export function shortTypeName(typed: unknown): string | undefined {
  const t = typeName(typed);
  if (t === undefined) return undefined;
  const dot = t.lastIndexOf('.');
  return dot >= 0 ? t.slice(dot + 1) : t;
}

/** Envoy `SocketAddress` / `Pipe` as found under an `Address`. */
export interface SocketAddress {
  /** IP (or hostname for STRICT_DNS endpoints); for a pipe, its path. */
  readonly address: string;
  readonly port?: number;
  readonly protocol?: string;
  /** True when the Address is a unix domain socket (`pipe`). */
  readonly pipe?: boolean;
}

/** Reads an `envoy.config.core.v3.Address` (`{socket_address: {...}}` or `{pipe: {path}}`). */
export function readAddress(address: unknown): SocketAddress | undefined {
  const sock = obj(address, 'socket_address');
  if (sock) return readSocketAddress(sock);
  const pipe = obj(address, 'pipe');
  if (pipe) return { address: str(pipe, 'path') ?? '', pipe: true };
  return undefined;
}

/** Reads a bare `SocketAddress` (`{address, port_value}`), e.g. `upstream_bind_config.source_address`. */
export function readSocketAddress(sock: unknown): SocketAddress | undefined {
  if (!isObject(sock)) return undefined;
  const protocol = str(sock, 'protocol');
  return {
    address: str(sock, 'address') ?? '',
    port: num(sock, 'port_value'),
    ...(protocol !== undefined ? { protocol } : {}),
  };
}

export function formatAddress(a: SocketAddress | undefined): string {
  if (!a) return '';
  if (a.pipe || a.port === undefined) return a.address;
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Parses a protobuf Duration in JSON form (`"10s"`, `"0.250s"`) to seconds. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v);
    return m ? Number(m[1]) : undefined;
  }
  if (isObject(v) && (typeof v.seconds === 'number' || typeof v.seconds === 'string')) {
    const s = Number(v.seconds);
    const n = typeof v.nanos === 'number' ? v.nanos : 0;
    return Number.isFinite(s) ? s + n / 1e9 : undefined;
  }
  return undefined;
}

/**
 * Istio stamps resources it generated from config with
 * `metadata.filter_metadata.istio.config`, a path such as
 * `/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews`.
 */
export interface IstioConfigRef {
  readonly path: string;
  readonly group?: string;
  readonly version?: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export function parseIstioConfigRef(path: string | undefined): IstioConfigRef | undefined {
  if (!path) return undefined;
  const m = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  return { path, group: m[1], version: m[2], namespace: m[3]!, kind: m[4]!, name: m[5]! };
}

export function istioFilterMetadata(resource: unknown): JsonObject | undefined {
  return obj(obj(obj(resource, 'metadata'), 'filter_metadata'), 'istio');
}
