/**
 * Envoy's own log lines (not access logs), as an istio-proxy container prints them.
 *
 * Layouts (Istio's pilot-agent passes --log-format, istio/istio pkg/envoy/proxy.go):
 * - 'istio':        `%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t`
 * - 'istio-legacy': `%Y-%m-%dT%T.%fZ\t%l\tenvoy %n\t%v` (older Istio, no file:line)
 * - 'istio-json':   `{"level":"%l","time":"%Y-%m-%dT%T.%fZ","scope":"envoy %n","msg":"%j"[,"caller":"%g:%#","thread":%t]}`
 *                   (global.logAsJson / proxy LogAsJSON)
 * - 'envoy':        `[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v`; old Envoy printed
 *                   `file:line] ` without the opening bracket. Seed 004 quotes such
 *                   lines with the time and thread cut off:
 *                   `[debug][connection] external/envoy/source/common/ssl/ssl_socket.cc:139] [C31] SSL error: ...`
 * - 'bare':         only the message (`[C31] handshake error: 1`), accepted when it is
 *                   one of the events below.
 *
 * Connection ids: `[C123]` (and `[C123][S456]` for streams) before Envoy 1.27,
 * `[Tags: "ConnectionId":"123","StreamId":"456"]` since.
 *
 * TLS error messages (source/common/tls/ssl_socket.cc, drainErrorQueue):
 * - new: `remote address:10.0.0.5:443,TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:<detail>:TLS_error_end`
 * - old: `remote address:10.0.0.5:443,TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED`
 *   and, on 2018 builds, `SSL error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST`
 *   after `handshake error: N`.
 */
import { parseEnvoySslErrors, type EnvoySslError } from './boringssl.js';

export type EnvoyLogLayout = 'istio' | 'istio-legacy' | 'istio-json' | 'envoy' | 'bare';

export type EnvoyLogEventKind =
  | 'tls-error'
  | 'handshake-error'
  | 'closing-socket'
  | 'new-connection'
  | 'no-filter-chain'
  | 'upstream-reset'
  | 'rbac-check'
  | 'rbac-decision'
  | 'other';

export interface EnvoyLogEvent {
  raw: string;
  layout: EnvoyLogLayout;
  time?: string;
  level?: string;
  /** Envoy logger name: connection, conn_handler, router, filter, main... */
  logger?: string;
  /** Source file:line when printed. */
  source?: string;
  thread?: string;
  connectionId?: string;
  streamId?: string;
  /** The message without the connection/stream prefix. */
  message: string;
  kind: EnvoyLogEventKind;
  remoteAddress?: string;
  /** TLS errors in the message, decoded (first one is the usual culprit). */
  sslErrors: EnvoySslError[];
  sslErrorCode?: number;
  sslErrorName?: string;
  /** 'new' = TLS_error:|...:TLS_error_end (Envoy >= ~1.2x), 'old' = "TLS error: ..." / "SSL error: ...". */
  tlsErrorFormat?: 'old' | 'new';
  /** For handshake-error: the SSL_get_error() value. */
  handshakeError?: number;
  /** For closing-socket: the close type. */
  closeType?: number;
  /** For upstream-reset: the router's reset reason and transport failure reason. */
  resetReason?: string;
  transportFailureReason?: string;
  /** For rbac-check / rbac-decision: what the RBAC filter saw and decided (logger `rbac` at debug). */
  rbac?: RbacLogged;
}

/**
 * The RBAC filter's debug lines (source/extensions/filters/http/rbac/rbac_filter.cc,
 * network/rbac/rbac_filter.cc): `checking request: requestedServerName: …, sourceIP: …,
 * …, ssl: uriSanPeerCertificate: spiffe://…, dnsSanPeerCertificate: …` (or `ssl: none`:
 * no TLS peer, so no identity), then `enforced denied, matched policy ns[foo]-policy[x]-rule[0]`
 * (`shadow …` for dry-run rules; policy `none` when nothing matched).
 */
export interface RbacLogged {
  /** The peer certificate's URI SAN; null when the line says `ssl: none`. */
  peer?: string | null;
  requestedServerName?: string;
  sourceIp?: string;
  decision?: 'allowed' | 'denied';
  shadow?: boolean;
  policy?: string;
}

const LEVELS = '(trace|debug|info|warning|warn|error|critical|off)';

const ISTIO_RE = new RegExp(
  `^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z)[ \\t]+${LEVELS}[ \\t]+envoy[ \\t]+([\\w.-]+)(?:[ \\t]+(\\S+\\.(?:cc|h|cpp|c):\\d+))?[ \\t]+(.*)$`,
);

