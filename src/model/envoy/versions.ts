/**
 * Istio and Envoy versions of a proxy, from the bootstrap node in a config
 * dump or from Envoy's `/server_info`. Istio's version is the node metadata
 * `ISTIO_VERSION`; Envoy's is `user_agent_build_version` or the second field
 * of server_info's `version` (`<sha>/1.27.3/Clean/RELEASE/BoringSSL`).
 * Behaviour that changed across releases (inbound forwarding in 1.10, log
 * formats) is decided with `istioAtLeast`.
 */
import semver from 'semver';
import { ParseError } from '../../errors.js';
import { type JsonObject, durationSeconds, field, isObject, num, obj, str } from './json.js';

export interface EnvoyBuild {
  /** `1.17.1` (the version proper, without `-dev` labels kept in `label`). */
  readonly version: string;
  readonly label?: string;
  readonly revision?: string;
  /** `Clean`, `Modified`, or a vendor string (`OSSM 2.6.7-1`). */
  readonly status?: string;
  readonly buildType?: string;
  readonly sslLibrary?: string;
}

export interface ProxyNode {
  readonly id?: string;
  readonly cluster?: string;
  readonly metadata: JsonObject;
  readonly istioVersion?: string;
  readonly namespace?: string;
  readonly podName?: string;
  readonly labels: Record<string, string>;
  readonly clusterId?: string;
  readonly meshId?: string;
  readonly interceptionMode?: string;
  readonly envoy?: EnvoyBuild;
}

export interface ProxyVersions {
  readonly istio?: string;
  readonly envoy?: string;
  readonly envoyBuild?: EnvoyBuild;
  /** Where the versions were read: `bootstrap` (config dump) or `server_info`. */
  readonly source: 'bootstrap' | 'server_info';
}

/** Reads an envoy.config.core.v3.Node (bootstrap.node or server_info.node). */
export function readNode(node: unknown): ProxyNode {
  const metadata = obj(node, 'metadata') ?? {};
  const labels: Record<string, string> = {};
  const rawLabels = metadata.LABELS;
  if (isObject(rawLabels)) for (const [k, v] of Object.entries(rawLabels)) if (typeof v === 'string') labels[k] = v;
  const envoy = readBuildVersion(obj(node, 'user_agent_build_version'));
  const s = (k: string) => (typeof metadata[k] === 'string' ? (metadata[k] as string) : undefined);
  return {
    id: str(node, 'id'),
    cluster: str(node, 'cluster'),
    metadata,
    istioVersion: s('ISTIO_VERSION'),
    namespace: s('NAMESPACE'),
    podName: s('NAME'),
    labels,
    clusterId: s('CLUSTER_ID'),
    meshId: s('MESH_ID'),
    interceptionMode: s('INTERCEPTION_MODE'),
    ...(envoy ? { envoy } : {}),
  };
}

function readBuildVersion(b: JsonObject | undefined): EnvoyBuild | undefined {
  const v = obj(b, 'version');
  if (!v) return undefined;
  const major = num(v, 'major_number') ?? 0;
  const minor = num(v, 'minor_number') ?? 0;
  const patch = num(v, 'patch') ?? 0;
  const md = obj(b, 'metadata') ?? {};
  const m = (k: string) => (typeof md[k] === 'string' ? (md[k] as string) : undefined);
  return {
    version: `${major}.${minor}.${patch}`,
    label: m('build.label'),
    revision: m('revision.sha'),
    status: m('revision.status'),
    buildType: m('build.type'),
    sslLibrary: m('ssl.version'),
  };
}

/** Parses server_info's `version`: `<sha>/<version>/<status>/<build type>/<ssl>`. */
export function parseEnvoyVersionString(version: string): EnvoyBuild | undefined {
  const parts = version.split('/');
  if (parts.length < 2) return undefined;
  const [revision, ver, status, buildType, sslLibrary] = parts;
  const m = /^(\d+\.\d+\.\d+)(?:-(.+))?$/.exec(ver ?? '');
  if (!m) return undefined;
  return { version: m[1]!, label: m[2], revision, status, buildType, sslLibrary };
}

export interface ServerInfo {
  readonly version: string;
  readonly envoy?: EnvoyBuild;
  /** `LIVE`, `DRAINING`, `PRE_INITIALIZING`, `INITIALIZING`. */
  readonly state?: string;
  /** Seconds since this Envoy process started (changes when the proxy restarts). */
  readonly uptimeCurrentEpochSeconds?: number;
  readonly uptimeAllEpochsSeconds?: number;
  /** command_line_options as printed (`log_level`, `component_log_level`, `concurrency`...). */
  readonly commandLineOptions: JsonObject;
  readonly node: ProxyNode;
  readonly versions: ProxyVersions;
  readonly raw: JsonObject;
}

/** Parses the JSON text of Envoy's `/server_info`. Throws ParseError when it is not one. */
export function parseServerInfo(text: string, what: string): ServerInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ParseError(what, `is not valid JSON (${(e as Error).message}); expected the output of Envoy's /server_info.`, {
      cause: e,
      suggestion: 'Fetch it again with `pilot-agent request GET server_info` and check the output is complete.',
    });
  }
  const version = str(raw, 'version');
  if (!isObject(raw) || version === undefined) {
    throw new ParseError(what, 'is JSON but not Envoy /server_info output: it has no "version" field.');
  }
  const node = readNode(field(raw, 'node'));
  const envoy = parseEnvoyVersionString(version) ?? node.envoy;
  const current = durationSeconds(field(raw, 'uptime_current_epoch'));
  const all = durationSeconds(field(raw, 'uptime_all_epochs'));
  const st = str(raw, 'state');
  return {
    version,
    ...(envoy ? { envoy } : {}),
    ...(st !== undefined ? { state: st } : {}),
    ...(current !== undefined ? { uptimeCurrentEpochSeconds: current } : {}),
    ...(all !== undefined ? { uptimeAllEpochsSeconds: all } : {}),
    commandLineOptions: obj(raw, 'command_line_options') ?? {},
    node,
    versions: {
      ...(node.istioVersion ? { istio: node.istioVersion } : {}),
      ...(envoy ? { envoy: envoy.version, envoyBuild: envoy } : {}),
      source: 'server_info',
    },
    raw,
  };
}

/** Versions from a bootstrap node (config dump). */
export function versionsFromNode(node: ProxyNode): ProxyVersions {
  return {
    ...(node.istioVersion ? { istio: node.istioVersion } : {}),
    ...(node.envoy ? { envoy: node.envoy.version, envoyBuild: node.envoy } : {}),
    source: 'bootstrap',
  };
}

/**
 * True when `version` (e.g. `1.20.8`, `1.9.1-asm.1`, `1.28.0-dev`) is at
 * least `min`. Pre-release labels are ignored, so an ASM or dev build counts
 * as the release it is built from. Unknown versions return undefined: the
 * caller must say which behaviour it assumed.
 */
export function istioAtLeast(version: string | undefined, min: string): boolean | undefined {
  const v = version ? semver.coerce(version) : null;
  const m = semver.coerce(min);
  if (!v || !m) return undefined;
  return semver.gte(v, m);
}

/** Compares two versions loosely (`1.9.1` < `1.10.0`); undefined when either is unreadable. */
export function compareVersions(a: string | undefined, b: string | undefined): number | undefined {
  const va = a ? semver.coerce(a) : null;
  const vb = b ? semver.coerce(b) : null;
  if (!va || !vb) return undefined;
  return semver.compare(va, vb);
}
