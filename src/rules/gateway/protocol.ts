/**
 * MD8003: the server on the port speaks another protocol than the request.
 * An HTTP server gives the listener a plaintext HTTP connection manager (a
 * TLS ClientHello is then read as HTTP: 400 and close); an HTTPS server's
 * chains match TLS by SNI only (plaintext finds no chain and is closed).
 * pilot/pkg/networking/core/gateway.go buildGatewayListeners.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { toYaml } from '../../model/istio/common.js';
import { isTlsServer } from '../../model/istio/gateway.js';
import { serverHasHost, serversOnPort, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText, walkEvidence } from './support.js';

export const gatewayProtocolMismatch: GatewayRule = {
  id: 'md8003-gateway-protocol-mismatch',
  code: 'MD8003',
  description: 'The Gateway server on the port speaks plaintext HTTP to a TLS request, or TLS to a plaintext one',
  needs: ['config-dump', 'Gateway'],
  check(e): Finding[] {
    if (e.ending !== 'tls-into-http' && e.ending !== 'no-chain') return [];
    const mismatched = serversOnPort(e).filter(({ server }) => serverHasHost(server, e.request.host) && isTlsServer(server) !== e.request.tls);
    return mismatched.slice(0, 1).map(({ gateway: g, server: s }) => makeFinding('MD8003', {
      message: e.request.tls
        ? `${requestText(e)} sends TLS, but Gateway ${g.namespace}/${g.name} declares port ${s.port.number} as ${s.port.protocol} (name ${s.port.name ?? '-'}): the gateway reads the ClientHello as HTTP, answers 400 and closes, and the client sees "wrong version number".`
        : `${requestText(e)} is plaintext, but Gateway ${g.namespace}/${g.name} declares port ${s.port.number} as ${s.port.protocol}: the listener's chains match TLS by SNI only, so the connection finds no filter chain and is closed (curl: "Empty reply from server").`,
      target: g.ref,
      evidence: [gatewayEvidence(g, [s], `spec.servers[${s.index}].port.protocol`), walkEvidence(e)],
      remediation: e.request.tls
        ? { text: `Terminate TLS on this server: protocol HTTPS with tls.mode SIMPLE and a credentialName (a kubernetes.io/tls Secret in the gateway pod's namespace), or send plain HTTP to it.`, patch: toYaml({ spec: { servers: [{ port: { number: s.port.number, name: 'https', protocol: 'HTTPS' }, tls: { mode: 'SIMPLE', credentialName: `${e.request.host.split('.')[0]}-credential` }, hosts: s.hosts.map((h) => h.host) }] } }) }
        : { text: `Call this port with https://, or declare an HTTP server on the plaintext port (and tls.httpsRedirect there if clients should move to HTTPS).` },
    }));
  },
};
