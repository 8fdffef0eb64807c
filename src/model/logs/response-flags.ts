/**
 * Envoy %RESPONSE_FLAGS%, %RESPONSE_CODE_DETAILS% and
 * %UPSTREAM_TRANSPORT_FAILURE_REASON%, decoded for a mesh.
 *
 * Sources: envoy source/common/stream_info/utility.h (short and long flag
 * names, ResponseFlagUtils), envoy/stream_info/stream_info.h (CoreResponseFlag
 * enum incl. DownstreamRemoteReset and UnconditionalDropOverload;
 * ResponseCodeDetailValues), docs/root/configuration/observability/access_log/usage.rst
 * (flag meanings and status codes), docs/.../http_conn_man/response_code_details.rst,
 * source/common/router/router.cc (upstream reset details and local-reply body),
 * source/common/http/utility.cc resetReasonToString.
 */
import { parseEnvoySslErrors, ERRNO, type EnvoySslError } from './boringssl.js';
import type { DiagnosisName } from './diagnosis.js';

export interface ResponseFlagInfo {
  /** Short code as logged: "UF". */
  code: string;
  /** PascalCase long name (%RESPONSE_FLAGS_LONG%): "UpstreamConnectionFailure". */
  longName: string;
  /** Envoy's own description. */
  meaning: string;
  /** What it usually means for a sidecar. */
  inMesh: string;
  /** HTTP status Envoy sends with it, when it has a typical one. */
  typicalStatus?: number;
  /** 'http' flags only occur on HTTP streams; 'http+tcp' also on tcp_proxy entries. */
  scope: 'http' | 'http+tcp';
  next?: DiagnosisName;
}

const f = (
  code: string,
  longName: string,
  scope: ResponseFlagInfo['scope'],
  meaning: string,
  inMesh: string,
  typicalStatus?: number,
  next?: DiagnosisName,
): ResponseFlagInfo => ({ code, longName, scope, meaning, inMesh, typicalStatus, next });

