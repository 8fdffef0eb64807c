import type { Severity } from './finding.js';

/**
 * The finding catalog: every code mesh-doctor can report, in one place, like
 * Istio's analyzer messages.yaml. Codes are `MD` + 4 digits grouped by area,
 * never reused once retired; each has docs/findings/<code>.md (a test checks).
 *
 *   MD1xxx  outbound listeners and port protocols (who owns a port, HTTPS breakage)
 *   MD2xxx  outbound traffic policy and service registry (REGISTRY_ONLY, visibility)
 *   MD3xxx  upstream connections and mTLS (503s)
 *   MD4xxx  inbound path (forwarding, sockets, iptables)
 *   MD5xxx  certificates and workload identity
 *   MD6xxx  authorization (403s: AuthorizationPolicy, RBAC filters)
 *   MD7xxx  the proxy's own config state (what Envoy rejected or has not made ready)
 *   MD8xxx  gateways (a request that falls out of an ingress gateway's config)
 */
export interface CatalogEntry {
  code: string;
  severity: Severity;
  title: string;
  /** Istio analyzer codes covering part of the same ground. */
  relatedIstio?: string[];
}

const entries = [
  { code: 'MD1001', severity: 'error', title: 'Outbound port 443 is treated as HTTP', relatedIstio: ['IST0118'] },
  { code: 'MD1002', severity: 'error', title: 'A catch-all filter chain captures connections to this port', relatedIstio: ['IST0134'] },
  { code: 'MD1003', severity: 'warning', title: 'ServiceEntry without addresses on a TCP or TLS port', relatedIstio: ['IST0134'] },
  { code: 'MD1004', severity: 'warning', title: 'Port 443 declared with an HTTP-family protocol', relatedIstio: ['IST0118'] },
  { code: 'MD1005', severity: 'warning', title: 'One port declared with different protocols', relatedIstio: ['IST0177'] },
  { code: 'MD1006', severity: 'error', title: "A DestinationRule's TLS mode contradicts the server's PeerAuthentication", relatedIstio: ['IST0113'] },
  { code: 'MD2001', severity: 'error', title: 'REGISTRY_ONLY blocks an unregistered host' },
  { code: 'MD2002', severity: 'error', title: 'A ServiceEntry exists but is hidden from this pod' },
  { code: 'MD3001', severity: 'error', title: 'Plaintext sent to a server that requires mTLS', relatedIstio: ['IST0113'] },
  { code: 'MD3002', severity: 'error', title: 'Circuit breaker limits tripped (UO)' },
  { code: 'MD3003', severity: 'error', title: 'Outlier detection ejected every host and hides the first cause' },
  { code: 'MD3004', severity: 'error', title: 'Connection refused by the destination (UF)' },
  { code: 'MD3005', severity: 'error', title: 'TLS verification failed between sidecars' },
  { code: 'MD3006', severity: 'error', title: 'No endpoints behind the destination' },
  { code: 'MD3007', severity: 'error', title: 'No route or no matching filter chain (NR)' },
  { code: 'MD3008', severity: 'warning', title: 'Outlier detection can eject every host after a single error' },
  { code: 'MD3009', severity: 'error', title: "Sporadic 503 UC: the app closes keep-alive connections before the sidecar's idle timeout" },
  { code: 'MD4001', severity: 'error', title: 'The app listens only on localhost; the sidecar forwards to the pod IP', relatedIstio: ['IST0143'] },
  { code: 'MD4002', severity: 'info', title: 'Inbound requests arrive from 127.0.0.6, not 127.0.0.1' },
  { code: 'MD4003', severity: 'error', title: 'Nothing listens on the target port' },
  { code: 'MD4004', severity: 'error', title: "The Service's targetPort matches no container port" },
  { code: 'MD4005', severity: 'error', title: 'iptables sends the proxy\'s own traffic back to the proxy (a loop)' },
  { code: 'MD5001', severity: 'error', title: 'A proxy certificate is expired or not yet valid' },
  { code: 'MD5002', severity: 'warning', title: 'A proxy certificate is about to expire or was not rotated in time' },
  { code: 'MD5003', severity: 'error', title: 'Proxies trust different root certificates' },
  { code: 'MD5004', severity: 'error', title: "A proxy's identity does not match its pod's service account" },
  { code: 'MD5005', severity: 'error', title: "The server's certificate carries no identity the client accepts (SAN mismatch)" },
  { code: 'MD5006', severity: 'error', title: "The server's certificate is from a trust domain the client does not accept" },
  { code: 'MD5007', severity: 'error', title: "A sidecar's certificate does not chain to the root its peer trusts" },
  { code: 'MD5008', severity: 'error', title: "The client sidecar sends its own TLS to a sidecar'd server (double TLS)" },
  { code: 'MD6001', severity: 'error', title: 'A DENY AuthorizationPolicy matches the request (DENY is evaluated before ALLOW)' },
  { code: 'MD6002', severity: 'error', title: 'An ALLOW policy needs a peer identity and the request came in plaintext' },
  { code: 'MD6003', severity: 'error', title: 'An ALLOW policy names principals in a trust domain that is not the mesh\'s' },
  { code: 'MD6004', severity: 'error', title: 'requestPrincipals without a RequestAuthentication for the workload' },
  { code: 'MD6005', severity: 'error', title: 'An ALLOW policy without rules denies every request' },
  { code: 'MD6006', severity: 'error', title: 'A CUSTOM policy names a provider istiod cannot build, so its rules deny' },
  { code: 'MD6007', severity: 'error', title: 'No ALLOW policy matches the request' },
  { code: 'MD6008', severity: 'error', title: 'The CUSTOM provider (ext_authz) denied the request, or could not be asked' },
  { code: 'MD7001', severity: 'error', title: 'Envoy rejected config on this path' },
  { code: 'MD7002', severity: 'error', title: 'Config on this path is not ready (warming)' },
  { code: 'MD7010', severity: 'error', title: 'A proxy runs a version its istiod does not support' },
  { code: 'MD7011', severity: 'error', title: 'A proxy belongs to a revision no istiod serves' },
  { code: 'MD7012', severity: 'error', title: "istiod reports a proxy out of sync: config rejected (NACK), not acknowledged (STALE), or not connected" },
  { code: 'MD8001', severity: 'error', title: 'The Gateway for the host selects no gateway pod', relatedIstio: ['IST0101'] },
  { code: 'MD8002', severity: 'error', title: 'The Gateway declares the host on another port', relatedIstio: ['IST0162'] },
  { code: 'MD8003', severity: 'error', title: "The Gateway server's protocol does not match the request (HTTP vs HTTPS)" },
  { code: 'MD8004', severity: 'error', title: "The VirtualService's exportTo hides it from the gateway" },
  { code: 'MD8005', severity: 'error', title: "The VirtualService's gateways: names another Gateway (or namespace)", relatedIstio: ['IST0101'] },
  { code: 'MD8006', severity: 'error', title: "The host is not among the Gateway server's hosts", relatedIstio: ['IST0132'] },
  { code: 'MD8007', severity: 'error', title: 'Two Gateways declare the same host and TLS port; only one wins', relatedIstio: ['IST0145'] },
  { code: 'MD8008', severity: 'error', title: 'No VirtualService routes the host through the Gateway' },
  { code: 'MD8009', severity: 'error', title: "The gateway's route points at a cluster it does not have (503)" },
  { code: 'MD8010', severity: 'warning', title: 'The HTTP server redirects every request to HTTPS' },
  { code: 'MD8011', severity: 'error', title: "The gateway's TLS listener waits for a missing credential", relatedIstio: ['IST0161'] },
] as const satisfies readonly CatalogEntry[];

export type FindingCode = (typeof entries)[number]['code'];

export const CATALOG: ReadonlyMap<string, CatalogEntry> = new Map(entries.map((e) => [e.code, e]));

export function catalogEntry(code: FindingCode): CatalogEntry {
  return CATALOG.get(code)!;
}

/** Where a finding's page lives in the package (and, in the single executable, its asset key). */
export function docsPath(code: string): string {
  return `docs/findings/${code}.md`;
}

/**
 * How a user opens a finding's page: a command that works wherever mesh-doctor is
 * installed (krew, npm, a checkout), unlike a path relative to a clone.
 */
export function docsCommand(code: string): string {
  return `kubectl mesh-doctor docs ${code}`;
}
