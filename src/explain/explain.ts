/**
 * `mesh-doctor explain <text>`: say what a pasted fragment means in a mesh and
 * which diagnosis to run next. Pure: no I/O, renderer-agnostic result.
 *
 * Recognised, per line (a curl transcript is taken as one block):
 * response flag lists (UC, UF,URX), response-code details
 * (filter_chain_not_found, upstream_reset_before_response_started{...}),
 * transport failure reasons (delayed_connect_error:_111, TLS_error:|...),
 * BoringSSL packed codes (268435612) and reason names (HTTP_REQUEST),
 * OpenSSL error strings (error:140770FC:...), access-log lines (full or
 * excerpts), Envoy log lines (TLS errors old and new, handshake error,
 * no matching filter chain...), Envoy local-reply bodies, curl errors and
 * `curl -v` transcripts.
 */
import {
  parseResponseFlags,
  decodeResponseCodeDetails,
  decodeTransportFailureReason,
  decodeEnvoyLocalReplyBody,
  type ParsedResponseFlags,
  type DecodedResponseCodeDetails,
  type TransportFailureReason,
  type EnvoyLocalReplyBody,
} from '../model/logs/response-flags.js';
import {
  decodeBoringSslCode,
  lookupSslReason,
  parseEnvoySslErrors,
  parseOpenSslErrorString,
  packBoringSslCode,
  BORINGSSL_LIBS,
  type SslReasonInfo,
  type EnvoySslError,
  type DecodedSslError,
} from '../model/logs/boringssl.js';
import { parseAccessLogLine, type AccessLogEntry } from '../model/logs/access-log.js';
import { parseEnvoyLogLine, HANDSHAKE_ERRORS, type EnvoyLogEvent } from '../model/logs/envoy-log.js';
import { parseCurlOutput, type CurlOutput } from '../model/logs/curl.js';
import type { DiagnosisName } from '../model/logs/diagnosis.js';

export type ExplanationKind =
  | 'response-flags'
  | 'response-code-details'
  | 'transport-failure'
  | 'ssl-error'
  | 'openssl-error'
  | 'access-log'
  | 'envoy-log'
  | 'envoy-body'
  | 'curl';

export interface ExplanationField {
  name: string;
  value: string;
  meaning?: string;
}

export interface NextStep {
  diagnosis?: DiagnosisName;
  command?: string;
  why: string;
}

export interface ExplanationItem {
  kind: ExplanationKind;
  input: string;
  title: string;
  fields: ExplanationField[];
  /** What the text says, in Envoy's/TLS's terms. */
  meaning: string;
  /** What it usually means in an Istio mesh; absent when nothing mesh-specific is known. */
  inMesh?: string;
  next: NextStep[];
  /** The input line (1-based) the item starts on: items are listed in input order. */
  line?: number;
  /** Envoy's connection id ([C48] or ConnectionId:48): lines of one connection are read together. */
  connection?: string;
}

export interface Explanation {
  items: ExplanationItem[];
  /** Lines nothing recognised (trimmed, non-empty). */
  unrecognised: string[];
  /** The input line (1-based) of each entry of `unrecognised`, to show it where it was pasted. */
  unrecognisedLines: number[];
  /**
   * In a multi-line paste (e.g. `kubectl logs ... | mesh-doctor explain -`), lines
   * that were recognised but say nothing worth explaining: Envoy log lines with no
   * known event, access-log entries without a flag and with a 1xx-3xx status.
   * They are counted, not itemised. A single line is always itemised.
   */
  uneventful: number;
}

const MAX_INPUT = 1_000_000;

const WHY: Record<DiagnosisName, string> = {
  'why-503': 'reads the client and server sidecars for this request: clusters, endpoints, TLS modes, access logs',
  'why-502': 'checks whether the sidecar itself answered (REGISTRY_ONLY block_all, direct responses) or the upstream broke the protocol',
  'why-https-fails': 'follows an outbound TLS connection through the sidecar: the 443 listener, its filter chains and the cluster it reaches',
  'why-inbound-fails': "checks the server sidecar's inbound listener and how it forwards to the app (mTLS mode, app bind address)",
  'who-owns-443': 'lists every filter chain on 0.0.0.0:443 and the resource that generated it',
};

function step(diagnosis: DiagnosisName | undefined, why?: string, command?: string): NextStep | undefined {
  if (!diagnosis && !command) return undefined;
  return { diagnosis, command, why: why ?? (diagnosis ? WHY[diagnosis] : '') };
}