/** Every core flag, in Envoy's enum order (CoreResponseFlag). */
export const RESPONSE_FLAGS: readonly ResponseFlagInfo[] = [
  f('LH', 'FailedLocalHealthCheck', 'http', 'Local service failed a health check request.',
    'The local app failed the health check Envoy serves on its behalf.', 503, 'why-503'),
  f('UH', 'NoHealthyUpstream', 'http+tcp', 'No healthy upstream hosts in the upstream cluster.',
    'The cluster has no usable endpoint: no endpoints at all (selector matches no ready pod, subset with no pods), every endpoint ejected by outlier detection, or BlackHoleCluster (REGISTRY_ONLY blocking HTTPS/TCP to an unregistered host).', 503, 'why-503'),
  f('UT', 'UpstreamRequestTimeout', 'http', 'Upstream request timeout.',
    'The route timeout (VirtualService timeout, default 15 s for HTTP routes Istio builds, or disabled) expired before the upstream answered.', 504, 'why-503'),
  f('LR', 'LocalReset', 'http', 'Connection local reset.',
    'Envoy itself reset the stream (e.g. a codec or protocol error it detected).', 503, 'why-503'),
  f('UR', 'UpstreamRemoteReset', 'http', 'Upstream remote reset.',
    'The upstream (or the server sidecar) reset the stream: app crash, HTTP/2 RST_STREAM, server-side proxy refusing.', 503, 'why-503'),
  f('UF', 'UpstreamConnectionFailure', 'http+tcp', 'Upstream connection failure.',
    'The client sidecar could not connect to the endpoint: refused (nothing listening; after Istio 1.10 an app bound to 127.0.0.1), timed out, or the TLS handshake failed (see the transport failure reason).', 503, 'why-503'),
  f('UC', 'UpstreamConnectionTermination', 'http', 'Upstream connection termination.',
    'The connection to the upstream closed before a response: the server sidecar closed it (e.g. plaintext reaching an mTLS STRICT port), or the app closed an idle keep-alive connection.', 503, 'why-503'),
  f('UO', 'UpstreamOverflow', 'http+tcp', 'Upstream overflow (circuit breaking).',
    'A DestinationRule connectionPool limit (maxConnections, http1MaxPendingRequests, http2MaxRequests...) was hit.', 503, 'why-503'),
  f('NR', 'NoRouteFound', 'http+tcp', 'No route configured for a request, or no matching filter chain for a downstream connection.',
    'HTTP: no VirtualService/route matched the host/path (404). TCP ("- - -" 0 NR filter_chain_not_found): the listener had no filter chain for this connection, typically an inbound port expecting mTLS receiving plaintext or the reverse, or a port with no chain at all.', 404, 'why-inbound-fails'),
  f('DI', 'DelayInjected', 'http', 'The request was delayed by fault injection.',
    'A VirtualService fault.delay applied.', undefined),
  f('FI', 'FaultInjected', 'http', 'The request was aborted with a response code by fault injection.',
    'A VirtualService fault.abort applied; the status is the configured one.', undefined),
  f('RL', 'RateLimited', 'http', 'Rate limited locally by the HTTP rate limit filter.',
    'An EnvoyFilter rate limit (local or global) rejected the request.', 429),
  f('UAEX', 'UnauthorizedExternalService', 'http', 'Denied by the external authorization service.',
    'An AuthorizationPolicy CUSTOM action (ext_authz) denied the request.', 403),
  f('RLSE', 'RateLimitServiceError', 'http', 'Rejected because of an error in the rate limit service.',
    'The rate limit service was unreachable and failure_mode_deny is set.', 500),
  f('DC', 'DownstreamConnectionTermination', 'http', 'Downstream connection termination.',
    'The caller closed the connection before the response (client timeout, user abort); usually logged with status 0.', 0),
  f('URX', 'UpstreamRetryLimitExceeded', 'http+tcp', 'Upstream retry limit (HTTP) or maximum connect attempts (TCP) reached.',
    'Retries were exhausted; read the other flag on the line (UF, UC, UH) for why each attempt failed.', 503, 'why-503'),
  f('SI', 'StreamIdleTimeout', 'http', 'Stream idle timeout.',
    'No bytes on the stream for the idle timeout (streamIdleTimeout, default 5 min in Envoy; Istio sets none by default).', 408),
  f('IH', 'InvalidEnvoyRequestHeaders', 'http', 'Invalid value in a strictly-checked x-envoy-* header.',
    'A caller sent a malformed x-envoy-* header.', 400),
  f('DPE', 'DownstreamProtocolError', 'http', 'The downstream request had an HTTP protocol error.',
    'The caller spoke bad HTTP to the sidecar, or non-HTTP bytes (e.g. TLS) reached an HTTP listener.', 400),
  f('UMSDR', 'UpstreamMaxStreamDurationReached', 'http', 'The upstream request reached max stream duration.',
    'A maxStreamDuration / route max_stream_duration expired.'),
  f('RFCF', 'ResponseFromCacheFilter', 'http', 'The response was served from the cache filter.',
    'Served from an Envoy cache, not the upstream.', undefined),
  f('NFCF', 'NoFilterConfigFound', 'http', 'A filter config (ECDS) was not received within the warming deadline.',
    'An extension config (e.g. a WasmPlugin) never arrived from istiod.'),
  f('DT', 'DurationTimeout', 'http+tcp', 'The request or connection exceeded max_connection_duration / max_downstream_connection_duration.',
    'A connection or stream duration limit expired.', undefined),
  f('UPE', 'UpstreamProtocolError', 'http', 'The upstream response had an HTTP protocol error.',
    'The upstream answered with something that is not valid HTTP for the protocol the sidecar used: e.g. h2 sent to an HTTP/1.1-only app (port named grpc/http2), or TLS bytes back from a port treated as HTTP. The router answers 503 (reset reason protocol error).', 503, 'why-503'),
  f('NC', 'NoClusterFound', 'http+tcp', 'Upstream cluster not found.',
    'The route points at a cluster the sidecar does not have: a VirtualService destination host/subset without a matching Service/ServiceEntry/DestinationRule subset, or hidden by a Sidecar resource.', 503, 'why-503'),
  f('OM', 'OverloadManagerTerminated', 'http', 'Overload Manager terminated the request.',
    'The sidecar is over a resource limit (memory, connections).', 503, 'why-503'),
  f('DF', 'DnsResolutionFailed', 'http', 'Terminated because DNS resolution failed.',
    'A DNS-resolved cluster (ServiceEntry resolution DNS, dynamic forward proxy) could not resolve the host.', 503, 'why-503'),
  f('DO', 'DropOverload', 'http+tcp', 'Dropped by the cluster drop_overload policy.',
    'A percentage of traffic is dropped by the cluster load-assignment drop policy.', 503, 'why-503'),
  f('DR', 'DownstreamRemoteReset', 'http', 'Downstream remote codec-level reset was received on the stream.',
    'The caller reset its stream (HTTP/2 RST_STREAM, gRPC cancellation).', 0),
  // DR and UDO are the newest core flags (CoreResponseFlag::DownstreamRemoteReset,
  // ::UnconditionalDropOverload in envoy/stream_info/stream_info.h). DR's short code is
  // in source/common/stream_info/utility.h; UDO's is taken from shared/reference/envoy-istio.md.
  f('UDO', 'UnconditionalDropOverload', 'http+tcp', 'All traffic dropped because drop_overload is set to 100%.',
    'The cluster drops every request by configuration.', 503, 'why-503'),
];

