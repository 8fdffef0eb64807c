/**
 * Joining the two sides of a failed request (shared/reference/envoy-istio.md,
 * "Joining the two sides"): the client's %UPSTREAM_LOCAL_ADDRESS% is the
 * server's %DOWNSTREAM_REMOTE_ADDRESS% and the `remote address:` of its TLS
 * error lines; `[C31]` / `ConnectionId` ties a server's lines for one
 * connection together (accept, handshake error, SSL error, close). Old logs
 * (seed 004's 2018 lines) carry neither addresses nor times on the server
 * side; then the only link is that the client's upstream host is the server
 * pod's IP, and the correlation says so.
 */
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { EnvoyLogEvent } from '../../model/logs/envoy-log.js';
import { decodeResponseCodeDetails, decodeTransportFailureReason } from '../../model/logs/response-flags.js';
import type { PodRef } from '../../model/pod.js';
import type { Cited, Numbered, ServerEvidence } from './evidence.js';

export type SignalKind =
  /** Plain bytes reached a TLS listener: HTTP_REQUEST, WRONG_VERSION_NUMBER on the server. */
  | 'plaintext-at-tls'
  /** TLS without a client certificate reached an mTLS listener: PEER_DID_NOT_RETURN_A_CERTIFICATE. */
  | 'no-client-cert'
  /** No filter chain matched (STRICT listener, plaintext client; or a port the listener does not know). */
  | 'no-filter-chain'
  /** Certificate verification failed on either side: verify failed, unknown CA, expired, SAN. */
  | 'tls-verify'
  /** The server sidecar could not connect to the app: delayed_connect_error:_111. */
  | 'connect-refused';

export interface ServerSignal {
  pod: PodRef;
  kind: SignalKind;
  /** SSL reason name, response details... */
  reason: string;
  detail?: string;
  line: string;
  lineNumber: number;
  cited: Cited;
  remoteAddress?: string;
  connectionId?: string;
  time?: string;
  /** The other lines of the same connection id, in order (new connection, handshake error, closing socket). */
  connectionLines: string[];
}

const PLAINTEXT = new Set(['HTTP_REQUEST', 'WRONG_VERSION_NUMBER', 'HTTPS_PROXY_REQUEST', 'UNKNOWN_PROTOCOL']);
const NO_CERT = new Set(['PEER_DID_NOT_RETURN_A_CERTIFICATE', 'TLSV1_ALERT_CERTIFICATE_REQUIRED']);
export const VERIFY = new Set([
  'CERTIFICATE_VERIFY_FAILED', 'TLSV1_ALERT_UNKNOWN_CA', 'SSLV3_ALERT_CERTIFICATE_EXPIRED', 'CERTIFICATE_EXPIRED',
  'SSLV3_ALERT_BAD_CERTIFICATE', 'SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'TLSV1_ALERT_DECRYPT_ERROR',
]);

/** A TLS reason name's kind, or undefined for reasons that say nothing about this incident. */
export function tlsReasonKind(name: string | undefined): SignalKind | undefined {
  if (!name) return undefined;
  if (PLAINTEXT.has(name)) return 'plaintext-at-tls';
  if (NO_CERT.has(name)) return 'no-client-cert';
  if (VERIFY.has(name)) return 'tls-verify';
  return undefined;
}

