// Emulates `pilot-agent request METHOD PATH` inside an istio-proxy container,
// answered from the snapshot's proxy directory, with a live /logging state.
//
// Behaviour copied from the sources (read through the search tool):
// - envoy source/server/admin/logs_handler.{h,cc}: one query parameter only
//   ("invalid number of parameters"), `level=`, `<name>=`, `paths=a:l,b:l`
//   all-or-nothing ("unknown logger name"), levels are spdlog's
//   `trace debug info warning error critical off` ("unknown logger level"),
//   400 + usage text + the active loggers on error; the list is printed in
//   registry order as `  name: level` after `active loggers:` and ends with a
//   blank line.
// - envoy source/server/admin/admin.cc: a mutating endpoint reached without
//   POST -> 405 "Method GET not allowed, POST required.".
// - istio pilot/pkg/request/command.go: status > 399 except 404 -> error
//   "received unsuccessful status code N: BODY"; the body is printed with
//   Println otherwise. pilot-agent's root command has SilenceUsage only, so
//   cobra prints "Error: ..." on stderr; main() exits with os.Exit(-1) = 255.

import {readOptional} from './snapshot.js';

export const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;

/**
 * Envoy 1.40's logger registry, in its order (source/common/common/logger.h
 * ALL_LOGGER_IDS), as a real 1.40 sidecar lists them (test/lab/emulator-parity.lab.test.ts
 * compares this emulation with the real Envoy byte for byte).
 */
export const DEFAULT_LOGGERS = [
  'a2a', 'admin', 'ai_protocol_manager', 'alternate_protocols_cache', 'aws', 'assert', 'backtrace', 'basic_auth',
  'cache_filter', 'client', 'config', 'connection', 'conn_handler', 'compression', 'credential_injector',
  'decompression', 'dns', 'dubbo', 'envoy_bug', 'ext_authz', 'ext_proc', 'rocketmq', 'file', 'filter',
  'forward_proxy', 'geolocation', 'grpc', 'happy_eyeballs', 'hc', 'health_checker', 'http', 'http2', 'hystrix',
  'init', 'io', 'jwt', 'json_rpc', 'kafka', 'key_value_store', 'lua', 'local_rate_limit', 'main', 'matcher', 'mcp',
  'misc', 'mongo', 'multi_connection', 'notification', 'oauth2', 'quic', 'quic_stream', 'pool', 'rate_limit_quota',
  'rbac', 'rds', 'redis', 'router', 'runtime', 'stats', 'secret', 'sse', 'tap', 'testing', 'thrift', 'tracing',
  'upstream', 'udp', 'wasm', 'websocket', 'golang', 'stats_sinks', 'dynamic_modules', 'ip_tagging',
];

/** Istio's sidecar defaults: `--log-level warning --component-log-level misc:error`. */
export function istioDefaultLevels(): Array<[string, string]> {
  return DEFAULT_LOGGERS.map((n) => [n, n === 'misc' ? 'error' : 'warning']);
}

export function parseLoggingText(text: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  let seen = false;
  for (const line of text.split('\n')) {
    if (/^active loggers:/.test(line)) {
      seen = true;
      continue;
    }
    const m = /^\s+([\w.:/-]+): (\w+)\s*$/.exec(line);
    if (seen && m) out.push([m[1], m[2]]);
  }
  return out.length > 0 ? out : undefined;
}

export type Levels = Record<string, string>;

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** for the journal: a POST /logging call */
  logging?: {query: string; before: Levels; after: Levels; mutation: boolean; ok: boolean; httpStatus: number};
  /** a POST to another state-changing admin endpoint */
  adminMutation?: string;
}

export class ProxyState {
  readonly bootstrap: Array<[string, string]>;
  levels: Array<[string, string]>;
  startedAt: number;
  /** uptime the snapshot recorded at capture; a restart drops it */
  baseUptimeSeconds: number;
  restarts = 0;

  constructor(readonly dir: string | undefined, now = Date.now()) {
    const fromFile = readOptional(dir, 'logging');
    this.bootstrap = (fromFile ? parseLoggingText(fromFile) : undefined) ?? istioDefaultLevels();
    this.levels = this.bootstrap.map(([n, l]) => [n, l]);
    this.startedAt = now;
    const info = readOptional(dir, 'server_info');
    let base = 0;
    if (info) {
      try {
        const j = JSON.parse(info);
        base = parseInt(String(j.uptime_current_epoch ?? '0'), 10) || 0;
      } catch {
        /* not JSON: keep 0 */
      }
    }
    this.baseUptimeSeconds = base;
  }

  restart(now = Date.now()): void {
    this.levels = this.bootstrap.map(([n, l]) => [n, l]);
    this.startedAt = now;
    this.baseUptimeSeconds = 0;
    this.restarts++;
  }