const flagByCode = new Map(RESPONSE_FLAGS.map((x) => [x.code, x] as const));
const flagByLong = new Map(RESPONSE_FLAGS.map((x) => [x.longName.toLowerCase(), x] as const));

export function lookupResponseFlag(codeOrLongName: string): ResponseFlagInfo | undefined {
  if (typeof codeOrLongName !== 'string') return undefined;
  const s = codeOrLongName.trim();
  return flagByCode.get(s.toUpperCase()) ?? flagByLong.get(s.toLowerCase());
}

export interface ParsedResponseFlags {
  raw: string;
  /** True for "-" (no flag). */
  none: boolean;
  flags: ResponseFlagInfo[];
  /** Codes that look like flags but are not core ones (custom flags registered by extensions). */
  unknown: string[];
}

/**
 * Parse %RESPONSE_FLAGS% ("UF,URX", "-") or %RESPONSE_FLAGS_LONG%
 * ("UpstreamConnectionFailure,UpstreamRetryLimitExceeded"). Returns undefined
 * when the text is not a flag list at all.
 */
export function parseResponseFlags(text: string): ParsedResponseFlags | undefined {
  if (typeof text !== 'string') return undefined;
  const raw = text.trim();
  if (raw === '-') return { raw, none: true, flags: [], unknown: [] };
  if (!raw || raw.length > 300 || !/^[A-Za-z]+(?:\s*,\s*[A-Za-z]+)*$/.test(raw)) return undefined;
  const parts = raw.split(',').map((p) => p.trim());
  const flags: ResponseFlagInfo[] = [];
  const unknown: string[] = [];
  for (const p of parts) {
    const info = /^[A-Z]{2,5}$/.test(p) ? flagByCode.get(p) : flagByLong.get(p.toLowerCase());
    if (info) flags.push(info);
    else if (/^[A-Z]{2,6}$/.test(p)) unknown.push(p);
    else return undefined;
  }
  if (flags.length === 0) return undefined;
  return { raw, none: false, flags, unknown };
}

// ---------------------------------------------------------------------------
// Upstream reset reasons (Http::Utility::resetReasonToString), as they appear
// in the local-reply body (with spaces) and in details (spaces -> '_').

export interface ResetReasonInfo {
  text: string;
  meaning: string;
  /** Flag the router sets for it (Filter::streamResetReasonToResponseFlag). */
  flag?: string;
}

