/**
 * What a why-503 verdict rests on when a config dump is missing (evidence
 * fusion, issue "no false health"). Without the client's dump its TLS mode is
 * predicted from the DestinationRule and auto mTLS (the resources); without a
 * server's dump its demand is predicted from the PeerAuthentications. A finding
 * that the access logs confirm stays credible (medium); a healthy answer that
 * rests on predictions alone is not one: the caller makes it inconclusive.
 */
import type { VerdictConfidence } from '../../findings/finding.js';

export interface UpstreamEvidenceSeen {
  clientDump: boolean;
  /** How many server pods were examined, and how many of their dumps were read. */
  servers: number;
  serverDumps: number;
  clientAccessLog: boolean;
}

export const NO_CLIENT_DUMP = 'the client\'s config dump (its TLS mode toward the destination was predicted from the DestinationRule and auto mTLS)';
export const NO_SERVER_DUMP = 'the server\'s config dump (what its inbound listener demands was predicted from the PeerAuthentications)';

/** The confidence of a verdict from the evidence seen; undefined when every dump was read. */
export function upstreamConfidence(seen: UpstreamEvidenceSeen): VerdictConfidence | undefined {
  const missing: string[] = [];
  if (!seen.clientDump) missing.push(NO_CLIENT_DUMP);
  if (seen.servers > seen.serverDumps) missing.push(NO_SERVER_DUMP);
  if (!missing.length) return undefined;
  if (!seen.clientAccessLog) missing.push('the client\'s access log');
  // The access log is what the client did; without it every part of the verdict is a prediction.
  return { level: seen.clientAccessLog ? 'medium' : 'low', missing };
}

/** A healthy answer needs the client's own config: without it nothing on the path was checked, only predicted. */
export function healthUnchecked(seen: UpstreamEvidenceSeen): boolean {
  return !seen.clientDump;
}