const ENVOY_RE = new RegExp(
  `^(?:\\[(\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z?)\\])?(?:\\[(\\d+)\\])?\\[${LEVELS}\\]\\[([\\w.-]+)\\][ \\t]*(?:\\[(\\S+:\\d+)\\]|(\\S+:\\d+)\\])?[ \\t]*(.*)$`,
);

/** SSL_get_error() values Envoy printed as "handshake error: N" on old builds. */
export const HANDSHAKE_ERRORS: Readonly<Record<number, string>> = {
  1: 'SSL_ERROR_SSL: fatal TLS error (the next "SSL error:"/"TLS error:" line says which)',
  2: 'SSL_ERROR_WANT_READ: waiting for more bytes, benign',
  3: 'SSL_ERROR_WANT_WRITE: waiting to write, benign',
  5: 'SSL_ERROR_SYSCALL: the socket failed (peer closed or reset)',
  6: 'SSL_ERROR_ZERO_RETURN: peer closed the TLS session',
};

function analyseMessage(ev: EnvoyLogEvent): void {
  let msg = ev.message;
  const cs = /^\[C(\d+)\](?:\[S(\d+)\])?\s*/.exec(msg);
  if (cs) {
    ev.connectionId = cs[1];
    ev.streamId = cs[2];
    msg = msg.slice(cs[0].length);
  } else {
    const tags = /^\[Tags: ([^\]]*)\]\s*/.exec(msg);
    if (tags) {
      const conn = /"ConnectionId":"(\d+)"/.exec(tags[1]);
      const stream = /"StreamId":"(\d+)"/.exec(tags[1]);
      ev.connectionId = conn?.[1];
      ev.streamId = stream?.[1];
      msg = msg.slice(tags[0].length);
    }
  }
  ev.message = msg;

  const tls = /^(?:remote address:([^,]+),)?((?:TLS_error:|TLS error:|SSL error:).*)$/.exec(msg);
  if (tls) {
    ev.kind = 'tls-error';
    ev.remoteAddress = tls[1];
    ev.tlsErrorFormat = tls[2].startsWith('TLS_error:') ? 'new' : 'old';
    ev.sslErrors = parseEnvoySslErrors(tls[2]);
    const first = ev.sslErrors.find((e) => e.info) ?? ev.sslErrors[0];
    ev.sslErrorCode = first?.code;
    ev.sslErrorName = first?.name;
    return;
  }
  let m: RegExpExecArray | null;
  if ((m = /^handshake error: (\d+)/.exec(msg))) {
    ev.kind = 'handshake-error';
    ev.handshakeError = Number(m[1]);
  } else if ((m = /^closing socket: (\d+)/.exec(msg))) {
    ev.kind = 'closing-socket';
    ev.closeType = Number(m[1]);
  } else if ((m = /^closing connection(?: from (\S+?))?: no matching filter chain found/.exec(msg))) {
    ev.kind = 'no-filter-chain';
    ev.remoteAddress = m[1];
  } else if ((m = /^new connection(?: from (\S+))?\s*$/.exec(msg))) {
    ev.kind = 'new-connection';
    ev.remoteAddress = m[1];
  } else if ((m = /^checking (?:request|connection): (.*)$/s.exec(msg))) {
    ev.kind = 'rbac-check';
    const peer = /\bssl: (none|uriSanPeerCertificate: ([^,]*))/.exec(m[1]);
    const sni = /requestedServerName: ([^,]*)/.exec(m[1]);
    const source = /sourceIP: ([^,]*)/.exec(m[1]);
    ev.rbac = {
      ...(peer ? { peer: peer[1] === 'none' ? null : peer[2].trim() } : {}),
      ...(sni ? { requestedServerName: sni[1].trim() } : {}),
      ...(source ? { sourceIp: source[1].trim() } : {}),
    };
  } else if ((m = /^(enforced|shadow) (allowed|denied), matched policy (.+)$/.exec(msg))) {
    ev.kind = 'rbac-decision';
    ev.rbac = { decision: m[2] as 'allowed' | 'denied', shadow: m[1] === 'shadow', policy: m[3].trim() };
  } else if ((m = /^upstream reset: reset reason:? ([^,]+?)(?:, transport failure reason: (.*))?$/.exec(msg))) {
    ev.kind = 'upstream-reset';
    ev.resetReason = m[1].trim();
    const tf = m[2]?.trim();
    ev.transportFailureReason = tf ? tf : undefined;
    if (tf) {
      ev.sslErrors = parseEnvoySslErrors(tf);
      const first = ev.sslErrors.find((e) => e.info) ?? ev.sslErrors[0];
      ev.sslErrorCode = first?.code;
      ev.sslErrorName = first?.name;
      if (ev.sslErrors.length) ev.tlsErrorFormat = tf.includes('TLS_error:') ? 'new' : 'old';
    }
  }
}