  current(): Levels {
    return Object.fromEntries(this.levels);
  }

  uptimeSeconds(now = Date.now()): number {
    return this.baseUptimeSeconds + Math.floor((now - this.startedAt) / 1000);
  }

  loggingText(): string {
    return 'active loggers:\n' + this.levels.map(([n, l]) => `  ${n}: ${l}\n`).join('') + '\n';
  }
}

interface Parsed {
  path: string;
  params: Array<[string, string]>;
  has(k: string): boolean;
  get(k: string): string | undefined;
}

function parseAdminPath(raw: string): Parsed {
  const p = raw.replace(/^\/+/, '');
  const q = p.indexOf('?');
  const path = q < 0 ? p : p.slice(0, q);
  const params: Array<[string, string]> = [];
  if (q >= 0) {
    for (const part of p.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      params.push([k, v]);
    }
  }
  return {
    path,
    params,
    has: (k) => params.some(([a]) => a === k),
    get: (k) => params.find(([a]) => a === k)?.[1],
  };
}

const MUTATING = new Set([
  'logging', 'reset_counters', 'healthcheck/fail', 'healthcheck/ok', 'quitquitquit', 'drain_listeners',
  'cpuprofiler', 'heapprofiler', 'runtime_modify', 'reopen_logs', 'tracing/enable', 'heap_dump',
]);

const ADMIN_HELP = [
  'admin commands are:',
  '  /: Admin home page',
  '  /certs: print certs on machine',
  '  /clusters: upstream cluster status',
  '  /config_dump: dump current Envoy configs (experimental)',
  '  /listeners: print listener info',
  '  /logging: query/change logging levels',
  '  /memory: print current allocation/heap usage',
  '  /runtime: print runtime values',
  '  /server_info: print server version/status information',
  '  /stats: print server stats',
  '  /stats/prometheus: print server stats in prometheus format',
  '',
].join('\n');

function missing(proxyRel: string, file: string, adminPath: string): ExecResult {
  return {
    stdout: '',
    stderr: `Error: Get "http://localhost:15000/${adminPath}": test cluster: the snapshot has no ${proxyRel}/${file}\n`,
    exitCode: 255,
  };
}

/** Envoy's field-mask semantics, simplified: keep only the listed dotted paths (and @type). */
function applyMask(obj: any, paths: string[]): any {
  if (!obj || typeof obj !== 'object') return obj;
  const out: any = {};
  if ('@type' in obj) out['@type'] = obj['@type'];
  for (const path of paths) {
    const [head, ...rest] = path.split('.');
    if (!(head in obj)) continue;
    const v = obj[head];
    if (rest.length === 0) out[head] = v;
    else if (Array.isArray(v)) out[head] = v.map((x) => applyMask(x, [rest.join('.')]));
    else out[head] = {...(out[head] ?? {}), ...applyMask(v, [rest.join('.')])};
  }
  return out;
}

const RESOURCE_TYPES: Record<string, string> = {
  static_listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.StaticListener',
  dynamic_listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener',
  static_clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster',
  dynamic_active_clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
  dynamic_warming_clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
  static_route_configs: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump.StaticRouteConfig',
  dynamic_route_configs: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig',
  static_endpoint_configs: 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump.StaticEndpointConfig',
  dynamic_endpoint_configs: 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig',
  dynamic_active_secrets: 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
  dynamic_warming_secrets: 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
  static_secrets: 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.StaticSecret',
};

function configDump(text: string, q: Parsed): {body: string; status: number} {
  let dump: any;
  try {
    dump = JSON.parse(text);
  } catch {
    return {body: text, status: 200};
  }
  let configs: any[] = Array.isArray(dump.configs) ? dump.configs : [];
  if (!q.has('include_eds')) configs = configs.filter((c) => !String(c?.['@type'] ?? '').endsWith('EndpointsConfigDump'));
  const mask = q.get('mask')?.split(',').filter(Boolean);
  const resource = q.get('resource');
  if (resource) {
    const items: any[] = [];
    for (const c of configs) {
      if (Array.isArray(c?.[resource])) {
        for (const it of c[resource]) items.push({'@type': RESOURCE_TYPES[resource] ?? 'type.googleapis.com/unknown', ...it});
      }
    }
    if (items.length === 0 && !configs.some((c) => c && resource in c)) {
      return {body: `${resource} not found in config dump`, status: 404};
    }
    return {body: JSON.stringify({configs: mask ? items.map((i) => applyMask(i, mask)) : items}, null, 1), status: 200};
  }
  if (mask) configs = configs.map((c) => applyMask(c, mask));
  return {body: JSON.stringify({...dump, configs}, null, 1), status: 200};
}