/** The signals a server sidecar's Envoy log and access log give about failed connections. */
export function serverSignals(server: ServerEvidence): ServerSignal[] {
  const out: ServerSignal[] = [];
  const events = server.envoyLog?.events ?? [];
  const byConnection = new Map<string, Array<Numbered<EnvoyLogEvent>>>();
  for (const e of events) {
    if (!e.connectionId) continue;
    const list = byConnection.get(e.connectionId) ?? [];
    list.push(e);
    byConnection.set(e.connectionId, list);
  }
  for (const e of events) {
    let kind: SignalKind | undefined;
    let reason = '';
    if (e.kind === 'tls-error') {
      kind = tlsReasonKind(e.sslErrorName);
      reason = e.sslErrorName ?? 'TLS error';
    } else if (e.kind === 'no-filter-chain') {
      kind = 'no-filter-chain';
      reason = 'no matching filter chain found';
    }
    if (!kind) continue;
    const detail = e.sslErrors.find((s) => s.detail)?.detail;
    const siblings = e.connectionId ? (byConnection.get(e.connectionId) ?? []).filter((x) => x !== e && x.kind !== 'other').map((x) => x.raw) : [];
    out.push({
      pod: server.pod,
      kind,
      reason,
      ...(detail ? { detail } : {}),
      line: e.raw,
      lineNumber: e.lineNumber,
      cited: { source: server.envoyLog!.source, ...(server.envoyLog!.file ? { file: server.envoyLog!.file } : {}) },
      ...(e.remoteAddress ? { remoteAddress: e.remoteAddress } : {}),
      ...(e.connectionId ? { connectionId: e.connectionId } : {}),
      ...(e.time ? { time: e.time } : {}),
      connectionLines: siblings,
    });
  }
  for (const a of server.accessLog?.entries ?? []) {
    let kind: SignalKind | undefined;
    let reason = a.responseCodeDetails ?? a.responseFlags.join(',');
    if (a.responseFlags.includes('NR') && (a.responseCodeDetails === 'filter_chain_not_found' || a.tcp)) kind = 'no-filter-chain';
    const transport = a.upstreamTransportFailureReason ? decodeTransportFailureReason(a.upstreamTransportFailureReason) : undefined;
    const details = a.responseCodeDetails ? decodeResponseCodeDetails(a.responseCodeDetails) : undefined;
    const failure = transport ?? details?.transportFailure;
    if (!kind && a.responseFlags.includes('UF') && failure?.kind === 'connect-errno' && failure.errno === 111) {
      kind = 'connect-refused';
      reason = 'delayed_connect_error:_111';
    }
    if (!kind && failure?.kind === 'tls') {
      const name = (failure.sslErrors.find((s) => s.info) ?? failure.sslErrors[0])?.name;
      kind = tlsReasonKind(name);
      reason = name ?? reason;
    }
    if (!kind) continue;
    out.push({
      pod: server.pod,
      kind,
      reason,
      line: a.raw,
      lineNumber: a.lineNumber,
      cited: { source: server.accessLog!.source, ...(server.accessLog!.file ? { file: server.accessLog!.file } : {}) },
      ...(a.downstreamRemoteAddress ? { remoteAddress: a.downstreamRemoteAddress } : {}),
      ...(a.startTime ? { time: a.startTime } : {}),
      connectionLines: [],
    });
  }
  return out;
}

export interface Correlation {
  client: Numbered<AccessLogEntry>;
  server: ServerSignal;
  /** How the two were joined. */
  via: 'address' | 'time' | 'endpoint';
  explanation: string;
}

const WINDOW_MS = 5_000;

function ms(time: string | undefined): number | undefined {
  if (!time) return undefined;
  const t = Date.parse(time.replace(' ', 'T').replace(/(\d)$/, '$1Z'));
  return Number.isNaN(t) ? undefined : t;
}

function hostOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const m = /^\[?([^\]]+?)\]?:\d+$/.exec(address);
  return m ? m[1] : address;
}

/**
 * Pairs each failed client request with the server signals that explain it:
 * by address (exact), else by time (within 5 s), else by endpoint (the
 * request went to that server pod's IP and the server line has neither
 * address nor time).
 */
export function correlate(clientEntries: ReadonlyArray<Numbered<AccessLogEntry>>, servers: readonly ServerEvidence[], signals: readonly ServerSignal[]): Correlation[] {
  const out: Correlation[] = [];
  const ipOf = new Map(servers.map((s) => [`${s.pod.namespace}/${s.pod.name}`, s.ip]));
  for (const entry of clientEntries) {
    if (entry.responseCode !== undefined && entry.responseCode < 500 && entry.responseCode !== 0 && !entry.responseFlags.length) continue;
    const upstreamIp = hostOf(entry.upstreamHost);
    const local = entry.upstreamLocalAddress;
    const t = ms(entry.startTime);
    let matched = false;
    for (const s of signals) {
      if (local && s.remoteAddress && s.remoteAddress === local) {
        out.push({ client: entry, server: s, via: 'address', explanation: `the client's upstream local address ${local} is the server's remote address` });
        matched = true;
      }
    }
    if (matched) continue;
    for (const s of signals) {
      const serverIp = ipOf.get(`${s.pod.namespace}/${s.pod.name}`);
      if (upstreamIp && serverIp && upstreamIp !== serverIp) continue;
      const st = ms(s.time);
      if (t !== undefined && st !== undefined && Math.abs(t - st) <= WINDOW_MS && !(local && s.remoteAddress)) {
        out.push({ client: entry, server: s, via: 'time', explanation: `within ${Math.round(Math.abs(t - st) / 100) / 10}s of the client's request, on the pod it was sent to` });
        matched = true;
      }
    }
    if (matched) continue;
    for (const s of signals) {
      const serverIp = ipOf.get(`${s.pod.namespace}/${s.pod.name}`);
      if (s.time === undefined && s.remoteAddress === undefined && upstreamIp && serverIp && upstreamIp === serverIp) {
        out.push({ client: entry, server: s, via: 'endpoint', explanation: `the client's request went to ${upstreamIp}, this server pod; the server line carries no time or address to match more closely` });
      }
    }
  }
  return out;
}