export const RESET_REASONS: readonly ResetReasonInfo[] = [
  { text: 'local connection failure', flag: 'UF', meaning: 'The sidecar could not even start the connection locally (e.g. bind failure, no source address).' },
  { text: 'remote connection failure', flag: 'UF', meaning: 'Connecting to the endpoint failed: refused, unreachable, or the TLS handshake failed.' },
  { text: 'connection failure', flag: 'UF', meaning: 'Connecting to the endpoint failed (older Envoy wording, before local/remote were split).' },
  { text: 'connection timeout', flag: 'UF', meaning: 'The connect timeout (DestinationRule connectTimeout, default 10 s) expired.' },
  { text: 'connection termination', flag: 'UC', meaning: 'The upstream connection was closed before the response headers arrived.' },
  { text: 'local reset', flag: 'LR', meaning: 'Envoy reset the stream itself.' },
  { text: 'local refused stream reset', flag: 'LR', meaning: 'Envoy refused the stream (retriable).' },
  { text: 'overflow', flag: 'UO', meaning: 'A circuit-breaker limit was hit.' },
  { text: 'remote reset', flag: 'UR', meaning: 'The upstream reset the stream.' },
  { text: 'remote refused stream reset', flag: 'UR', meaning: 'The upstream refused the stream (HTTP/2 REFUSED_STREAM).' },
  { text: 'remote error with CONNECT request', meaning: 'The upstream failed a CONNECT request.' },
  { text: 'protocol error', flag: 'UPE', meaning: 'The upstream response broke the HTTP protocol.' },
  { text: 'overload manager reset', flag: 'OM', meaning: 'The overload manager reset the stream.' },
];

const resetByKey = new Map<string, ResetReasonInfo>();
for (const r of RESET_REASONS) {
  resetByKey.set(r.text.toLowerCase(), r);
  resetByKey.set(r.text.toLowerCase().replace(/ /g, '_'), r);
}

export function lookupResetReason(text: string): ResetReasonInfo | undefined {
  if (typeof text !== 'string') return undefined;
  return resetByKey.get(text.trim().toLowerCase());
}

// ---------------------------------------------------------------------------
// %UPSTREAM_TRANSPORT_FAILURE_REASON%

export interface TransportFailureReason {
  raw: string;
  kind: 'tls' | 'connect-errno' | 'other';
  /** For delayed_connect_error:_111 / "delayed connect error: 111". */
  errno?: number;
  errnoName?: string;
  sslErrors: EnvoySslError[];
  meaning: string;
  next?: DiagnosisName;
}

export function decodeTransportFailureReason(text: string): TransportFailureReason | undefined {
  if (typeof text !== 'string') return undefined;
  const raw = text.trim().replace(/^"|"$/g, '');
  if (!raw || raw === '-' || raw.length > 4000) return undefined;
  const connect = /delayed[ _]connect[ _]error:[ _]*(\d+)/i.exec(raw);
  if (connect) {
    const errno = Number(connect[1]);
    const e = ERRNO[errno];
    const refused = errno === 111;
    return {
      raw,
      kind: 'connect-errno',
      errno,
      errnoName: e?.name,
      sslErrors: [],
      meaning: refused
        ? 'TCP connect was refused (errno 111 ECONNREFUSED): nothing listens on that address and port. On an inbound|PORT|| cluster after Istio 1.10 this is the app bound to 127.0.0.1/localhost only, since the sidecar now connects to the pod IP.'
        : `TCP connect failed with errno ${errno}${e ? ` (${e.name}: ${e.text})` : ''}.`,
      next: refused ? 'why-inbound-fails' : 'why-503',
    };
  }
  const sslErrors = parseEnvoySslErrors(raw);
  if (sslErrors.length > 0 || /TLS[ _]error|SSL[ _]error/i.test(raw)) {
    const first = sslErrors.find((e) => e.info) ?? sslErrors[0];
    return {
      raw,
      kind: 'tls',
      sslErrors,
      meaning: first?.info
        ? `TLS handshake to the upstream failed: ${first.name}. ${first.info.meaning}`
        : 'TLS handshake to the upstream failed.',
      next: first?.info?.next ?? 'why-https-fails',
    };
  }
  return { raw, kind: 'other', sslErrors: [], meaning: 'Transport failure reported by the upstream transport socket.' };
}

// ---------------------------------------------------------------------------
// %RESPONSE_CODE_DETAILS%

export interface ResponseCodeDetailInfo {
  name: string;
  meaning: string;
  inMesh: string;
  next?: DiagnosisName;
}