function uniqueSteps(steps: Array<NextStep | undefined>): NextStep[] {
  const seen = new Set<string>();
  const out: NextStep[] = [];
  for (const s of steps) {
    if (!s) continue;
    const key = `${s.diagnosis ?? ''}|${s.command ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Items

function flagsItem(input: string, parsed: ParsedResponseFlags): ExplanationItem {
  const fields = parsed.flags.map((fl) => ({
    name: fl.code,
    value: fl.longName,
    meaning: `${fl.meaning}${fl.typicalStatus !== undefined ? ` (usually ${fl.typicalStatus})` : ''}`,
  }));
  for (const u of parsed.unknown) fields.push({ name: u, value: 'unknown', meaning: 'Not a core Envoy flag (a custom flag registered by an extension?).' });
  const codes = parsed.flags.map((x) => x.code);
  let meaning = parsed.flags.map((x) => `${x.code}: ${x.meaning}`).join(' ');
  let inMesh = parsed.flags.map((x) => `${x.code}: ${x.inMesh}`).join(' ');
  if (codes.includes('URX') && codes.length > 1) {
    const other = codes.filter((c) => c !== 'URX').join(',');
    meaning = `Every attempt failed with ${other} and the retry/connect-attempt limit was reached (URX). ${meaning}`;
  }
  if (codes.length === 1 && codes[0] === 'UC')
    inMesh +=
      ' With mutual TLS, a 503 UC on the client sidecar and nothing in the server access log is the signature of plaintext reaching a server that requires mTLS: the server sidecar closes the connection during the handshake (its debug log shows HTTP_REQUEST).';
  return {
    kind: 'response-flags',
    input,
    title: `Envoy response flag${parsed.flags.length + parsed.unknown.length > 1 ? 's' : ''} ${parsed.raw}`,
    fields,
    meaning,
    inMesh,
    next: uniqueSteps(parsed.flags.map((x) => step(x.next))),
  };
}

function sslReasonFields(info: SslReasonInfo | undefined, decoded?: DecodedSslError): ExplanationField[] {
  const fields: ExplanationField[] = [];
  if (decoded) {
    fields.push({ name: 'code', value: String(decoded.code), meaning: `packed: library ${decoded.lib} << 24 | reason ${decoded.reason}` });
    fields.push({ name: 'library', value: `${decoded.lib} (ERR_LIB_${decoded.libName})` });
    fields.push({ name: 'reason', value: String(decoded.reason), meaning: decoded.lib === 2 ? 'errno' : 'SSL_R_* value' });
  }
  if (info || decoded?.name) fields.push({ name: 'name', value: info?.name ?? decoded!.name!, meaning: info?.meaning });
  if (info) fields.push({ name: 'likely cause', value: info.likelyCause });
  return fields;
}

function sslItem(input: string, info: SslReasonInfo | undefined, decoded?: DecodedSslError, detail?: string): ExplanationItem {
  const fields = sslReasonFields(info, decoded);
  if (detail) fields.push({ name: 'detail', value: detail, meaning: 'text Envoy appends after the reason' });
  const name = info?.name ?? decoded?.name ?? 'unknown reason';
  const code = info ? packBoringSslCode(info.lib, info.reason) : decoded?.code;
  return {
    kind: 'ssl-error',
    input,
    title: `BoringSSL error ${code ?? ''} ${name}`.replace(/\s+/g, ' ').trim(),
    fields,
    meaning: info?.meaning ?? `BoringSSL library ${decoded ? BORINGSSL_LIBS[decoded.lib] : '?'} reason ${decoded?.reason}; not one mesh-doctor has notes for.`,
    inMesh: info?.inMesh ?? 'Look at the TLS settings on both sides of the connection (DestinationRule tls, PeerAuthentication).',
    next: uniqueSteps([step(info?.next ?? 'why-https-fails')]),
  };
}

function transportItem(input: string, tf: TransportFailureReason): ExplanationItem {
  const fields: ExplanationField[] = [{ name: 'transport failure reason', value: tf.raw }];
  if (tf.errno !== undefined) fields.push({ name: 'errno', value: `${tf.errno}${tf.errnoName ? ` (${tf.errnoName})` : ''}` });
  for (const e of tf.sslErrors) fields.push(...sslErrorFields(e));
  const firstInfo = tf.sslErrors.find((e) => e.info)?.info;
  return {
    kind: 'transport-failure',
    input,
    title: `Upstream transport failure: ${tf.kind === 'tls' ? 'TLS handshake' : tf.kind === 'connect-errno' ? 'TCP connect' : 'other'}`,
    fields,
    meaning: tf.meaning,
    inMesh: firstInfo?.inMesh ?? tf.meaning,
    next: uniqueSteps([step(tf.next)]),
  };
}

function sslErrorFields(e: EnvoySslError): ExplanationField[] {
  const f: ExplanationField[] = [
    { name: 'ssl error', value: `${e.code} ${e.name ?? e.reasonText}`, meaning: e.info?.meaning ?? `library ${e.libName}, reason ${e.reason}` },
  ];
  if (e.detail) f.push({ name: 'ssl detail', value: e.detail });
  return f;
}

function detailsItem(input: string, d: DecodedResponseCodeDetails): ExplanationItem {
  const fields: ExplanationField[] = [{ name: 'details', value: d.name, meaning: d.info?.meaning }];
  if (d.resetReason) fields.push({ name: 'reset reason', value: d.resetReason.raw, meaning: d.resetReason.meaning });
  if (d.transportFailure) {
    fields.push({ name: 'transport failure reason', value: d.transportFailure.raw, meaning: d.transportFailure.meaning });
    for (const e of d.transportFailure.sslErrors) fields.push(...sslErrorFields(e));
  } else if (d.argument && !d.resetReason) fields.push({ name: 'argument', value: d.argument });
  const meaning = [d.info?.meaning ?? (d.codec ? `Codec error ${d.codec}: the peer broke the HTTP protocol.` : 'Response code details.')];
  if (d.resetReason) meaning.push(`Reset reason: ${d.resetReason.meaning}`);
  if (d.transportFailure) meaning.push(d.transportFailure.meaning);
  const inMesh = d.transportFailure?.sslErrors.find((e) => e.info)?.info?.inMesh ?? (d.transportFailure?.kind === 'connect-errno' ? d.transportFailure.meaning : d.info?.inMesh ?? '');
  return {
    kind: 'response-code-details',
    input,
    title: `Response code details ${d.name}`,
    fields,
    meaning: meaning.join(' '),
    inMesh,
    next: uniqueSteps([step(d.next)]),
  };
}

function bodyItem(input: string, b: EnvoyLocalReplyBody): ExplanationItem {
  const fields: ExplanationField[] = [{ name: 'body', value: b.raw }];
  if (b.retried) fields.push({ name: 'retried', value: 'yes', meaning: 'retries were attempted; this is the last reason' });
  if (b.resetReason) fields.push({ name: 'reset reason', value: b.resetReason.text, meaning: b.resetReason.meaning });
  if (b.transportFailure) {
    fields.push({ name: 'transport failure reason', value: b.transportFailure.raw, meaning: b.transportFailure.meaning });
    for (const e of b.transportFailure.sslErrors) fields.push(...sslErrorFields(e));
  }
  const inMesh =
    b.transportFailure?.sslErrors.find((e) => e.info)?.info?.inMesh ??
    (b.kind === 'upstream-reset'
      ? 'A local reply from the client sidecar (server: envoy): it never got response headers from the upstream. Without a reason (older Envoy), the client access log flag (UC, UF, UR) and the server sidecar log tell why; plaintext to an mTLS-only server gives UC.'
      : b.meaning);
  return {
    kind: 'envoy-body',
    input,
    title: `Envoy local reply: ${b.kind === 'upstream-reset' ? 'upstream connect error or disconnect/reset before headers' : b.raw}`,
    fields,
    meaning: b.meaning,
    inMesh,
    next: uniqueSteps([step(b.next)]),
  };
}

type DecodedFlags = ReturnType<typeof parseResponseFlags>;
type DecodedDetails = ReturnType<typeof decodeResponseCodeDetails> | undefined;
type DecodedTransport = ReturnType<typeof decodeTransportFailureReason> | undefined;

/** One access-log entry, decoded once: its flags, details and transport failure reason. */
interface DecodedEntry {
  e: AccessLogEntry;
  flags: DecodedFlags;
  details: DecodedDetails;
  tf: DecodedTransport;
}

function accessLogItem(input: string, e: AccessLogEntry): ExplanationItem {
  const flags = parseResponseFlags(e.responseFlags.length ? e.responseFlags.join(',') : '-');
  const details = e.responseCodeDetails ? decodeResponseCodeDetails(e.responseCodeDetails) : undefined;
  const tf = e.upstreamTransportFailureReason ? decodeTransportFailureReason(e.upstreamTransportFailureReason) : undefined;
  const decoded: DecodedEntry = { e, flags, details, tf };
  const fields = accessLogFields(decoded);
  const meaning: string[] = [];
  if (e.responseCode !== undefined) meaning.push(`Status ${e.responseCode}${e.tcp ? ' (TCP)' : ''}.`);
  if (flags && !flags.none) meaning.push(flags.flags.map((x) => `${x.code}: ${x.meaning}`).join(' '));
  if (details?.info) meaning.push(details.info.meaning);
  if (details?.resetReason) meaning.push(`Reset reason: ${details.resetReason.meaning}`);
  if (tf) meaning.push(tf.meaning);
  else if (details?.transportFailure) meaning.push(details.transportFailure.meaning);
  const { inMesh, next } = accessLogInMesh(decoded);
  if (e.format === 'istio-text-legacy' && e.responseFlags.length === 1 && e.responseFlags[0] === 'UC')
    fields.push({ name: 'note', value: 'Istio <= 1.8 format', meaning: 'before Istio 1.5 a DestinationRule without tls replaced the mesh-wide ISTIO_MUTUAL rule' });

  const request = e.tcp ? 'TCP connection' : [e.method, e.path].filter(Boolean).join(' ') || 'request';
  return {
    kind: 'access-log',
    input,
    title: `Access log: ${request} -> ${e.responseCode ?? '?'} ${e.responseFlags.join(',') || '-'}${e.responseCodeDetails ? ` ${details?.name ?? e.responseCodeDetails}` : ''}`,
    fields,
    meaning: meaning.join(' '),
    inMesh,
    next: uniqueSteps(next),
  };
}

/** Each field of the entry that is present, with what it means where that is not obvious. */
function accessLogFields({ e, flags, details, tf }: DecodedEntry): ExplanationField[] {
  const fields: ExplanationField[] = [];
  const add = (name: string, value: string | number | undefined, meaning?: string) => {
    if (value !== undefined && value !== '') fields.push({ name, value: String(value), meaning });
  };
  add('format', e.format, e.format === 'istio-text-legacy' ? 'older Istio layout without response-code details' : e.format === 'unknown' ? 'excerpt; only some fields could be read' : undefined);
  add('start time', e.startTime);
  if (e.tcp) add('request', '- - -', 'a TCP (tcp_proxy) connection, not an HTTP request');
  else add('request', [e.method, e.path, e.protocol].filter(Boolean).join(' ') || undefined);
  add('response code', e.responseCode, e.responseCode === 0 ? 'no HTTP response was sent (TCP entry, or the caller went away)' : undefined);
  add('response flags', e.responseFlags.length ? e.responseFlags.join(',') : '-', flags?.none ? 'none' : flags?.flags.map((x) => `${x.code} ${x.longName}`).join(', '));
  add('response code details', e.responseCodeDetails, details?.info?.meaning);
  add('connection termination details', e.connectionTerminationDetails);
  add('upstream transport failure reason', e.upstreamTransportFailureReason, tf?.meaning);
  add('authority', e.authority);
  add('upstream host', e.upstreamHost);
  add('upstream cluster', e.upstreamCluster, e.direction === 'inbound' ? 'inbound: this is the server-side sidecar forwarding to its app' : e.direction === 'outbound' ? 'outbound: this is the client-side sidecar' : undefined);
  add('upstream local address', e.upstreamLocalAddress, "on the server sidecar this is the downstream remote address (and the TLS log's remote address)");
  add('downstream local address', e.downstreamLocalAddress);
  add('downstream remote address', e.downstreamRemoteAddress);
  add('requested server name', e.requestedServerName);
  add('route', e.routeName);
  add('duration (ms)', e.duration);
  if (e.extra.length) add('extra fields', e.extra.join(' '), 'fields appended to the default format');
  return fields;
}

/** What the entry means in an Istio mesh, and the diagnosis (or command) that goes further. */
function accessLogInMesh({ e, flags, details, tf }: DecodedEntry): { inMesh: string; next: Array<NextStep | undefined> } {
  let inMesh = '';
  const next: Array<NextStep | undefined> = [];
  const codes = e.responseFlags;
  const cluster = e.upstreamCluster ?? '';
  const route = e.routeName ?? '';
  const detailName = details?.name;
  const transport = tf ?? details?.transportFailure;

  // Envoy 1.40 writes the refusal as `delayed_connect_error:_Connection_refused` (mesh lab), older ones as errno 111.
  const refused = transport?.errno === 111 || /connection_refused/i.test(`${e.upstreamTransportFailureReason ?? ''} ${e.responseCodeDetails ?? ''}`);
  if (codes.includes('UF') && (e.direction === 'inbound' || /^inbound\|/.test(cluster)) && refused) {
    inMesh =
      'The server sidecar could not connect to its own app: connection refused on the pod IP. Since Istio 1.10 inbound traffic is forwarded to the pod IP (source 127.0.0.6), not 127.0.0.1, so an app that listens only on localhost stops receiving mesh traffic. Fix: bind the app to 0.0.0.0 (or the pod IP).';
    next.push(step('why-inbound-fails'));
    next.push(step(undefined, 'shows which address the app listens on', 'kubectl exec POD -c istio-proxy -- ss -ltn'));
  } else if (codes.includes('NR') && (detailName === 'filter_chain_not_found' || e.tcp)) {
    inMesh =
      'A listener had no filter chain for this connection, so the sidecar closed it. On the server (inbound) side this is usually an mTLS mismatch: a plaintext client reaching a port whose chains all require mTLS (PeerAuthentication STRICT), or a TLS client where only plaintext chains exist. Server-side TLS errors are not in the access log: look at the server sidecar debug log (connection, conn_handler loggers).';
    next.push(step('why-inbound-fails'));
    next.push(step(undefined, "lists the inbound listener's filter chains and their match (Trans: tls / raw_buffer)", 'istioctl proxy-config listeners POD --port 15006'));
  } else if (e.responseCode === 502 && (detailName === 'direct_response' || route === 'block_all')) {
    inMesh =
      'The client sidecar answered 502 itself from the block_all route: outboundTrafficPolicy is REGISTRY_ONLY and the host is not in the registry (no ServiceEntry), so HTTP requests to it are blocked. Fix: add a ServiceEntry (hosts, ports with protocol, location MESH_EXTERNAL, resolution DNS).';
    next.push(step('why-502'));
    next.push(step(undefined, 'shows outboundTrafficPolicy.mode', "kubectl get configmap istio -n istio-system -o jsonpath='{.data.mesh}'"));
  } else if (codes.includes('UH') && cluster === 'BlackHoleCluster') {
    inMesh =
      'The connection went to BlackHoleCluster: outboundTrafficPolicy is REGISTRY_ONLY and no ServiceEntry covers this destination, so HTTPS/TCP to it is dropped (the hostname is not logged, istio/istio#33281). Fix: a ServiceEntry for the host and port.';
    next.push(step('why-https-fails'));
  } else if (codes.includes('UC') && e.responseCode === 503 && (e.direction !== 'inbound')) {
    inMesh =
      "The connection to the upstream closed before a response. With mutual TLS, 503 UC on the client and an empty server access log is the signature of plaintext reaching a server that requires mTLS: the client's DestinationRule does not use ISTIO_MUTUAL (tls.mode DISABLE/SIMPLE; before Istio 1.5 a DestinationRule without a tls block), or auto mTLS is off. The server sidecar's debug log shows HTTP_REQUEST. Otherwise: the app closing idle keep-alive connections.";
    next.push(step('why-503'));
  } else if (transport?.kind === 'tls') {
    const info = transport.sslErrors.find((x) => x.info)?.info;
    inMesh = `The client sidecar's TLS handshake with the upstream failed. ${info?.inMesh ?? ''}`.trim();
    next.push(step(info?.next ?? 'why-https-fails'));
  } else if (details?.info && detailName !== 'via_upstream') {
    inMesh = details.info.inMesh;
    next.push(step(details.next));
  } else if (flags && !flags.none) {
    inMesh = flags.flags.map((x) => `${x.code}: ${x.inMesh}`).join(' ');
    for (const x of flags.flags) next.push(step(x.next));
  } else if (detailName === 'via_upstream' || (flags?.none && e.responseCode !== undefined && e.responseCode > 0)) {
    inMesh = `No flag: the upstream itself answered ${e.responseCode}; the mesh relayed it. Look at the app${e.upstreamHost ? ` at ${e.upstreamHost}` : ''}.`;
    if (e.responseCode === 503 || e.responseCode === 502) next.push(step(e.responseCode === 502 ? 'why-502' : 'why-503'));
  } else {
    inMesh = 'Nothing abnormal is flagged on this entry.';
  }
  return { inMesh, next };
}

