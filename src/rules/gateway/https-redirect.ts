/**
 * MD8010: the HTTP server redirects every request to HTTPS (tls.httpsRedirect:
 * the virtual host has `require_tls: ALL`). Envoy decides from
 * x-forwarded-proto, which an Istio gateway overwrites with the scheme of the
 * connection it received (use_remote_address); behind a load balancer that
 * terminates TLS and forwards plain HTTP to this port, every request is
 * redirected again: the redirect loop of istio/istio#13213.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { toYaml } from '../../model/istio/common.js';
import { serverHasHost, serversOnPort, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText, walkEvidence } from './support.js';

export const httpsRedirect: GatewayRule = {
  id: 'md8010-https-redirect',
  code: 'MD8010',
  description: 'The HTTP server answers every request with a redirect to HTTPS (a loop behind a TLS-terminating load balancer)',
  needs: ['config-dump', 'Gateway'],
  check(e): Finding[] {
    const vh = e.simulation.virtualHost;
    if (e.ending !== 'redirect' || !vh) return [];
    const s = serversOnPort(e).find(({ server }) => server.tls?.httpsRedirect && serverHasHost(server, e.request.host));
    if (!s) return [];
    return [makeFinding('MD8010', {
      message: `Gateway ${s.gateway.namespace}/${s.gateway.name} redirects ${requestText(e)} to https:// (tls.httpsRedirect on port ${s.server.port.number}; virtual host ${vh.name} has require_tls ALL): Envoy answers 301 before any route. If clients reach this port through a load balancer that already terminated TLS, the redirect loops.`,
      target: s.gateway.ref,
      evidence: [gatewayEvidence(s.gateway, [s.server], `spec.servers[${s.server.index}].tls.httpsRedirect`), walkEvidence(e, 'require_tls: ALL is checked against x-forwarded-proto, which the gateway sets from its own downstream connection')],
      remediation: { text: 'Where TLS ends at a load balancer in front of the gateway, drop httpsRedirect from this server and redirect at the load balancer (or send the load balancer to the HTTPS port with TLS passthrough).', patch: toYaml({ spec: { servers: [{ port: s.server.port, hosts: s.server.hosts.map((h) => h.host), tls: { httpsRedirect: false } }] } }) },
    })];
  },
};
