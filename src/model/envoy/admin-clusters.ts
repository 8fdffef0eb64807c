/**
 * Envoy's `/clusters` admin output: per-host counters and health, per-cluster
 * circuit-breaker thresholds. Both shapes:
 *
 * - text (`/clusters`), one `::`-separated line per value
 *   (source/server/admin/clusters_handler.cc):
 *     outbound|8000||httpbin.foo.svc.cluster.local::default_priority::max_connections::1
 *     outbound|8000||httpbin.foo.svc.cluster.local::172.17.0.14:8080::cx_connect_fail::3
 *     outbound|8000||httpbin.foo.svc.cluster.local::172.17.0.14:8080::health_flags::/failed_outlier_check
 * - JSON (`/clusters?format=json`, envoy.admin.v3.Clusters): cluster_statuses[].host_statuses[]
 *   with `stats` [{name, value}] (zero values omitted by proto3 JSON) and `health_status`
 *   {failed_outlier_check, failed_active_health_check, eds_health_status, ...}.
 *
 * The reference (shared/reference/envoy-istio.md) says why these matter: the
 * per-cluster stats Istio's stats matcher drops by default are still visible
 * here per host (cx_connect_fail, rq_error, failed_outlier_check).
 *
 * Kept with the upstream rules because src/model/envoy/ belongs to another
 * engineer while this is written; it is pure and belongs there eventually.
 * Never throws: unreadable input gives an empty result with `unreadable` set.
 */

export interface UpstreamHostStatus {
  /** `172.17.0.14:8080` (as Envoy prints it). */
  address: string;
  /** Counters and gauges by name: cx_active, cx_connect_fail, cx_total, rq_error, rq_success, rq_timeout, rq_total... */
  counters: Record<string, number>;
  /** Health flags in the text output's words: failed_outlier_check, failed_active_hc, failed_eds_health, ... */
  healthFlags: string[];
  /** No health flag set. */
  healthy: boolean;
  /** The lines (text) or JSON fragment this host was read from, for evidence excerpts. */
  lines: string[];
}

export interface ClusterThresholds {
  priority: 'default' | 'high';
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
}

export interface ClusterStatus {
  name: string;
  hosts: UpstreamHostStatus[];
  thresholds: ClusterThresholds[];
  /** Lines of this cluster that are not per host (thresholds, added_via_api...). */
  lines: string[];
}

export interface AdminClusters {
  format: 'text' | 'json';
  clusters: Map<string, ClusterStatus>;
  /** Set when the text could not be read as either shape. */
  unreadable?: string;
}

const HOST = /^(\[[0-9a-fA-F:.]+\]|[^\s:]+):\d{1,5}$/;
const HOST_LINE = /^([^\s]+?)::(\[[0-9a-fA-F:.]+\]:\d{1,5})::([\w.]+)::(.*)$/;
const THRESHOLD_KEYS: Record<string, keyof Omit<ClusterThresholds, 'priority'>> = {
  max_connections: 'maxConnections',
  max_pending_requests: 'maxPendingRequests',
  max_requests: 'maxRequests',
  max_retries: 'maxRetries',
};

function cluster(map: Map<string, ClusterStatus>, name: string): ClusterStatus {
  let c = map.get(name);
  if (!c) {
    c = { name, hosts: [], thresholds: [], lines: [] };
    map.set(name, c);
  }
  return c;
}

function host(c: ClusterStatus, address: string): UpstreamHostStatus {
  let h = c.hosts.find((x) => x.address === address);
  if (!h) {
    h = { address, counters: {}, healthFlags: [], healthy: true, lines: [] };
    c.hosts.push(h);
  }
  return h;
}

function threshold(c: ClusterStatus, priority: 'default' | 'high'): ClusterThresholds {
  let t = c.thresholds.find((x) => x.priority === priority);
  if (!t) {
    t = { priority };
    c.thresholds.push(t);
  }
  return t;
}

const toNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return undefined;
};

function parseText(text: string): Map<string, ClusterStatus> {
  const out = new Map<string, ClusterStatus>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    // A host line first: an IPv6 host (`[fd00::1]:8080`) contains `::` itself.
    const hostLine = HOST_LINE.exec(line);
    const parts = hostLine ? [hostLine[1], hostLine[2], hostLine[3], hostLine[4]] : line.split('::');
    if (parts.length < 3 || parts[0] === '') continue;
    const [name, second] = parts;
    const c = cluster(out, name);
    if ((second === 'default_priority' || second === 'high_priority') && parts.length === 4) {
      const key = THRESHOLD_KEYS[parts[2]];
      const value = toNumber(parts[3]);
      if (key && value !== undefined) threshold(c, second === 'default_priority' ? 'default' : 'high')[key] = value;
      c.lines.push(line);
    } else if (parts.length === 4 && HOST.test(second)) {
      const h = host(c, second);
      h.lines.push(line);
      const [, , key, value] = parts;
      if (key === 'health_flags') {
        const flags = value.split('/').map((f) => f.trim()).filter((f) => f && f !== 'healthy');
        h.healthFlags = flags;
        h.healthy = flags.length === 0;
      } else {
        const n = toNumber(value);
        if (n !== undefined) h.counters[key] = n;
      }
    } else {
      c.lines.push(line);
    }
  }
  return out;
}

