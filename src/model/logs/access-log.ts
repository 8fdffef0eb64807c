/**
 * Istio sidecar access-log lines, in every shape mesh-doctor meets:
 *
 * - 'istio-text': Istio >= 1.9 default TEXT format
 *     [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 *     %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
 *     "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 *     %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 *     "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
 *     %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
 *     %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 * - 'istio-text-legacy': older formats without the details fields, either
 *   Envoy's default layout as Istio <= 1.1 logged it (seed 004:
 *   `"GET /get HTTP/1.1" 503 UC 0 57 0 - "-" "curl/7.35.0" "<id>" "httpbin:8000" "172.17.0.14:8000"`)
 *   or Istio 1.2-1.8's EnvoyTextLogFormat12/13 (istio/istio pilot listener.go), which
 *   has `"%DYNAMIC_METADATA(istio.mixer:status)%" "%UPSTREAM_TRANSPORT_FAILURE_REASON%"`
 *   after the flags.
 * - 'json': accessLogEncoding JSON (keys start_time, response_code, ...).
 * - 'unknown': a fragment that is recognisably an access-log excerpt (e.g. an
 *   issue quoting `... 503 UF upstream_reset_before_response_started{...} ...`);
 *   whatever could be read is filled in.
 *
 * User-appended fields are kept in `extra`. Parsers never throw: a line that is
 * not an access-log line gives undefined.
 */
import { parseResponseFlags, decodeResponseCodeDetails } from './response-flags.js';

export type AccessLogFormat = 'istio-text' | 'istio-text-legacy' | 'json' | 'unknown';

export interface AccessLogEntry {
  raw: string;
  format: AccessLogFormat;
  startTime?: string;
  method?: string;
  path?: string;
  protocol?: string;
  /** 0 for TCP entries and requests that never got a response. */
  responseCode?: number;
  /** Short flag codes; [] for "-". */
  responseFlags: string[];
  responseCodeDetails?: string;
  connectionTerminationDetails?: string;
  upstreamTransportFailureReason?: string;
  /** Istio 1.2-1.8 only: %DYNAMIC_METADATA(istio.mixer:status)%. */
  policyStatus?: string;
  bytesReceived?: number;
  bytesSent?: number;
  duration?: number;
  upstreamServiceTime?: number;
  xff?: string;
  userAgent?: string;
  requestId?: string;
  authority?: string;
  upstreamHost?: string;
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
  /** Fields after the known layout (user-appended), verbatim; for JSON "key=value". */
  extra: string[];
  /** A tcp_proxy entry ("- - -" request line). */
  tcp: boolean;
  /** From the cluster name: inbound|PORT|| -> 'inbound', outbound|... -> 'outbound'. */
  direction?: 'inbound' | 'outbound';
}

interface Token {
  kind: 'bracket' | 'quoted' | 'bare';
  value: string;
}

