/**
 * What the server sidecar's access log shows failing when the rest of the
 * inbound path could not be read (evidence fusion, issue "no false health").
 * `NR filter_chain_not_found` is Envoy's inbound listener closing a connection
 * no filter chain matches (a client's TLS or port that this port does not
 * accept; Envoy's active_tcp_listener.cc); `UF` with `Connection_refused` on an
 * inbound| cluster is the app refusing the sidecar's forward. A logged
 * `filter_chain_not_found` is a failure observed on the inbound listener hop:
 * MD3007 (noFilterChainLogged), even without the config dump. An inconclusive
 * verdict says what the log shows instead of "the hops that were read do not fail".
 */
import type { VerdictConfidence } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import { evidenceOf, outcome, podRef, type InboundCheck, type InboundFacts } from './facts.js';

/** Connections the inbound listener closed for want of a filter chain; on one port when given (the line's local address). */
export function noFilterChain<E extends AccessLogEntry>(entries: readonly E[], port?: number): E[] {
  return entries.filter((e) => e.responseFlags.includes('NR') && e.responseCodeDetails === 'filter_chain_not_found'
    && (port === undefined || !e.downstreamLocalAddress || e.downstreamLocalAddress.endsWith(`:${port}`)));
}

export function loggedInboundFailures(entries: AccessLogEntry[]): string[] {
  const noChain = noFilterChain(entries);
  const refused = entries.filter((e) => e.responseFlags.includes('UF') && (e.upstreamCluster ?? '').startsWith('inbound|') && /connection_refused/i.test(e.raw));
  return [
    noChain.length ? `${noChain.length} connection(s) closed with no matching filter chain (NR filter_chain_not_found: a client's TLS or port this listener does not accept; why-503 from that client names it)` : '',
    refused.length ? `${refused.length} forward(s) to the app refused (UF connection refused: nothing listens where the sidecar forwards)` : '',
  ].filter(Boolean);
}

/**
 * The confidence of an inbound verdict that could not read every hop: a
 * failure the sidecar logged itself is observed (medium), a pass is not (low).
 */
export function inboundConfidence(unread: string[], observedFailure = false): VerdictConfidence {
  return { level: observedFailure ? 'medium' : 'low', missing: unread };
}

/**
 * MD3007 from the server's own access log: its inbound listener closed
 * connections to this port with no matching filter chain. The log is the
 * observation; what the listener demands is the config dump's (MD3007 in
 * why-503 quotes its chains) or, without it, the PeerAuthentications' prediction.
 */
export function noFilterChainLogged(facts: InboundFacts): InboundCheck {
  const { pod, port, accessLog, mtls } = facts;
  const lines = noFilterChain(accessLog?.value ?? [], port.appPort);
  const where = port.appPort !== undefined ? ` on port ${port.appPort}` : '';
  if (!accessLog || lines.length === 0) return outcome([], [`no connection closed for want of a filter chain${where} in the sidecar's access log`]);
  const clients = [...new Set(lines.map((e) => (e.downstreamRemoteAddress ?? '').replace(/:\d+$/, '')).filter(Boolean))];
  const count = `${lines.length} connection${lines.length === 1 ? '' : 's'}${clients.length ? ` from ${clients.join(', ')}` : ''}`;
  const strict = mtls?.mode === 'STRICT';
  const likely = !mtls ? ''
    : strict ? `; the PeerAuthentications make the port STRICT (${mtls.because}), so a client sending plaintext is refused this way`
      : `; the PeerAuthentications make the port ${mtls.mode} (${mtls.because}), so the connections carried something no chain takes: a port a Sidecar ingress or the Service does not declare, or TLS that is not Istio mTLS`;
  const finding = makeFinding('MD3007', {
    message: `${pod.name}.${pod.namespace}'s inbound listener closed ${count}${where} with no matching filter chain (NR filter_chain_not_found in its own access log)${likely}.`,
    target: port.service?.ref ?? podRef(pod),
    evidence: [evidenceOf(accessLog, lines.slice(0, 3).map((e) => e.raw).join('\n'), 'the server\'s inbound listener found no filter chain for these connections')],
    remediation: {
      text: strict
        ? 'Make the client send Istio mTLS: no DestinationRule tls.mode DISABLE (or a rule without tls where auto mTLS is off) for this host, and a sidecar on the client; why-503 from the client names its rule.'
        : `Declare the port on the Service (and the container), and check Sidecar ingress and PeerAuthentication portLevelMtls for port ${port.appPort ?? ''}; why-503 from the client quotes the chains it met.`,
      command: `kubectl mesh-doctor why-503 <client pod> --to ${port.service ? `${port.service.name}.${port.service.namespace}:${port.servicePort?.port ?? port.appPort}` : `${pod.ip ?? pod.name}:${port.appPort}`}`,
    },
  });
  return outcome([finding], [`${count}${where} closed with no matching filter chain (NR filter_chain_not_found)`]);
}