function envoyLogItem(input: string, ev: EnvoyLogEvent): ExplanationItem {
  const fields: ExplanationField[] = [];
  const add = (name: string, value: string | number | undefined, meaning?: string) => {
    if (value !== undefined && value !== '') fields.push({ name, value: String(value), meaning });
  };
  add('layout', ev.layout, ev.layout === 'istio-legacy' ? 'Istio layout without file:line (older Istio)' : ev.layout === 'bare' ? 'message only' : undefined);
  add('time', ev.time);
  add('level', ev.level);
  add('logger', ev.logger);
  add('source', ev.source);
  add('connection id', ev.connectionId, ev.raw.includes('[Tags:') ? 'Tags form: Envoy >= 1.27' : ev.connectionId ? '[C..] form: Envoy < 1.27' : undefined);
  add('stream id', ev.streamId);
  add('remote address', ev.remoteAddress, ev.kind === 'tls-error' ? "the peer of this connection; on a server sidecar it equals the client sidecar's upstream local address" : undefined);
  for (const e of ev.sslErrors) fields.push(...sslErrorFields(e));
  add('TLS error format', ev.tlsErrorFormat, ev.tlsErrorFormat === 'new' ? 'TLS_error:|...:TLS_error_end (newer Envoy)' : ev.tlsErrorFormat === 'old' ? '"TLS error:" / "SSL error:" (older Envoy)' : undefined);

  let title = `Envoy log (${ev.logger ?? 'message'})`;
  let meaning = ev.message;
  let inMesh = '';
  const next: Array<NextStep | undefined> = [];
  const info = ev.sslErrors.find((x) => x.info)?.info;
  switch (ev.kind) {
    case 'tls-error':
      title = `Envoy TLS error: ${ev.sslErrorName ?? 'unknown'}`;
      meaning = info ? `${ev.sslErrorName}: ${info.meaning}` : 'A TLS handshake failed on this connection.';
      inMesh = info?.inMesh ?? 'Compare the TLS settings of both sides (DestinationRule tls.mode, PeerAuthentication).';
      if (ev.sslErrors.some((x) => x.detail)) meaning += ` Detail: ${ev.sslErrors.find((x) => x.detail)!.detail}.`;
      next.push(step(info?.next ?? 'why-https-fails'));
      break;
    case 'handshake-error':
      title = `Envoy TLS handshake error ${ev.handshakeError}`;
      meaning = HANDSHAKE_ERRORS[ev.handshakeError ?? -1] ?? `SSL_get_error() returned ${ev.handshakeError}.`;
      inMesh = ev.handshakeError === 2 || ev.handshakeError === 3
        ? 'Benign on its own: the handshake is waiting for bytes. Look at the next lines of the same connection.'
        : 'The TLS handshake on this connection failed; the following "SSL error"/"TLS error" line of the same connection id names the reason.';
      break;
    case 'closing-socket':
      title = 'Envoy closing socket';
      meaning = `The connection is being closed (close type ${ev.closeType}).`;
      inMesh = 'Read together with the earlier lines of the same connection id: right after a TLS error it is the sidecar dropping the failed handshake.';
      break;
    case 'new-connection':
      title = 'Envoy accepted a connection';
      meaning = `New downstream connection${ev.remoteAddress ? ` from ${ev.remoteAddress}` : ''}.`;
      inMesh = 'The connection reached this sidecar; the next lines of the same connection id show what happened to it.';
      break;
    case 'no-filter-chain':
      title = 'Envoy: no matching filter chain';
      meaning = `The listener had no filter chain for the connection${ev.remoteAddress ? ` from ${ev.remoteAddress}` : ''} and closed it (access log: "- - -" 0 NR filter_chain_not_found).`;
      inMesh = 'On an inbound listener: an mTLS/plaintext mismatch (PeerAuthentication STRICT vs a client without mTLS) or a port with no chain. On an outbound listener: no chain for that destination.';
      next.push(step('why-inbound-fails'));
      break;
    case 'upstream-reset':
      title = `Envoy router: upstream reset (${ev.resetReason})`;
      meaning = `The router saw the upstream reset with reason "${ev.resetReason}"${ev.transportFailureReason ? `, transport failure reason "${ev.transportFailureReason}"` : ''}.`;
      {
        const tf = ev.transportFailureReason ? decodeTransportFailureReason(ev.transportFailureReason) : undefined;
        inMesh = info?.inMesh ?? tf?.meaning ?? 'The client sidecar failed to get a response from the upstream (503).';
        next.push(step(tf?.next ?? info?.next ?? 'why-503'));
      }
      break;
    default:
      inMesh = 'An Envoy log line with no event mesh-doctor interprets.';
  }
  return { kind: 'envoy-log', input, title, fields, meaning, inMesh, next: uniqueSteps(next), ...(ev.connectionId ? { connection: ev.connectionId } : {}) };
}

