/**
 * Envoy `/stats` in its text shape (`cluster.outbound|8000||httpbin.foo.svc.cluster.local.upstream_rq_pending_overflow: 0`,
 * what seed 004 quotes) and its Prometheus shape (`/stats/prometheus`, what
 * `istioctl bug-report` and mesh-doctor snapshots keep:
 * `envoy_cluster_upstream_rq_pending_overflow{cluster_name="outbound|8000||httpbin.foo.svc.cluster.local"} 0`).
 * Both are read into one key space, `cluster.<name>.<stat>` for cluster
 * stats, so a rule asks for a stat once.
 *
 * Istio's bootstrap keeps only some stats (shared/reference/envoy-istio.md):
 * prefixes cluster_manager, listener_manager, server, cluster.xds-grpc, wasm;
 * per-cluster upstream stats exist only with `sidecar.istio.io/statsInclusionPrefixes`
 * (or proxyStatsMatcher). `explainMissingStat` says so instead of reading an
 * absence as zero.
 *
 * Pure, never throws; belongs in src/model/envoy/ once that area is open.
 */

export interface EnvoyStats {
  format: 'text' | 'prometheus';
  /** Canonical name -> value (counters and gauges; histograms are skipped). */
  values: Map<string, number>;
  /** Canonical name -> the line it came from, for excerpts. */
  lines: Map<string, string>;
}

const PROM_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const TEXT_LINE = /^(\S.*?):\s+(-?\d+(?:\.\d+)?)$/;

function promLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out[m[1]] = m[2].replace(/\\(.)/g, '$1');
  return out;
}

/** Parses `/stats` text or `/stats/prometheus`. Never throws. */
export function parseEnvoyStats(text: string): EnvoyStats {
  const values = new Map<string, number>();
  const lines = new Map<string, string>();
  if (typeof text !== 'string') return { format: 'text', values, lines };
  const all = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const prometheus = all.some((l) => l.startsWith('# TYPE ') || /^envoy_[a-z_]+(\{|\s)/.test(l));
  for (const line of all) {
    if (!line || line.startsWith('#')) continue;
    if (prometheus) {
      const m = PROM_LINE.exec(line);
      if (!m) continue;
      const value = Number(m[4]);
      if (!Number.isFinite(value)) continue;
      const labels = promLabels(m[3]);
      let name = m[1];
      if (name.endsWith('_bucket') || name.endsWith('_sum') || name.endsWith('_count')) continue;
      if (labels.cluster_name !== undefined && name.startsWith('envoy_cluster_')) {
        name = `cluster.${labels.cluster_name}.${name.slice('envoy_cluster_'.length)}`;
      } else {
        name = name.replace(/^envoy_/, '') + (m[3] ? `{${m[3]}}` : '');
      }
      values.set(name, value);
      lines.set(name, line);
    } else {
      const m = TEXT_LINE.exec(line.trim());
      if (!m) continue;
      values.set(m[1], Number(m[2]));
      lines.set(m[1], line.trim());
    }
  }
  return { format: prometheus ? 'prometheus' : 'text', values, lines };
}

export interface ClusterStat {
  name: string;
  value?: number;
  line?: string;
  /** When the value is absent: why (stats matcher, or not collected). */
  missing?: string;
}

/** A cluster's stat, e.g. clusterStat(stats, 'outbound|8000||httpbin...', 'upstream_rq_pending_overflow'). */
export function clusterStat(stats: EnvoyStats, clusterName: string, stat: string): ClusterStat {
  const name = `cluster.${clusterName}.${stat}`;
  const value = stats.values.get(name);
  if (value !== undefined) return { name, value, line: stats.lines.get(name) };
  return { name, missing: explainMissingStat(stats, clusterName) };
}

/** Why a per-cluster stat is absent from a stats dump. */
export function explainMissingStat(stats: EnvoyStats, clusterName: string): string {
  const anyOfCluster = [...stats.values.keys()].some((k) => k.startsWith(`cluster.${clusterName}.`));
  if (anyOfCluster) return `Envoy did not report it for ${clusterName} (other stats of that cluster are present)`;
  const anyOutbound = [...stats.values.keys()].some((k) => /^cluster\.(outbound|inbound)\|/.test(k));
  if (!anyOutbound) {
    return `absent because Istio's default stats matcher drops per-cluster stats (it keeps cluster_manager, listener_manager, server, cluster.xds-grpc, wasm); `
      + `annotate the pod with sidecar.istio.io/statsInclusionPrefixes: "cluster.outbound" to keep them, and read /clusters per-host counters meanwhile`;
  }
  return `no stats for ${clusterName} at all (the cluster may not exist on this sidecar)`;
}