const d = (name: string, meaning: string, inMesh: string, next?: DiagnosisName): ResponseCodeDetailInfo => ({ name, meaning, inMesh, next });

/** Core details (ResponseCodeDetailValues) plus the ones Istio users meet from filters. */
export const RESPONSE_CODE_DETAILS: readonly ResponseCodeDetailInfo[] = [
  d('via_upstream', 'The response code was set by the upstream.', 'The app (or the next proxy) produced this status; Envoy only relayed it. Look at the app, not the mesh.'),
  d('direct_response', 'A direct response was generated by the router filter.', 'A route answered without any upstream. With status 502 and route block_all this is REGISTRY_ONLY blocking an unregistered host on an HTTP port; otherwise a VirtualService/EnvoyFilter direct response.', 'why-502'),
  d('route_not_found', 'No route matched the request.', 'No VirtualService/Service route for this Host/path on this port (404); check the Host header and the route table.', 'why-503'),
  d('route_configuration_not_found', 'No route configuration was found.', 'The listener references an RDS route config istiod did not send (yet).', 'why-503'),
  d('cluster_not_found', 'The selected route points to a cluster that does not exist.', 'A VirtualService destination (host or subset) has no cluster on this sidecar: missing DestinationRule subset, Service/ServiceEntry, or hidden by a Sidecar resource.', 'why-503'),
  d('no_healthy_upstream', 'No healthy upstream host.', 'All endpoints missing or ejected (outlier detection), or BlackHoleCluster.', 'why-503'),
  d('maintenance_mode', 'The cluster is in maintenance mode.', 'Runtime maintenance mode set on the cluster.'),
  d('drop_overload', 'Dropped by the cluster drop_overload configuration.', 'Load-assignment drop policy.'),
  d('unconditional_drop_overload', 'Dropped: drop_overload is 100%.', 'Every request is dropped by configuration.'),
  d('response_timeout', 'The upstream response timed out.', 'The route timeout expired (504).', 'why-503'),
  d('upstream_response_timeout', 'The upstream response timed out (older name).', 'The route timeout expired (504).', 'why-503'),
  d('upstream_per_try_timeout', 'The final upstream try timed out.', 'A retry perTryTimeout expired on the last attempt.', 'why-503'),
  d('upstream_per_try_idle_timeout', 'The final upstream try idle timed out.', 'perTryIdleTimeout expired.', 'why-503'),
  d('upstream_max_stream_duration_reached', 'The upstream request exceeded max stream duration.', 'maxStreamDuration expired.'),
  d('upstream_reset_before_response_started', 'The upstream connection was reset before a response started; braces carry the reset reason and the transport failure reason.', 'The sidecar never got response headers from the upstream.', 'why-503'),
  d('upstream_reset_after_response_started', 'The upstream connection was reset after a response started.', 'The app or server sidecar dropped the connection mid-response (crash, timeout, body too large).', 'why-503'),
  d('filter_chain_not_found', 'No filter chain matched the connection.', 'The listener had no filter chain for this connection (logged as "- - -" 0 NR). On an inbound (server) sidecar this is usually an mTLS/plaintext mismatch: plaintext to a STRICT-only port, or TLS where only plaintext chains exist.', 'why-inbound-fails'),
  d('downstream_remote_disconnect', 'The client disconnected unexpectedly.', 'The caller went away (timeout on the caller side, cancelled request).'),
  d('downstream_local_disconnect', 'The client connection was closed locally by Envoy.', 'The sidecar closed the caller connection (reason in parentheses, e.g. filter_chain_is_being_removed during a listener update).'),
  d('duration_timeout', 'The max connection duration was exceeded.', 'maxConnectionDuration expired.'),
  d('stream_idle_timeout', 'The per-stream idle timeout was exceeded.', 'No bytes on the stream for the idle timeout.'),
  d('max_duration_timeout', 'The per-stream max duration was exceeded.', 'max_stream_duration expired.'),
  d('request_overall_timeout', 'The per-stream total request timeout was exceeded.', 'request_timeout expired.'),
  d('request_header_timeout', 'The request header timeout was exceeded.', 'Headers arrived too slowly.'),
  d('overload', 'Rejected by the overload manager.', 'The sidecar is overloaded.', 'why-503'),
  d('low_version', 'HTTP/1.0 or 0.9 rejected.', 'The caller used HTTP/1.0; Istio accepts it only with PILOT_HTTP10 or per-workload settings.'),
  d('missing_host_header', 'Missing Host/:authority.', 'The caller sent no Host header.'),
  d('missing_path_rejected', 'Missing :path.', 'Malformed request.'),
  d('absolute_path_rejected', 'Absolute path on a route that does not support it.', 'Caller used an absolute-form URL.'),
  d('path_normalization_failed', 'Path normalization failed.', 'The path is invalid under the mesh path normalization setting.'),
  d('request_headers_failed_strict_check', 'x-envoy-* headers failed strict validation.', 'Malformed x-envoy-* header.'),
  d('request_payload_too_large', 'Request body exceeded a buffer limit.', 'A buffering filter limit was hit.'),
  d('response_payload_too_large', 'Response body exceeded a buffer limit.', 'A buffering filter limit was hit.'),
  d('request_payload_exceeded_retry_buffer_limit', 'Too much data arrived while waiting to retry.', 'Large request body with retries.'),
  d('upgrade_failed', 'Unsupported upgrade.', 'WebSocket/CONNECT upgrade not allowed on the route.'),
  d('internal_redirect', 'Replaced by an internal redirect.', 'Internal redirect policy.'),
  d('admin_filter_response', 'Generated by the admin filter.', 'Response from the Envoy admin interface.'),
  d('rbac_access_denied_matched_policy', 'Denied by the RBAC filter (AuthorizationPolicy).', 'An AuthorizationPolicy DENY matched, or no ALLOW policy matched (policy name in brackets, [none] when nothing allowed it).'),
  d('ext_authz_denied', 'Denied by the external authorization filter.', 'AuthorizationPolicy CUSTOM (ext_authz) denied the request.'),
  d('ext_authz_error', 'The external authorization service errored.', 'ext_authz provider unreachable or failing.'),
  d('fault_filter_abort', 'Aborted by fault injection.', 'VirtualService fault.abort.'),
  d('local_rate_limited', 'Rejected by the local rate limit filter.', 'Local rate limit EnvoyFilter.'),
  d('request_rate_limited', 'Rejected by the rate limit filter.', 'Global rate limit.'),
  d('jwt_authn_access_denied', 'Rejected by JWT authentication.', 'RequestAuthentication: missing or invalid JWT.'),
];

