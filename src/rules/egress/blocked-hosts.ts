/**
 * MD2001 / MD2002 from the access log: requests the sidecar itself refused
 * under REGISTRY_ONLY (incident 3 / seed 002). Envoy logs them as
 * `502 - direct_response ... block_all` for HTTP (the route Istio adds to the
 * 80 / catch-all HTTP listener when the mode is REGISTRY_ONLY,
 * pilot/pkg/networking/core/httproute.go) and as `UH`/`- - -` to
 * `BlackHoleCluster` for TCP/TLS. Each distinct host and port is followed
 * through the proxy's own config and explained by the outbound-path rules,
 * which name the missing or hidden ServiceEntry; the log lines are quoted.
 */
import { httpConnection, httpsConnection, simulateOutbound } from '../../model/outbound/index.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { explainOutboundPath } from './outbound-path.js';
import type { EgressRule, ProxyEvidence } from './evidence.js';

/** Lines quoted per host: enough to show it happened, not the whole log. */
const QUOTED_LINES = 3;

/**
 * One analysis of the refused requests answers two rules, each reporting its
 * own code: MD2001 (no ServiceEntry: the mesh config's REGISTRY_ONLY is the
 * culprit) and MD2002 (a ServiceEntry exists, hidden from the pod).
 */
function blockedRule(code: 'MD2001' | 'MD2002', id: string, description: string): EgressRule {
  return {
    id, code, description,
    needs: ['config-dump', 'access-log'],
    check: (e) => blockedFindings(e).filter((f) => f.code === code),
  };
}

export const registryOnlyBlocked = blockedRule('MD2001', 'md2001-registry-only-blocked',
  'Hosts the sidecar refused under REGISTRY_ONLY (block_all, BlackHoleCluster) in its access log that no ServiceEntry registers');

export const registryOnlyHidden = blockedRule('MD2002', 'md2002-registry-only-hidden',
  'Hosts the sidecar refused under REGISTRY_ONLY in its access log whose ServiceEntry is hidden from the pod (exportTo, or its Sidecar)');

/** What check runs over a proxy's access log for REGISTRY_ONLY. */
export const BLOCKED_HOST_RULES: readonly EgressRule[] = [registryOnlyBlocked, registryOnlyHidden];

/** Each refused host and port followed through the proxy's config and explained, its log lines first. */
function blockedFindings(e: ProxyEvidence): Finding[] {
    const findings: Finding[] = [];
    for (const [key, lines] of blockedByDestination(e.accessLog?.entries ?? [])) {
      const first = lines[0];
      const [host, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      const ip = first.downstreamLocalAddress?.replace(/:\d+$/, '');
      const options = { port, ...(ip ? { ip } : {}), ...(e.pod.ip ? { sourceIp: e.pod.ip } : {}) };
      const connection = first.requestedServerName || first.tcp ? httpsConnection(host, options) : httpConnection(host, { ...options, ...(first.path ? { path: first.path } : {}) });
      const verdict = explainOutboundPath({
        pod: e.pod, podArg: e.podArg, resources: e.resources, mesh: e.mesh, dump: e.dump!,
        ...(e.istioVersion ? { istioVersion: e.istioVersion } : {}),
        host, port, simulation: simulateOutbound(e.dump!, connection),
        dumpSource: e.dumpSource ?? `config_dump of ${e.podArg}`, ...(e.dumpFile ? { dumpFile: e.dumpFile } : {}),
        staticFindings: e.staticFindings,
      });
      const logged = logEvidence(e, lines);
      for (const f of verdict.findings) findings.push({ ...f, evidence: [logged, ...f.evidence] });
    }
    return findings;
}

/** The refused requests, by the host and port the app asked for. */
function blockedByDestination(entries: readonly AccessLogEntry[]): Map<string, AccessLogEntry[]> {
  const out = new Map<string, AccessLogEntry[]>();
  for (const entry of entries) {
    const blocked = entry.routeName === 'block_all' || entry.upstreamCluster === 'BlackHoleCluster';
    const host = entry.authority && entry.authority !== '-' ? entry.authority.replace(/:\d+$/, '') : entry.requestedServerName;
    const port = entry.downstreamLocalAddress?.match(/:(\d+)$/)?.[1];
    if (!blocked || !host || !port) continue;
    const key = `${host.toLowerCase()}:${port}`;
    out.set(key, [...(out.get(key) ?? []), entry]);
  }
  return out;
}

function logEvidence(e: ProxyEvidence, lines: AccessLogEntry[]): EvidenceItem {
  const log = e.accessLog!;
  return {
    source: log.source,
    ...(log.file ? { file: log.file } : {}),
    excerpt: lines.slice(-QUOTED_LINES).map((l) => l.raw).join('\n'),
    note: `${lines.length} request${lines.length > 1 ? 's' : ''} refused by the sidecar itself: \`502 - direct_response ... block_all\` (HTTP) or BlackHoleCluster (TCP/TLS) is REGISTRY_ONLY's answer.`,
  };
}