function curlItem(input: string, c: CurlOutput): ExplanationItem {
  const fields: ExplanationField[] = [];
  const add = (name: string, value: string | number | undefined, meaning?: string) => {
    if (value !== undefined && value !== '') fields.push({ name, value: String(value), meaning });
  };
  add('exit code', c.exitCode, c.exitName ? `${c.exitName}: ${c.exitMeaning}` : undefined);
  add('error', c.errorText);
  if (c.openSslError) {
    const o = c.openSslError;
    add('openssl error', `${o.hex} ${o.libText}:${o.funcText}:${o.reasonText}`, `${o.packing}: library ${o.lib}${o.func !== undefined ? `, function ${o.func}` : ''}, reason ${o.reason}`);
  }
  if (c.nameMismatch)
    add('name mismatch', `${c.nameMismatch.certificateName ?? '(certificate names)'} vs ${c.nameMismatch.targetHost}`, 'the certificate presented is for another host');
  if (c.connectedTo) add('connected to', `${c.connectedTo.host} (${c.connectedTo.ip}) port ${c.connectedTo.port}`);
  add('certificate subject', c.certificateSubject);
  add('certificate issuer', c.certificateIssuer);
  if (c.httpStatus !== undefined) add('HTTP status', `${c.httpStatus}${c.reasonPhrase ? ` ${c.reasonPhrase}` : ''}`, c.httpVersion ? `HTTP/${c.httpVersion}` : undefined);
  add('server header', c.serverHeader, /^(istio-)?envoy$/i.test(c.serverHeader ?? '') ? 'the response passed through or came from an Envoy (sidecar or gateway)' : undefined);
  if (c.headers['x-envoy-upstream-service-time'])
    add('x-envoy-upstream-service-time', c.headers['x-envoy-upstream-service-time'], 'an upstream answered (not a sidecar local reply)');
  if (c.envoyBody) add('envoy body', c.envoyBody.raw, c.envoyBody.meaning);

  const meaning: string[] = [];
  if (c.exitCode !== undefined) meaning.push(`curl exited ${c.exitCode}${c.exitMeaning ? `: ${c.exitMeaning}` : ''}`);
  if (c.openSslError) meaning.push(`OpenSSL: ${c.openSslError.reasonText}${c.openSslError.info ? ` (${c.openSslError.info.meaning})` : ''}.`);
  if (c.nameMismatch) meaning.push(`The server certificate does not cover '${c.nameMismatch.targetHost}'.`);
  if (c.httpStatus !== undefined) meaning.push(`HTTP ${c.httpStatus}${c.serverHeader ? ` from server: ${c.serverHeader}` : ''}.`);
  if (c.envoyBody) meaning.push(c.envoyBody.meaning);
  const next: Array<NextStep | undefined> = c.next.map((n) => step(n.diagnosis, n.why));
  if (c.nameMismatch || c.openSslError) next.push(step(undefined, 'shows every chain on port 443 and its destination', 'istioctl proxy-config listeners POD --port 443'));
  const title = c.exitCode !== undefined
    ? `curl error (${c.exitCode})${c.openSslError ? ` ${c.openSslError.reasonText}` : c.nameMismatch ? ' certificate name mismatch' : ''}`
    : c.httpStatus !== undefined
      ? `curl -v: HTTP ${c.httpStatus}${c.serverHeader ? ` from ${c.serverHeader}` : ''}`
      : c.nameMismatch
        ? 'curl: certificate name mismatch'
        : c.openSslError
          ? `OpenSSL error: ${c.openSslError.reasonText}`
          : 'curl output';
  return {
    kind: 'curl',
    input,
    title,
    fields,
    meaning: meaning.join(' ') || 'curl output.',
    inMesh: c.inMesh ?? c.envoyBody?.meaning ?? '',
    next: uniqueSteps(next),
  };
}