function filterStatsText(text: string, q: Parsed): string {
  const filter = q.get('filter');
  const re = filter ? new RegExp(filter) : undefined;
  const usedOnly = q.has('usedonly');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const kept = lines.filter((l) => {
    const i = l.indexOf(': ');
    const name = i < 0 ? l : l.slice(0, i);
    const value = i < 0 ? '' : l.slice(i + 2).trim();
    if (re && !re.test(name)) return false;
    if (usedOnly && (value === '0' || value === 'No recorded values')) return false;
    return true;
  });
  if (q.get('format') === 'json') {
    return JSON.stringify({
      stats: kept.map((l) => {
        const i = l.indexOf(': ');
        const v = l.slice(i + 2).trim();
        return {name: l.slice(0, i), value: /^-?\d+$/.test(v) ? Number(v) : v};
      }),
    });
  }
  return kept.map((l) => l + '\n').join('');
}

function filterPrometheus(text: string, q: Parsed): string {
  const filter = q.get('filter');
  const re = filter ? new RegExp(filter) : undefined;
  const usedOnly = q.has('usedonly');
  if (!re && !usedOnly) return text;
  // Group into families: "# TYPE name" starts one; keep a family if any sample survives.
  const out: string[] = [];
  let header: string[] = [];
  let samples: string[] = [];
  const flush = () => {
    if (samples.length > 0) out.push(...header, ...samples);
    header = [];
    samples = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      if (samples.length > 0 || (header.length > 0 && line.startsWith('# TYPE') && header.some((h) => h.startsWith('# TYPE')))) flush();
      header.push(line);
      continue;
    }
    if (!line.trim()) continue;
    const name = line.replace(/[{ ].*$/, '');
    const value = line.trim().split(/\s+/).pop();
    if (re && !re.test(name)) continue;
    if (usedOnly && value === '0') continue;
    samples.push(line);
  }
  flush();
  return out.map((l) => l + '\n').join('');
}

export interface AdminContext {
  dir: string | undefined;
  /** `proxies/ns/pod`, for messages */
  rel: string;
  state: ProxyState;
  now?: number;
}

/** Envoy's answer to one admin request: HTTP status and body. */
export function adminRequest(ctx: AdminContext, method: string, rawPath: string): {status: number; body: string; result?: Partial<ExecResult>} | ExecResult {
  const q = parseAdminPath(rawPath);
  const {dir, rel, state} = ctx;
  const path = q.path.replace(/\/+$/, '');
  if (MUTATING.has(path) && method !== 'POST') {
    return {status: 405, body: `Method ${method} not allowed, POST required.`};
  }
  switch (path) {
    case 'logging':
      return logging(state, q);
    case 'config_dump': {
      const text = readOptional(dir, 'config_dump?include_eds', 'config_dump', 'config_dump.json');
      if (text === undefined) return missing(rel, 'config_dump?include_eds', rawPath);
      return configDump(text, q);
    }
    case 'clusters': {
      if (q.get('format') === 'json') {
        const text = readOptional(dir, 'clusters.json');
        return text === undefined ? missing(rel, 'clusters.json', rawPath) : {status: 200, body: text};
      }
      const text = readOptional(dir, 'clusters');
      return text === undefined ? missing(rel, 'clusters', rawPath) : {status: 200, body: text};
    }
    case 'listeners': {
      if (q.get('format') === 'json') {
        const text = readOptional(dir, 'listeners.json');
        return text === undefined ? missing(rel, 'listeners.json', rawPath) : {status: 200, body: text};
      }
      const text = readOptional(dir, 'listeners');
      return text === undefined ? missing(rel, 'listeners', rawPath) : {status: 200, body: text};
    }
    case 'stats': {
      if (q.get('format') === 'prometheus') return adminRequest(ctx, method, rawPath.replace(/^\/?stats/, 'stats/prometheus'));
      const text = readOptional(dir, 'stats.txt', 'stats');
      if (text === undefined) return missing(rel, 'stats.txt', rawPath);
      return {status: 200, body: filterStatsText(text, q)};
    }
    case 'stats/prometheus': {
      const text = readOptional(dir, 'stats/prometheus', 'stats.prom');
      if (text === undefined) return missing(rel, 'stats/prometheus', rawPath);
      return {status: 200, body: filterPrometheus(text, q)};
    }
    case 'server_info':
      return {status: 200, body: serverInfo(ctx)};
    case 'certs':
    case 'memory':
    case 'runtime': {
      const text = readOptional(dir, path, `${path}.json`);
      return text === undefined ? missing(rel, path, rawPath) : {status: 200, body: text};
    }
    case 'ready':
      return {status: 200, body: 'LIVE\n'};
    default:
      if (MUTATING.has(path)) return {status: 200, body: 'OK\n', result: {adminMutation: path}};
      return {status: 404, body: `invalid path. ${ADMIN_HELP}`};
  }
}