const detailByName = new Map(RESPONSE_CODE_DETAILS.map((x) => [x.name, x] as const));

export interface DecodedResponseCodeDetails {
  raw: string;
  /** Base name before {..}, (..) or [..]: "upstream_reset_before_response_started". */
  name: string;
  known: boolean;
  info?: ResponseCodeDetailInfo;
  /** Text inside the braces / parentheses / brackets. */
  argument?: string;
  /** Reset reason for upstream_reset_*: "remote connection failure". */
  resetReason?: ResetReasonInfo & { raw: string };
  /** Transport failure reason inside the braces, decoded. */
  transportFailure?: TransportFailureReason;
  /** Codec details such as http1.codec_error. */
  codec?: string;
  next?: DiagnosisName;
}

/**
 * Decode a %RESPONSE_CODE_DETAILS% value. Handles both separators Envoy has
 * used between the reset reason and the transport failure reason inside the
 * braces: ',' (e.g. Istio 1.10: "{remote_connection_failure,delayed_connect_error:_111}")
 * and '|' (newer: "{remote_connection_failure|TLS_error:|268435703:...:TLS_error_end}").
 * Returns undefined for text that is not a details token.
 */
export function decodeResponseCodeDetails(text: string): DecodedResponseCodeDetails | undefined {
  if (typeof text !== 'string') return undefined;
  const raw = text.trim();
  if (!raw || raw === '-' || raw.length > 4000) return undefined;
  const m = /^([a-z][a-z0-9_.]*)(?:([{(\[])([\s\S]*)([})\]]))?$/.exec(raw);
  if (!m) return undefined;
  const name = m[1];
  const argument = m[3];
  const info = detailByName.get(name);
  const codec = /^(http1|http2|http3)\./.test(name) ? name : undefined;
  if (!info && !codec && !/_/.test(name)) return undefined;
  const out: DecodedResponseCodeDetails = { raw, name, known: Boolean(info || codec), info, argument, codec, next: info?.next };
  if (codec) out.next = 'why-502';
  if (argument !== undefined && /^upstream_reset_(before|after)_response_started$/.test(name)) {
    const resetKeys = RESET_REASONS.map((r) => r.text.replace(/ /g, '_')).sort((a, b) => b.length - a.length);
    const arg = argument.replace(/ /g, '_');
    const key = resetKeys.find((k) => arg === k || arg.startsWith(`${k},`) || arg.startsWith(`${k}|`));
    if (key) {
      const rr = lookupResetReason(key);
      if (rr) out.resetReason = { ...rr, raw: key };
      const rest = arg.slice(key.length + 1);
      if (rest) out.transportFailure = decodeTransportFailureReason(rest);
    } else if (arg) {
      out.transportFailure = decodeTransportFailureReason(arg);
    }
    if (out.transportFailure?.next) out.next = out.transportFailure.next;
  }
  return out;
}

