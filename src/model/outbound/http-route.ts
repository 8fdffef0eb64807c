/**
 * Envoy's HTTP routing inside an HTTP connection manager: the virtual host by
 * the Host header (route_config.virtual_hosts[].domains: exact, then the
 * longest `*.suffix`, then the longest `prefix*`, then `*`; case-insensitive;
 * the port is ignored when `ignore_port_in_host_matching` is set, as Istio
 * does since 1.15), then the first route whose match fits the request.
 * Source: envoy/config/route/v3/route_components.proto (VirtualHost.domains)
 * and source/common/router/config_impl.cc (RouteMatcher::findVirtualHost).
 */
import { bool } from '../envoy/json.js';
import type { Route, RouteConfig, VirtualHost } from '../envoy/routes.js';

export interface VirtualHostChoice {
  virtualHost?: VirtualHost;
  /** The domain that matched (`*`, `httpbin.org`, `*.example.com`). */
  domain?: string;
  because: string;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.replace(/\]:\d+$/, ']');
  return host.replace(/:\d+$/, '');
}

export function selectVirtualHost(config: RouteConfig, hostHeader: string): VirtualHostChoice {
  const ignorePort = bool(config.raw, 'ignore_port_in_host_matching') ?? false;
  const host = (ignorePort ? stripPort(hostHeader) : hostHeader).toLowerCase();
  let exact: [VirtualHost, string] | undefined;
  let suffix: [VirtualHost, string] | undefined;
  let prefix: [VirtualHost, string] | undefined;
  let any: [VirtualHost, string] | undefined;
  for (const vh of config.virtualHosts) {
    for (const raw of vh.domains) {
      const d = raw.toLowerCase();
      if (d === '*') {
        any ??= [vh, raw];
      } else if (d.startsWith('*')) {
        const tail = d.slice(1);
        if (host.length > tail.length && host.endsWith(tail) && (!suffix || tail.length > suffix[1].length - 1)) suffix = [vh, raw];
      } else if (d.endsWith('*')) {
        const head = d.slice(0, -1);
        if (host.length > head.length && host.startsWith(head) && (!prefix || head.length > prefix[1].length - 1)) prefix = [vh, raw];
      } else if (d === host && !exact) {
        exact = [vh, raw];
      }
    }
  }
  const pick = exact ?? suffix ?? prefix ?? any;
  if (!pick) return { because: `no virtual host of route config ${config.name || '(inline)'} has a domain matching ${host} and none has "*"` };
  const kind = pick === exact ? 'exact domain' : pick === suffix ? 'suffix wildcard' : pick === prefix ? 'prefix wildcard' : 'the catch-all domain';
  return { virtualHost: pick[0], domain: pick[1], because: `Host ${host} matches ${kind} "${pick[1]}" of virtual host ${pick[0].name}` };
}

export interface RouteChoice {
  route?: Route;
  because: string;
  notes: string[];
}

function regexMatches(pattern: string, path: string): boolean {
  try {
    // RE2 full match; JavaScript's engine accepts the patterns Istio writes.
    return new RegExp(`^(?:${pattern})$`).test(path);
  } catch {
    return false;
  }
}

/** The first route of the virtual host that matches the path (routes with header or query conditions are assumed not to match, and said so). */
export function selectRoute(vh: VirtualHost, path: string): RouteChoice {
  const notes: string[] = [];
  const pathOnly = path.split('?')[0];
  for (const route of vh.routes) {
    const m = route.match;
    let ok: boolean;
    let how: string;
    if (m.path !== undefined) {
      ok = m.path === pathOnly;
      how = `path ${m.path}`;
    } else if (m.prefix !== undefined) {
      ok = pathOnly.startsWith(m.prefix);
      how = `prefix ${m.prefix}`;
    } else if (m.pathSeparatedPrefix !== undefined) {
      ok = pathOnly === m.pathSeparatedPrefix || pathOnly.startsWith(`${m.pathSeparatedPrefix}/`);
      how = `path_separated_prefix ${m.pathSeparatedPrefix}`;
    } else if (m.safeRegex !== undefined) {
      ok = regexMatches(m.safeRegex, pathOnly);
      how = `regex ${m.safeRegex}`;
    } else {
      ok = false;
      how = 'a matcher this simulation does not evaluate';
      notes.push(`route ${route.name ?? '(unnamed)'} uses ${how}`);
    }
    if (ok && (m.headers.length > 0 || m.raw.query_parameters !== undefined || m.raw.queryParameters !== undefined)) {
      notes.push(`route ${route.name ?? '(unnamed)'} also requires headers ${m.headers.join(', ')}; assumed not to match a plain request`);
      continue;
    }
    if (ok) return { route, because: `path ${pathOnly} matches route ${route.name ?? '(unnamed)'} (${how})`, notes };
  }
  return { because: `no route of virtual host ${vh.name} matches path ${pathOnly}`, notes };
}
