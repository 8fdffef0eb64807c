/** Evidence items every gateway rule cites: the walk through the gateway's config, and a resource's fields. */
import type { EvidenceItem } from '../../findings/finding.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import type { GatewayServer, GatewayView, VirtualServiceView } from '../../model/istio/gateway.js';
import { describePath } from '../../model/outbound/simulate.js';
import { requestUrl, type GatewayEvidence } from './evidence.js';

/** The request's path through the gateway's config, one decision a line. */
export function walkEvidence(e: GatewayEvidence, note?: string): EvidenceItem {
  return {
    source: `istioctl proxy-config listeners ${e.podArg} --port ${e.request.listenerPort}; istioctl proxy-config routes ${e.podArg}`,
    ...(e.dumpFile ? { file: e.dumpFile } : {}),
    excerpt: describePath(e.simulation).join('\n'),
    ...(note ? { note } : {}),
  };
}

function serverYaml(s: GatewayServer): Record<string, unknown> {
  const hosts = s.hosts.map((h) => (h.namespace === '*' ? h.host : `${h.namespace}/${h.host}`));
  return { port: { number: s.port.number, ...(s.port.name ? { name: s.port.name } : {}), protocol: s.port.protocol }, hosts, ...(s.tls ? { tls: Object.fromEntries(Object.entries(s.tls).filter(([, v]) => v !== undefined && v !== false)) } : {}) };
}

export function gatewayEvidence(g: GatewayView, servers: readonly GatewayServer[] = g.servers, note?: string): EvidenceItem {
  return { source: kubectlGet(g.ref), excerpt: toYaml({ metadata: { name: g.name, namespace: g.namespace }, spec: { selector: g.selector, servers: servers.map(serverYaml) } }), ...(note ? { note } : {}) };
}

export function virtualServiceEvidence(vs: VirtualServiceView, note?: string): EvidenceItem {
  return {
    source: kubectlGet(vs.ref),
    excerpt: toYaml({ metadata: { name: vs.name, namespace: vs.namespace }, spec: { hosts: vs.hosts, ...(vs.exportTo ? { exportTo: vs.exportTo } : {}), gateways: vs.gatewayNames } }),
    ...(note ? { note } : {}),
  };
}

/** `istio: ingressgateway, app: ...` */
export function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(', ') : '(none)';
}

export function requestText(e: GatewayEvidence): string {
  return requestUrl(e.request);
}
