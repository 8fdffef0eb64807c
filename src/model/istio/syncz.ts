/**
 * istiod's view of each proxy it serves: `/debug/syncz` (what `istioctl
 * proxy-status` reads), run in the istiod pod as `pilot-discovery request
 * GET /debug/syncz`. Shape: pilot/pkg/xds/debug.go SyncStatus (json tags:
 * `proxy`, `cluster_id`, `istio_version`, `cluster_sent`/`cluster_acked`,
 * `listener_*`, `route_*`, `endpoint_*`, `extensionconfig_*`, and
 * `resources` keyed by type URL with `sent`, `acked`, `lastError`). The status
 * words are istioctl's (istioctl/pkg/writer/pilot/status.go): nothing sent is
 * NOT SENT, the sent nonce acknowledged is SYNCED, never acknowledged or an
 * older nonce acknowledged is STALE; a last error is the proxy's NACK.
 */
import { isObject } from '../envoy/json.js';
import { parseJson } from '../envoy/config-dump.js';

/** The command istioctl proxy-status and bug-report run in istiod's discovery container. */
export const SYNCZ_COMMAND: readonly string[] = ['pilot-discovery', 'request', 'GET', '/debug/syncz'];

export type SyncState = 'SYNCED' | 'NOT SENT' | 'STALE' | 'STALE (Never Acknowledged)' | 'NACKED';

export interface TypeSync {
  /** CDS, LDS, RDS, EDS, ECDS, or the type URL's last part for others. */
  type: string;
  sent?: string;
  acked?: string;
  /** Why the proxy rejected the last push (its NACK's error detail). */
  lastError?: string;
  state: SyncState;
}

export interface ProxySync {
  /** `name.namespace`, the proxy's node id without its type and IP. */
  proxy: string;
  clusterId?: string;
  istioVersion?: string;
  types: TypeSync[];
}

const SHORT: Record<string, string> = {
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': 'CDS',
  'type.googleapis.com/envoy.config.listener.v3.Listener': 'LDS',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': 'RDS',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': 'EDS',
  'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig': 'ECDS',
};
const FIELDS: Array<[string, string]> = [['CDS', 'cluster'], ['LDS', 'listener'], ['RDS', 'route'], ['EDS', 'endpoint'], ['ECDS', 'extensionconfig']];

export function syncState(sent: string | undefined, acked: string | undefined, lastError: string | undefined): SyncState {
  if (!sent) return 'NOT SENT';
  if (lastError) return 'NACKED';
  if (sent === acked) return 'SYNCED';
  return acked ? 'STALE' : 'STALE (Never Acknowledged)';
}

const text = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);

function typesOf(entry: Record<string, unknown>): TypeSync[] {
  const byType = new Map<string, TypeSync>();
  for (const [type, field] of FIELDS) {
    const sent = text(entry, `${field}_sent`);
    const acked = text(entry, `${field}_acked`);
    if (sent || acked) byType.set(type, { type, ...(sent ? { sent } : {}), ...(acked ? { acked } : {}), state: syncState(sent, acked, undefined) });
  }
  // The per-type resources carry the last error; they win where both say something.
  const resources = isObject(entry.resources) ? entry.resources : {};
  for (const [url, value] of Object.entries(resources)) {
    if (!isObject(value)) continue;
    const type = SHORT[url] ?? url.split('.').pop() ?? url;
    const sent = text(value, 'sent');
    const acked = text(value, 'acked');
    const lastError = text(value, 'lastError');
    byType.set(type, { type, ...(sent ? { sent } : {}), ...(acked ? { acked } : {}), ...(lastError ? { lastError } : {}), state: syncState(sent, acked, lastError) });
  }
  return [...byType.values()];
}

/** The proxies of one istiod's /debug/syncz; throws ParseError for what is not its JSON list. */
export function parseSyncz(json: string, label: string): ProxySync[] {
  const parsed = parseJson(json, label, "istiod's /debug/syncz: a JSON list of proxies");
  const list = Array.isArray(parsed) ? parsed : [];
  return list.filter(isObject).flatMap((entry) => {
    const proxy = text(entry, 'proxy');
    if (!proxy) return [];
    return [{ proxy, ...(text(entry, 'cluster_id') ? { clusterId: text(entry, 'cluster_id') } : {}), ...(text(entry, 'istio_version') ? { istioVersion: text(entry, 'istio_version') } : {}), types: typesOf(entry) }];
  });
}