// ---------------------------------------------------------------------------
// Detection

const CURL_LINE = /^(?:\$ ?)?(?:curl: \(\d+\)|curl\s|\*\s|\*$|<\s|<$|>\s|>$|command terminated with exit code|SSL: |error:[0-9A-Fa-f]{8}:)/;

function stripQuotes(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** One line that is a single value: flags, details, transport reason, SSL code or name. */
function explainValue(line: string): ExplanationItem | undefined {
  const v = stripQuotes(line.trim());
  if (/^\d{6,10}$/.test(v)) {
    const decoded = decodeBoringSslCode(Number(v));
    if (decoded && (decoded.info || decoded.lib === 16 || decoded.lib === 2)) return sslItem(line, decoded.info, decoded);
    return undefined;
  }
  if (/^[A-Z][A-Z0-9]*(?:,\s*[A-Z][A-Z0-9]*)*$/.test(v)) {
    const flags = parseResponseFlags(v);
    if (flags && flags.unknown.length === 0) return flagsItem(line, flags);
  }
  if (/^(?:SSL_R_)?[A-Z][A-Z0-9_]*$/.test(v) || /^[a-z][a-z0-9 ]+$/.test(v)) {
    const info = lookupSslReason(v);
    if (info) return sslItem(line, info, decodeBoringSslCode(packBoringSslCode(info.lib, info.reason)));
  }
  // "TLS error: ..." / "TLS_error:|..." alone are read as Envoy TLS log messages (below).
  if (/^delayed[ _]connect[ _]error/i.test(v)) {
    const tf = decodeTransportFailureReason(v);
    if (tf && (tf.kind !== 'other')) return transportItem(line, tf);
  }
  if (/^[A-Za-z]+(?:,[A-Za-z]+)+$/.test(v) || /^[A-Z][a-z]+(?:[A-Z][a-z]+)+$/.test(v)) {
    const flags = parseResponseFlags(v);
    if (flags && flags.unknown.length === 0) return flagsItem(line, flags);
  }
  const details = decodeResponseCodeDetails(v);
  if (details?.known) return detailsItem(line, details);
  const sslErrs = parseEnvoySslErrors(v);
  if (sslErrs.length > 0 && /^\d{6,10}:/.test(v)) return sslItem(line, sslErrs[0].info, sslErrs[0], sslErrs[0].detail);
  return undefined;
}

/**
 * Explain pasted text. Never throws; text nothing recognises ends up in
 * `unrecognised`.
 */
export function explain(input: string): Explanation {
  const result: Explanation = { items: [], unrecognised: [], unrecognisedLines: [], uneventful: 0 };
  if (typeof input !== 'string') return result;
  const text = input.length > MAX_INPUT ? input.slice(0, MAX_INPUT) : input;
  const lines = text.split(/\r?\n/).map((l) => l.trim());

  // A curl transcript (or error) is explained as one block.
  const curlLines: string[] = [];
  let curlStart: number | undefined;
  const rest: Array<{ line: string; idx: number }> = [];
  const hasCurl = lines.some((l) => /^(?:\$ ?)?curl: \(\d+\)/.test(l) || /(?:^|\s)< HTTP\/[\d.]+ \d{3}/.test(l) || /^\*\s+(?:subject|issuer|Connected to|Trying)/.test(l) || /^(?:\$ ?)?curl\s+-/.test(l) || /certificate subject name '.*' does not match/.test(l) || /no alternative certificate subject name/.test(l));
  lines.forEach((line, idx) => {
    if (!line) return;
    if (hasCurl && (CURL_LINE.test(line) || /(?:^|\s)< HTTP\//.test(line))) {
      curlLines.push(line);
      curlStart ??= idx + 1;
    } else rest.push({ line, idx });
  });

  const bodyLines: Array<{ line: string; idx: number }> = [];
  const several = rest.length + curlLines.length > 1;
  for (const { line, idx } of rest) {
    const item = explainLine(line);
    if (item && several && isUneventful(line, item)) {
      result.uneventful++;
      continue;
    }
    if (item) {
      if (hasCurl && item.kind === 'envoy-body') {
        bodyLines.push({ line, idx });
        continue;
      }
      result.items.push({ ...item, line: idx + 1 });
    } else if (hasCurl) bodyLines.push({ line, idx });
    else unrecognised(result, line, idx);
  }
  if (hasCurl) {
    const transcript = [...curlLines, ...bodyLines.map((b) => b.line)].join('\n');
    const curl = parseCurlOutput(transcript);
    if (curl) result.items.push({ ...curlItem(transcript, curl), line: Math.min(curlStart ?? Infinity, ...bodyLines.map((b) => b.idx + 1)) });
    else lines.forEach((line, idx) => { if (curlLines.includes(line) || bodyLines.some((b) => b.idx === idx)) unrecognised(result, line, idx); });
  }
  // Input order: a paste is read top to bottom (the curl block where it started).
  result.items.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const order = result.unrecognisedLines.map((line, i) => ({ line, text: result.unrecognised[i] })).sort((a, b) => a.line - b.line);
  result.unrecognised = order.map((o) => o.text);
  result.unrecognisedLines = order.map((o) => o.line);
  for (const item of result.items) if (!item.inMesh) delete item.inMesh;
  return result;
}

function unrecognised(result: Explanation, line: string, idx: number): void {
  result.unrecognised.push(line);
  result.unrecognisedLines.push(idx + 1);
}

function isUneventful(line: string, item: ExplanationItem): boolean {
  if (item.kind === 'envoy-log') return parseEnvoyLogLine(line)?.kind === 'other';
  if (item.kind === 'access-log') {
    const e = parseAccessLogLine(line);
    return Boolean(e && e.responseFlags.length === 0 && e.responseCode !== undefined && e.responseCode >= 100 && e.responseCode < 400);
  }
  return false;
}

/** Explain a single line (also used for each line of a multi-line paste). */
export function explainLine(line: string): ExplanationItem | undefined {
  if (typeof line !== 'string') return undefined;
  const s = line.trim();
  if (!s || s.length > 65536) return undefined;
  const value = explainValue(s);
  if (value) return value;
  const ev = parseEnvoyLogLine(s);
  if (ev && ev.kind !== 'other') return envoyLogItem(s, ev);
  const entry = parseAccessLogLine(s);
  if (entry) return accessLogItem(s, entry);
  if (ev) return envoyLogItem(s, ev);
  const body = decodeEnvoyLocalReplyBody(s);
  if (body) return bodyItem(s, body);
  const ossl = parseOpenSslErrorString(s);
  if (ossl) {
    const c = parseCurlOutput(s);
    if (c) return curlItem(s, c);
  }
  return undefined;
}
