/**
 * What the server sidecar's access log shows failing when the rest of the
 * inbound path could not be read (evidence fusion, issue "no false health").
 * `NR filter_chain_not_found` is Envoy's inbound listener closing a connection
 * no filter chain matches (a client's TLS or port that this port does not
 * accept; Envoy's active_tcp_listener.cc); `UF` with `Connection_refused` on an
 * inbound| cluster is the app refusing the sidecar's forward. Without the
 * config dump neither is tied to a culprit, so the verdict stays inconclusive
 * but says what the log shows instead of "the hops that were read do not fail".
 */
import type { VerdictConfidence } from '../../findings/finding.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';

export function loggedInboundFailures(entries: AccessLogEntry[]): string[] {
  const noChain = entries.filter((e) => e.responseFlags.includes('NR') && e.responseCodeDetails === 'filter_chain_not_found');
  const refused = entries.filter((e) => e.responseFlags.includes('UF') && (e.upstreamCluster ?? '').startsWith('inbound|') && /connection_refused/i.test(e.raw));
  return [
    noChain.length ? `${noChain.length} connection(s) closed with no matching filter chain (NR filter_chain_not_found: a client's TLS or port this listener does not accept; why-503 from that client names it)` : '',
    refused.length ? `${refused.length} forward(s) to the app refused (UF connection refused: nothing listens where the sidecar forwards)` : '',
  ].filter(Boolean);
}

/** The confidence of an inbound verdict that could not read every hop. */
export function inboundConfidence(unread: string[]): VerdictConfidence {
  return { level: 'low', missing: unread };
}