function jsonAddress(a: unknown): string | undefined {
  const sa = (a as { socket_address?: { address?: unknown; port_value?: unknown } } | undefined)?.socket_address;
  if (!sa || typeof sa.address !== 'string') return undefined;
  const port = toNumber(sa.port_value);
  const address = sa.address.includes(':') ? `[${sa.address}]` : sa.address;
  return port === undefined ? address : `${address}:${port}`;
}

const JSON_HEALTH: Record<string, string> = {
  failed_active_health_check: 'failed_active_hc',
  failed_outlier_check: 'failed_outlier_check',
  failed_active_degraded_check: 'degraded_active_hc',
  pending_dynamic_removal: 'pending_dynamic_removal',
  pending_active_hc: 'pending_active_hc',
  excluded_via_immediate_hc_fail: 'excluded_via_immediate_hc_fail',
  active_hc_timeout: 'active_hc_timeout',
};

function parseJson(value: unknown): Map<string, ClusterStatus> | undefined {
  const statuses = (value as { cluster_statuses?: unknown } | undefined)?.cluster_statuses;
  if (!Array.isArray(statuses)) return undefined;
  const out = new Map<string, ClusterStatus>();
  for (const s of statuses) {
    if (!s || typeof s !== 'object') continue;
    const rec = s as Record<string, unknown>;
    if (typeof rec.name !== 'string') continue;
    const c = cluster(out, rec.name);
    const thresholds = (rec.circuit_breakers as { thresholds?: unknown } | undefined)?.thresholds;
    if (Array.isArray(thresholds)) {
      for (const t of thresholds) {
        if (!t || typeof t !== 'object') continue;
        const tr = t as Record<string, unknown>;
        const th = threshold(c, tr.priority === 'HIGH' ? 'high' : 'default');
        for (const [k, key] of Object.entries(THRESHOLD_KEYS)) {
          const n = toNumber(tr[k]);
          if (n !== undefined) th[key] = n;
        }
      }
    }
    const hosts = rec.host_statuses;
    if (!Array.isArray(hosts)) continue;
    for (const hs of hosts) {
      if (!hs || typeof hs !== 'object') continue;
      const hr = hs as Record<string, unknown>;
      const address = jsonAddress(hr.address);
      if (!address) continue;
      const h = host(c, address);
      h.lines.push(JSON.stringify({ address, stats: hr.stats, health_status: hr.health_status }));
      if (Array.isArray(hr.stats)) {
        for (const st of hr.stats) {
          const sr = st as Record<string, unknown> | null;
          if (!sr || typeof sr.name !== 'string') continue;
          // proto3 JSON omits zero values: a stat listed without a value is 0.
          h.counters[sr.name] = toNumber(sr.value) ?? 0;
        }
      }
      const health = hr.health_status as Record<string, unknown> | undefined;
      const flags: string[] = [];
      if (health && typeof health === 'object') {
        for (const [k, flag] of Object.entries(JSON_HEALTH)) if (health[k] === true) flags.push(flag);
        if (health.eds_health_status === 'UNHEALTHY' || health.eds_health_status === 'TIMEOUT') flags.push('failed_eds_health');
        if (health.eds_health_status === 'DRAINING') flags.push('eds_status_draining');
        if (health.eds_health_status === 'DEGRADED') flags.push('degraded_eds_health');
      }
      h.healthFlags = flags;
      h.healthy = flags.length === 0;
    }
  }
  return out;
}

/** Parses `/clusters` text or `/clusters?format=json`. Never throws. */
export function parseAdminClusters(text: string): AdminClusters {
  if (typeof text !== 'string') return { format: 'text', clusters: new Map(), unreadable: 'not text' };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = parseJson(JSON.parse(trimmed));
      if (parsed) return { format: 'json', clusters: parsed };
      return { format: 'json', clusters: new Map(), unreadable: 'JSON without cluster_statuses' };
    } catch (error) {
      return { format: 'json', clusters: new Map(), unreadable: `not valid JSON (${(error as Error).message})` };
    }
  }
  return { format: 'text', clusters: parseText(text) };
}

/** True when outlier detection has ejected the host (`/failed_outlier_check`). */
export function ejected(host: UpstreamHostStatus): boolean {
  return host.healthFlags.includes('failed_outlier_check');
}