/** The body Envoy sends with a reset ("upstream connect error or disconnect/reset before headers. ..."). */
export interface EnvoyLocalReplyBody {
  raw: string;
  kind: 'upstream-reset' | 'no-healthy-upstream' | 'upstream-timeout' | 'other';
  retried: boolean;
  resetReason?: ResetReasonInfo & { raw: string };
  transportFailure?: TransportFailureReason;
  meaning: string;
  next?: DiagnosisName;
}

/**
 * Decode the local-reply bodies Envoy writes (router.cc): "upstream connect
 * error or disconnect/reset before headers[. [retried and the latest ]reset
 * reason: R[, transport failure reason: T]]", "no healthy upstream",
 * "upstream request timeout".
 */
export function decodeEnvoyLocalReplyBody(text: string): EnvoyLocalReplyBody | undefined {
  if (typeof text !== 'string' || text.length > 20000) return undefined;
  const raw = text.trim();
  const reset = /upstream connect error or disconnect\/reset before headers\.?(?:\s*(retried and the latest )?reset reason:\s*([^,\n]+?)(?:,\s*transport failure reason:\s*([^\n]+))?)?\s*$/m.exec(raw);
  if (reset) {
    const resetText = reset[2]?.trim();
    const rr = resetText ? lookupResetReason(resetText) : undefined;
    const tf = reset[3] ? decodeTransportFailureReason(reset[3]) : undefined;
    const parts = ['Envoy gave up before getting response headers from the upstream (status 503).'];
    if (rr) parts.push(`Reset reason "${rr.text}": ${rr.meaning}`);
    if (tf) parts.push(tf.meaning);
    if (!resetText)
      parts.push('Older Envoy prints no reason here: read the client sidecar access log (UF, UC...) and the server sidecar log.');
    return {
      raw: reset[0],
      kind: 'upstream-reset',
      retried: Boolean(reset[1]),
      resetReason: rr ? { ...rr, raw: resetText! } : undefined,
      transportFailure: tf,
      meaning: parts.join(' '),
      next: tf?.next ?? 'why-503',
    };
  }
  if (/^no healthy upstream\s*$/m.test(raw))
    return {
      raw: 'no healthy upstream',
      kind: 'no-healthy-upstream',
      retried: false,
      meaning: 'Envoy had no usable endpoint in the cluster (flag UH, 503): no ready endpoints, or all ejected by outlier detection.',
      next: 'why-503',
    };
  if (/^upstream request timeout\s*$/m.test(raw))
    return {
      raw: 'upstream request timeout',
      kind: 'upstream-timeout',
      retried: false,
      meaning: 'The route timeout expired before the upstream answered (flag UT, 504).',
      next: 'why-503',
    };
  return undefined;
}
