/**
 * Route configurations (envoy.config.route.v3.RouteConfiguration): virtual
 * hosts with their domains, routes with their match and action. Shapes from
 * Envoy's route.proto / route_components.proto and Istio's RDS output
 * (route names `allow_any`, `block_all`, `default`; route metadata
 * `filter_metadata.istio.config` naming the VirtualService).
 */
import {
  type IstioConfigRef,
  type JsonObject,
  field,
  istioFilterMetadata,
  num,
  obj,
  objs,
  parseIstioConfigRef,
  str,
  strs,
} from './json.js';

export type RouteConfigState = 'static' | 'dynamic' | 'inline';

export interface RouteMatch {
  readonly prefix?: string;
  readonly path?: string;
  readonly pathSeparatedPrefix?: string;
  readonly safeRegex?: string;
  /** Header names the route also matches on (values left in `raw`). */
  readonly headers: readonly string[];
  readonly raw: JsonObject;
}

export type RouteAction =
  | { readonly kind: 'cluster'; readonly cluster: string }
  | { readonly kind: 'weighted_clusters'; readonly clusters: readonly { name: string; weight?: number }[] }
  | { readonly kind: 'cluster_header'; readonly header: string }
  | { readonly kind: 'cluster_specifier_plugin'; readonly plugin: string }
  | { readonly kind: 'direct_response'; readonly status?: number; readonly body?: string }
  | { readonly kind: 'redirect'; readonly raw: JsonObject }
  | { readonly kind: 'filter_action' | 'non_forwarding' | 'none' };

export class Route {
  readonly raw: JsonObject;
  constructor(raw: JsonObject) {
    this.raw = raw;
  }
  /** Route name, e.g. `allow_any`, `block_all`, `default`, or the VirtualService route name. */
  get name(): string | undefined {
    return str(this.raw, 'name');
  }
  get match(): RouteMatch {
    const m = obj(this.raw, 'match') ?? {};
    const safeRegex = str(obj(m, 'safe_regex'), 'regex');
    const prefix = str(m, 'prefix');
    const path = str(m, 'path');
    const psp = str(m, 'path_separated_prefix');
    return {
      ...(prefix !== undefined ? { prefix } : {}),
      ...(path !== undefined ? { path } : {}),
      ...(psp !== undefined ? { pathSeparatedPrefix: psp } : {}),
      ...(safeRegex !== undefined ? { safeRegex } : {}),
      headers: objs(m, 'headers').map((h) => str(h, 'name') ?? ''),
      raw: m,
    };
  }
  get action(): RouteAction {
    const route = obj(this.raw, 'route');
    if (route) {
      const cluster = str(route, 'cluster');
      if (cluster !== undefined) return { kind: 'cluster', cluster };
      const wc = obj(route, 'weighted_clusters');
      if (wc) {
        return {
          kind: 'weighted_clusters',
          clusters: objs(wc, 'clusters').map((c) => ({ name: str(c, 'name') ?? '', weight: num(c, 'weight') })),
        };
      }
      const header = str(route, 'cluster_header');
      if (header !== undefined) return { kind: 'cluster_header', header };
      const plugin = str(route, 'cluster_specifier_plugin');
      if (plugin !== undefined) return { kind: 'cluster_specifier_plugin', plugin };
      return { kind: 'none' };
    }
    const dr = obj(this.raw, 'direct_response');
    if (dr) {
      const body = obj(dr, 'body');
      const inline = str(body, 'inline_string');
      return { kind: 'direct_response', status: num(dr, 'status'), ...(inline !== undefined ? { body: inline } : {}) };
    }
    const redirect = obj(this.raw, 'redirect');
    if (redirect) return { kind: 'redirect', raw: redirect };
    if (field(this.raw, 'filter_action') !== undefined) return { kind: 'filter_action' };
    if (field(this.raw, 'non_forwarding_action') !== undefined) return { kind: 'non_forwarding' };
    return { kind: 'none' };
  }
  /** The Istio resource (normally a VirtualService) this route was generated from, if Istio said so. */
  get istioConfig(): IstioConfigRef | undefined {
    return parseIstioConfigRef(str(istioFilterMetadata(this.raw), 'config'));
  }
  get virtualService(): IstioConfigRef | undefined {
    const ref = this.istioConfig;
    return ref && ref.kind === 'virtual-service' ? ref : undefined;
  }
}

export class VirtualHost {
  readonly raw: JsonObject;
  constructor(raw: JsonObject) {
    this.raw = raw;
  }
  get name(): string {
    return str(this.raw, 'name') ?? '';
  }
  get domains(): string[] {
    return strs(this.raw, 'domains');
  }
  get routes(): Route[] {
    return objs(this.raw, 'routes').map((r) => new Route(r));
  }
  /** `ALL` or `EXTERNAL_ONLY` when plaintext requests get a redirect to https (Istio's tls.httpsRedirect). */
  get requireTls(): string | undefined {
    return str(this.raw, 'require_tls');
  }
}

export class RouteConfig {
  readonly raw: JsonObject;
  readonly state: RouteConfigState;
  readonly versionInfo?: string;
  readonly lastUpdated?: string;
  constructor(raw: JsonObject, state: RouteConfigState, versionInfo?: string, lastUpdated?: string) {
    this.raw = raw;
    this.state = state;
    this.versionInfo = versionInfo;
    this.lastUpdated = lastUpdated;
  }
  /** `80`, `9080`, `inbound|9080||`, `outbound|443||host` ... (empty for unnamed inline configs). */
  get name(): string {
    return str(this.raw, 'name') ?? '';
  }
  get virtualHosts(): VirtualHost[] {
    return objs(this.raw, 'virtual_hosts').map((v) => new VirtualHost(v));
  }
  /** Every cluster a route of this config can send to. */
  clusterNames(): string[] {
    const names = new Set<string>();
    for (const vh of this.virtualHosts) {
      for (const r of vh.routes) {
        const a = r.action;
        if (a.kind === 'cluster') names.add(a.cluster);
        else if (a.kind === 'weighted_clusters') for (const c of a.clusters) names.add(c.name);
      }
    }
    return [...names];
  }
}

/** Reads the route configs of a RoutesConfigDump (static_route_configs and dynamic_route_configs). */
export function readRoutesConfigDump(dump: JsonObject): RouteConfig[] {
  const out: RouteConfig[] = [];
  for (const s of objs(dump, 'static_route_configs')) {
    const rc = obj(s, 'route_config');
    if (rc) out.push(new RouteConfig(rc, 'static', undefined, str(s, 'last_updated')));
  }
  for (const d of objs(dump, 'dynamic_route_configs')) {
    const rc = obj(d, 'route_config');
    if (rc) out.push(new RouteConfig(rc, 'dynamic', str(d, 'version_info'), str(d, 'last_updated')));
  }
  return out;
}
