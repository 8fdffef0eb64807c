/**
 * MD8011: the TLS listener waits for a credential. Istio's gateway chains
 * read their certificate over SDS as `kubernetes://<credentialName>`, with no
 * initial fetch timeout; istiod sends nothing for a Secret it cannot find in
 * the gateway pod's namespace, so Envoy keeps the whole listener warming
 * (every host on the port fails, not just this one) — or, for a listener
 * of the initial LDS response, keeps it active with the secret warming (the
 * mesh lab's Envoy 1.40). Envoy: listener
 * warming, source/common/listener_manager/listener_impl.cc; Istio:
 * pilot/pkg/xds/sds.go (missing secrets are not sent).
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { credentialNameOf, listenersAwaitingSecrets } from '../../model/envoy/gateway-config.js';
import { serversOnPort, type GatewayRule } from './evidence.js';
import { gatewayEvidence, requestText } from './support.js';

export const credentialMissing: GatewayRule = {
  id: 'md8011-gateway-credential-missing',
  code: 'MD8011',
  description: "The gateway's TLS listener waits for a credentialName Secret it never received",
  needs: ['config-dump', 'Gateway'],
  check(e): Finding[] {
    if (e.ending !== 'warming') return [];
    const active = new Set(e.dump.secrets.filter((s) => s.state !== 'warming').map((s) => s.name));
    const warming = listenersAwaitingSecrets(e.dump, e.request.listenerPort);
    const waiting = [...new Set(warming.flatMap((l) => l.filterChains.flatMap((c) => JSON.stringify(c.raw.transport_socket ?? {}).match(/kubernetes:\/\/[^"]+/g) ?? [])))].filter((n) => !active.has(n));
    const names = waiting.map(credentialNameOf).filter((n): n is string => Boolean(n));
    const culprit = serversOnPort(e).find(({ server }) => server.tls?.credentialName && names.includes(server.tls.credentialName)) ?? serversOnPort(e).find(({ server }) => server.tls?.credentialName);
    const cred = culprit?.server.tls?.credentialName ?? names[0] ?? '?';
    return [makeFinding('MD8011', {
      message: `The gateway's listener on port ${e.request.listenerPort} waits for the Secret ${cred} (SDS ${waiting.join(', ') || `kubernetes://${cred}`}), which istiod cannot find in the gateway pod's namespace ${e.pod.namespace}; until it arrives nothing on this port is served, so ${requestText(e)} is refused.`,
      target: culprit?.gateway.ref ?? { kind: 'Pod', namespace: e.pod.namespace, name: e.pod.name },
      evidence: [
        ...(culprit ? [gatewayEvidence(culprit.gateway, [culprit.server], `spec.servers[${culprit.server.index}].tls.credentialName`)] : []),
        { source: `kubectl exec ${e.pod.name} -n ${e.pod.namespace} -c istio-proxy -- pilot-agent request GET config_dump`, ...(e.dumpFile ? { file: e.dumpFile } : {}), excerpt: `dynamic_listeners: ${warming.map((l) => `${l.name} (${l.state === 'warming' ? 'warming_state' : 'active_state, its secret in dynamic_warming_secrets'})`).join(', ')}\nsecrets received: ${[...active].join(', ') || 'none'}` },
      ],
      remediation: { text: `Create the TLS Secret ${cred} in namespace ${e.pod.namespace} (the gateway pod's, not the Gateway's), or fix credentialName.`, command: `kubectl create -n ${e.pod.namespace} secret tls ${cred} --cert=CERT.pem --key=KEY.pem` },
    })];
  },
};