function serverInfo(ctx: AdminContext): string {
  const now = ctx.now ?? Date.now();
  const up = `${ctx.state.uptimeSeconds(now)}s`;
  const text = readOptional(ctx.dir, 'server_info');
  let j: any;
  if (text) {
    try {
      j = JSON.parse(text);
    } catch {
      return text;
    }
  } else {
    // No recorded server_info: a minimal one, marked as synthesized.
    j = {version: 'unknown/0.0.0/Clean/RELEASE/BoringSSL', state: 'LIVE', hot_restart_version: 'disabled',
      command_line_options: {log_level: 'warning', component_log_level: 'misc:error'},
      node: {metadata: {'mesh-doctor-test': 'synthesized: the snapshot has no server_info'}}};
  }
  j.uptime_current_epoch = up;
  if (ctx.state.restarts > 0 || !j.uptime_all_epochs) j.uptime_all_epochs = up;
  return JSON.stringify(j, null, 2);
}

function logging(state: ProxyState, q: Parsed): {status: number; body: string; result: Partial<ExecResult>} {
  const before = state.current();
  const known = new Set(state.levels.map(([n]) => n));
  const levelOk = (l: string) => (LEVELS as readonly string[]).includes(l);
  let error: string | undefined;
  const changes = new Map<string, string>();
  let all: string | undefined;
  if (q.params.length > 1) error = 'invalid number of parameters';
  else if (q.params.length === 1) {
    const [key, value] = q.params[0];
    if (key === 'group') {
      // logs_handler.cc: groups exist only with fine-grain logging, which Istio's sidecars do not enable.
      error = 'group parameter requires fine-grain logging to be enabled';
    } else if (key === 'level') {
      if (!levelOk(value)) error = 'unknown logger level';
      else all = value;
    } else if (key === 'paths') {
      for (const pair of value.split(',').filter((s) => s.trim().length > 0)) {
        const i = pair.indexOf(':');
        const name = i < 0 ? pair : pair.slice(0, i);
        const level = i < 0 ? '' : pair.slice(i + 1);
        if (!name || !level) {
          error = 'empty logger name or empty logger level';
          break;
        }
        if (!levelOk(level)) {
          error = 'unknown logger level';
          break;
        }
        changes.set(name, level);
      }
      if (!error && [...changes.keys()].some((n) => !known.has(n))) error = 'unknown logger name';
    } else if (!levelOk(value)) error = 'unknown logger level';
    else if (!known.has(key)) error = 'unknown logger name';
    else changes.set(key, value);
  }
  let body = '';
  let status = 200;
  if (error) {
    status = 400;
    body += `error: ${error}\n\n`;
    body += 'usage: /logging?<name>=<level> (change single level)\n';
    body += 'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n';
    body += 'usage: /logging?level=<level> (change all levels)\n';
    body += 'usage: /logging?group=<group_name>:<level> (change group of loggers)\n';
    body += 'levels: ' + LEVELS.map((l) => `${l} `).join('') + '\n';
  } else if (all) {
    state.levels = state.levels.map(([n]) => [n, all!]);
  } else {
    state.levels = state.levels.map(([n, l]) => [n, changes.get(n) ?? l]);
  }
  body += state.loggingText();
  const after = state.current();
  const mutation = Object.keys(after).some((k) => after[k] !== before[k]);
  return {
    status,
    body,
    result: {logging: {query: q.params.map(([k, v]) => `${k}=${v}`).join('&'), before, after, mutation, ok: !error, httpStatus: status}},
  };
}

/** `pilot-agent request METHOD PATH [BODY]` -> what the process prints and its exit code. */
export function pilotAgentRequest(ctx: AdminContext, args: string[]): ExecResult {
  const positional: string[] = [];
  let port = 15000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--debug-port') port = Number(args[++i]);
    else if (a.startsWith('--debug-port=')) port = Number(a.slice('--debug-port='.length));
    else positional.push(a);
  }
  if (positional.length < 2) {
    return {stdout: '', stderr: `Error: requires at least 2 arg(s), only received ${positional.length}\n`, exitCode: 255};
  }
  if (![15000, 15004, 15020, 15021].includes(port)) {
    return {stdout: '', stderr: `Error: debug port ${port} is not in allowed list [15000 15004 15020 15021]\n`, exitCode: 255};
  }
  const [method, path] = positional;
  // Go's http.NewRequest sends the method as given; Envoy compares it with "POST" exactly
  const r = adminRequest(ctx, method, path);
  if ('exitCode' in r) return r;
  const extra = r.result ?? {};
  if (r.status > 399 && r.status !== 404) {
    return {stdout: '', stderr: `Error: received unsuccessful status code ${r.status}: ${r.body}\n`, exitCode: 255, ...extra};
  }
  return {stdout: r.body + '\n', stderr: '', exitCode: 0, ...extra};
}