/** kubectl logs --timestamps prefixes every line with an RFC 3339 time. */
const KUBECTL_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\s+(?=[[{"])/;

function tokenize(line: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '[' && toks.length === 0) {
      const end = line.indexOf(']', i + 1);
      if (end > 0) {
        toks.push({ kind: 'bracket', value: line.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (c === '"') {
      // Envoy does not escape quotes inside values: a closing quote is one
      // followed by whitespace or the end of the line.
      let j = i + 1;
      let end = -1;
      while (j < n) {
        const q = line.indexOf('"', j);
        if (q < 0) break;
        if (q + 1 === n || line[q + 1] === ' ' || line[q + 1] === '\t') {
          end = q;
          break;
        }
        j = q + 1;
      }
      if (end >= 0) {
        toks.push({ kind: 'quoted', value: line.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    let j = i;
    while (j < n && line[j] !== ' ' && line[j] !== '\t') j++;
    toks.push({ kind: 'bare', value: line.slice(i, j) });
    i = j;
  }
  return toks;
}

const dash = (v: string | undefined): string | undefined => (v === undefined || v === '-' || v === '' ? undefined : v);
const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined);
const isNum = (t: Token | undefined): boolean => t !== undefined && t.kind === 'bare' && /^(\d{1,15}|-)$/.test(t.value);

function directionOf(cluster: string | undefined): 'inbound' | 'outbound' | undefined {
  if (!cluster) return undefined;
  if (/^inbound\|/.test(cluster) || /^InboundPassthroughCluster/.test(cluster)) return 'inbound';
  if (/^outbound\|/.test(cluster) || cluster === 'PassthroughCluster' || cluster === 'BlackHoleCluster') return 'outbound';
  return undefined;
}

function parseRequestLine(v: string): { method?: string; path?: string; protocol?: string; tcp: boolean } | undefined {
  const parts = v.split(' ');
  if (parts.length !== 3) return undefined;
  const [method, path, protocol] = parts;
  if (method === '-' && path === '-' && protocol === '-') return { tcp: true };
  if (!/^([A-Z][A-Z-]{1,15}|-)$/.test(method)) return undefined;
  if (!/^(HTTP\/[0-9.]+|-)$/.test(protocol)) return undefined;
  return { method: dash(method), path: dash(path), protocol: dash(protocol), tcp: false };
}

function flagsOf(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const parsed = parseResponseFlags(v);
  if (!parsed) return undefined;
  return [...parsed.flags.map((x) => x.code), ...parsed.unknown];
}

function parseText(line: string): AccessLogEntry | undefined {
  const toks = tokenize(line);
  let i = 0;
  let startTime: string | undefined;
  if (toks[0]?.kind === 'bracket') {
    startTime = toks[0].value;
    i = 1;
  }
  const reqTok = toks[i];
  if (!reqTok || reqTok.kind !== 'quoted') return undefined;
  const req = parseRequestLine(reqTok.value);
  if (!req) return undefined;
  const codeTok = toks[i + 1];
  const flagsTok = toks[i + 2];
  if (!codeTok || codeTok.kind !== 'bare' || !/^\d{1,3}$/.test(codeTok.value)) return undefined;
  const flags = flagsTok && flagsTok.kind === 'bare' ? flagsOf(flagsTok.value) : undefined;
  if (!flags) return undefined;
  const e: AccessLogEntry = {
    raw: line,
    format: 'istio-text',
    startTime,
    method: req.method,
    path: req.path,
    protocol: req.protocol,
    responseCode: Number(codeTok.value),
    responseFlags: flags,
    extra: [],
    tcp: req.tcp,
  };
  let k = i + 3;
  const t3 = toks[k];
  if (t3?.kind === 'bare' && toks[k + 1]?.kind === 'bare' && toks[k + 2]?.kind === 'quoted') {
    // Istio >= 1.9: details, connection termination details, "transport failure reason".
    e.responseCodeDetails = dash(t3.value);
    e.connectionTerminationDetails = dash(toks[k + 1].value);
    e.upstreamTransportFailureReason = dash(toks[k + 2].value);
    k += 3;
  } else if (t3?.kind === 'quoted' && toks[k + 1]?.kind === 'quoted') {
    // Istio 1.2-1.8: "%DYNAMIC_METADATA(istio.mixer:status)%" "%UPSTREAM_TRANSPORT_FAILURE_REASON%"
    e.format = 'istio-text-legacy';
    e.policyStatus = dash(t3.value);
    e.upstreamTransportFailureReason = dash(toks[k + 1].value);
    k += 2;
  } else if (isNum(t3)) {
    // Envoy's default layout as Istio <= 1.1 logged it (seed 004): bytes follow the flags.
    e.format = 'istio-text-legacy';
  } else {
    return undefined;
  }
  // Common tail: 4 numbers, 5 quoted strings, then bare addresses/names.
  const numbers: Array<keyof AccessLogEntry> = ['bytesReceived', 'bytesSent', 'duration', 'upstreamServiceTime'];
  for (const key of numbers) {
    const t = toks[k];
    if (!isNum(t)) return finish(e, toks, k);
    (e as unknown as Record<string, unknown>)[key] = num(t!.value);
    k++;
  }
  const quoted: Array<keyof AccessLogEntry> = ['xff', 'userAgent', 'requestId', 'authority', 'upstreamHost'];
  for (const key of quoted) {
    const t = toks[k];
    if (!t || t.kind !== 'quoted') return finish(e, toks, k);
    (e as unknown as Record<string, unknown>)[key] = dash(t.value);
    k++;
  }
  const bare: Array<keyof AccessLogEntry> = [
    'upstreamCluster',
    'upstreamLocalAddress',
    'downstreamLocalAddress',
    'downstreamRemoteAddress',
    'requestedServerName',
    'routeName',
  ];
  for (const key of bare) {
    const t = toks[k];
    if (!t || t.kind !== 'bare') return finish(e, toks, k);
    (e as unknown as Record<string, unknown>)[key] = dash(t.value);
    k++;
  }
  return finish(e, toks, k);
}

function finish(e: AccessLogEntry, toks: Token[], k: number): AccessLogEntry {
  for (let j = k; j < toks.length; j++) {
    const t = toks[j];
    e.extra.push(t.kind === 'quoted' ? `"${t.value}"` : t.kind === 'bracket' ? `[${t.value}]` : t.value);
  }
  e.direction = directionOf(e.upstreamCluster);
  return e;
}

const JSON_KEYS: Record<string, keyof AccessLogEntry> = {
  start_time: 'startTime',
  method: 'method',
  path: 'path',
  protocol: 'protocol',
  response_code_details: 'responseCodeDetails',
  connection_termination_details: 'connectionTerminationDetails',
  upstream_transport_failure_reason: 'upstreamTransportFailureReason',
  x_forwarded_for: 'xff',
  user_agent: 'userAgent',
  request_id: 'requestId',
  authority: 'authority',
  upstream_host: 'upstreamHost',
  upstream_cluster: 'upstreamCluster',
  upstream_local_address: 'upstreamLocalAddress',
  downstream_local_address: 'downstreamLocalAddress',
  downstream_remote_address: 'downstreamRemoteAddress',
  requested_server_name: 'requestedServerName',
  route_name: 'routeName',
  istio_policy_status: 'policyStatus',
};
const JSON_NUMBERS: Record<string, keyof AccessLogEntry> = {
  response_code: 'responseCode',
  bytes_received: 'bytesReceived',
  bytes_sent: 'bytesSent',
  duration: 'duration',
  upstream_service_time: 'upstreamServiceTime',
};

function parseJson(line: string): AccessLogEntry | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  // An access-log object has response_code or response_flags; Istio's JSON
  // Envoy logs (level/time/scope/msg) do not.
  if (!('response_code' in o) && !('response_flags' in o)) return undefined;
  const str = (v: unknown): string | undefined =>
    v === null || v === undefined ? undefined : typeof v === 'string' ? dash(v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  const e: AccessLogEntry = { raw: line, format: 'json', responseFlags: [], extra: [], tcp: false };
  const rec = e as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(o)) {
    if (key in JSON_KEYS) rec[JSON_KEYS[key]] = str(value);
    else if (key in JSON_NUMBERS) {
      const s = str(value);
      rec[JSON_NUMBERS[key]] = s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined;
    } else if (key === 'response_flags') {
      const s = str(value);
      e.responseFlags = (s && flagsOf(s)) || [];
    } else e.extra.push(`${key}=${str(value) ?? '-'}`);
  }
  e.tcp = e.method === undefined && e.protocol === undefined;
  e.direction = directionOf(e.upstreamCluster);
  return e;
}

const CLUSTER_TOKEN = /^(inbound\|\d*\|[^\s]*|outbound\|\d+\|[^\s]*|PassthroughCluster|BlackHoleCluster|InboundPassthroughCluster(?:Ipv4|Ipv6)?)$/;

/**
 * Read what can be read from an excerpt of an access-log line (quoted with
 * "..." in issues and docs). Needs a status, a flag list and a details token in
 * a row, with at least one of them saying something.
 */
function parseFragment(line: string): AccessLogEntry | undefined {
  const toks = tokenize(line);
  for (let i = 0; i + 1 < toks.length; i++) {
    const [c, fl] = [toks[i], toks[i + 1]];
    if (c.kind !== 'bare' || fl.kind !== 'bare') continue;
    if (!/^(0|[1-5]\d\d)$/.test(c.value)) continue;
    const flags = flagsOf(fl.value);
    if (!flags) continue;
    // The details token is optional in an excerpt ("503 UF"), but then a flag must be set.
    let dt: Token | undefined = toks[i + 2];
    let details = dt?.kind === 'bare' && dt.value !== '-' ? decodeResponseCodeDetails(dt.value) : undefined;
    if (details && !details.known) details = undefined;
    if (!(dt?.kind === 'bare' && (dt.value === '-' || details))) dt = undefined;
    if (flags.length === 0 && !details) continue;
    const prev = toks[i - 1];
    const e: AccessLogEntry = {
      raw: line,
      format: 'unknown',
      responseCode: Number(c.value),
      responseFlags: flags,
      responseCodeDetails: details && dt ? dt.value : undefined,
      extra: [],
      tcp: prev?.kind === 'quoted' && prev.value === '- - -',
    };
    if (prev?.kind === 'quoted') {
      const req = parseRequestLine(prev.value);
      if (req) Object.assign(e, { method: req.method, path: req.path, protocol: req.protocol, tcp: req.tcp });
    }
    if (toks[i - 2]?.kind === 'bracket') e.startTime = toks[i - 2].value;
    let k = dt ? i + 3 : i + 2;
    if (toks[k]?.kind === 'bare' && toks[k].value !== '...' && toks[k + 1]?.kind === 'quoted') {
      e.connectionTerminationDetails = dash(toks[k].value);
      k++;
    }
    if (toks[k]?.kind === 'quoted') {
      e.upstreamTransportFailureReason = dash(toks[k].value);
      k++;
    }
    for (let j = k; j < toks.length; j++) {
      const t = toks[j];
      if (t.kind === 'bare' && CLUSTER_TOKEN.test(t.value) && !e.upstreamCluster) e.upstreamCluster = t.value;
      else if (t.kind === 'bare' && /^(block_all|allow_any|default)$/.test(t.value)) e.routeName = t.value;
    }
    e.direction = directionOf(e.upstreamCluster);
    return e;
  }
  return undefined;
}

/**
 * Parse one access-log line. Returns undefined for anything else (an Envoy
 * log line, a pilot-agent line, an empty line). Never throws.
 */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  if (typeof line !== 'string') return undefined;
  let s = line.replace(/\r$/, '').trim();
  if (!s || s.length > 65536) return undefined;
  s = s.replace(KUBECTL_TIMESTAMP, '');
  if (s.startsWith('{')) return parseJson(s);
  return parseText(s) ?? parseFragment(s);
}

export interface ParsedAccessLog {
  entries: Array<AccessLogEntry & { lineNumber: number }>;
  /** Lines that were not access-log lines (Envoy logs, agent logs, blank). */
  otherLines: number;
}

/** Parse a whole container log, which mixes access-log and other lines. */
export function parseAccessLog(text: string): ParsedAccessLog {
  const out: ParsedAccessLog = { entries: [], otherLines: 0 };
  if (typeof text !== 'string') return out;
  const lines = text.split('\n');
  lines.forEach((line, idx) => {
    const e = parseAccessLogLine(line);
    if (e) out.entries.push({ ...e, lineNumber: idx + 1 });
    else out.otherLines++;
  });
  return out;
}