function newEvent(raw: string, layout: EnvoyLogLayout, message: string): EnvoyLogEvent {
  return { raw, layout, message, kind: 'other', sslErrors: [] };
}

function parseJsonLine(line: string): EnvoyLogEvent | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  if (typeof o.scope !== 'string' || !o.scope.startsWith('envoy ') || typeof o.msg !== 'string') return undefined;
  const ev = newEvent(line, 'istio-json', o.msg);
  ev.level = typeof o.level === 'string' ? o.level : undefined;
  ev.time = typeof o.time === 'string' ? o.time : undefined;
  ev.logger = o.scope.slice('envoy '.length);
  ev.source = typeof o.caller === 'string' ? o.caller : undefined;
  ev.thread = typeof o.thread === 'number' || typeof o.thread === 'string' ? String(o.thread) : undefined;
  analyseMessage(ev);
  return ev;
}

/**
 * Parse one Envoy log line. Returns undefined for lines that are not Envoy log
 * lines (access-log lines, pilot-agent's own lines, free text). Never throws.
 */
export function parseEnvoyLogLine(line: string): EnvoyLogEvent | undefined {
  if (typeof line !== 'string') return undefined;
  const s = line.replace(/\r$/, '').trim();
  if (!s || s.length > 65536) return undefined;
  if (s.startsWith('{')) return parseJsonLine(s);
  let m = ISTIO_RE.exec(s);
  if (m) {
    // The thread suffix is split off separately: a lazy (.*?) before it backtracks
    // quadratically on long lines.
    let message = m[5];
    let thread: string | undefined;
    const t = /[ \t]thread=(\d+)$/.exec(message);
    if (t) {
      thread = t[1];
      message = message.slice(0, t.index).trimEnd();
    }
    const ev = newEvent(s, m[4] ? 'istio' : 'istio-legacy', message);
    ev.time = m[1];
    ev.level = m[2];
    ev.logger = m[3];
    ev.source = m[4];
    ev.thread = thread;
    analyseMessage(ev);
    return ev;
  }
  m = ENVOY_RE.exec(s);
  if (m) {
    const ev = newEvent(s, 'envoy', m[7]);
    ev.time = m[1];
    ev.thread = m[2];
    ev.level = m[3];
    ev.logger = m[4];
    ev.source = m[5] ?? m[6];
    analyseMessage(ev);
    return ev;
  }
  // A bare message is accepted only when it is one of the events we know.
  const ev = newEvent(s, 'bare', s);
  analyseMessage(ev);
  return ev.kind === 'other' ? undefined : ev;
}

export interface ParsedEnvoyLog {
  events: Array<EnvoyLogEvent & { lineNumber: number }>;
  otherLines: number;
}

/**
 * Parse a whole container log; access-log and other lines are counted, not returned.
 * Some debug messages span lines (the router's "router decoding headers:" prints one
 * header per line and its `thread=N` on a line of its own — seen on real Envoy 1.40 in
 * the mesh lab): lines after an Istio-layout event that has not yet shown its thread
 * belong to that event.
 */
export function parseEnvoyLog(text: string): ParsedEnvoyLog {
  const out: ParsedEnvoyLog = { events: [], otherLines: 0 };
  if (typeof text !== 'string') return out;
  let open: (EnvoyLogEvent & { lineNumber: number }) | undefined;
  text.split('\n').forEach((line, idx) => {
    const ev = parseEnvoyLogLine(line);
    if (ev) {
      const event = { ...ev, lineNumber: idx + 1 };
      out.events.push(event);
      open = ev.layout === 'istio' && ev.thread === undefined ? event : undefined;
      return;
    }
    if (open && line !== '') {
      continueEvent(open, line);
      if (open.thread !== undefined) open = undefined;
      return;
    }
    out.otherLines++;
  });
  return out;
}

function continueEvent(event: EnvoyLogEvent, line: string): void {
  event.raw += `\n${line}`;
  const thread = /^\s*thread=(\d+)$/.exec(line) ?? /[ \t]thread=(\d+)$/.exec(line);
  if (thread) event.thread = thread[1];
  const text = thread ? line.slice(0, thread.index).trimEnd() : line;
  if (text.trim()) event.message += `\n${text}`;
}

/** Events for one connection id, in log order (e.g. to follow C31 from accept to close). */
export function eventsForConnection(events: readonly EnvoyLogEvent[], connectionId: string): EnvoyLogEvent[] {
  return events.filter((e) => e.connectionId === connectionId);
}
