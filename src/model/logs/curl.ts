/**
 * curl output from inside a pod: one-line errors ("curl: (35) ...") and
 * `curl -v` transcripts, including the ones pasted on a single line (seed 002).
 *
 * Exit codes are curl's (libcurl-errors): 6 COULDNT_RESOLVE_HOST, 7
 * COULDNT_CONNECT, 28 OPERATION_TIMEDOUT, 35 SSL_CONNECT_ERROR, 51
 * PEER_FAILED_VERIFICATION (older curl, subject-name mismatch), 52 GOT_NOTHING,
 * 56 RECV_ERROR, 60 SSL_CACERT / peer certificate cannot be authenticated.
 */
import { parseOpenSslErrorString, type OpenSslError } from './boringssl.js';
import { decodeEnvoyLocalReplyBody, type EnvoyLocalReplyBody } from './response-flags.js';
import type { DiagnosisName } from './diagnosis.js';

export interface CurlExitCode {
  code: number;
  name: string;
  meaning: string;
}

export const CURL_EXIT_CODES: readonly CurlExitCode[] = [
  { code: 6, name: 'CURLE_COULDNT_RESOLVE_HOST', meaning: 'DNS lookup of the host failed.' },
  { code: 7, name: 'CURLE_COULDNT_CONNECT', meaning: 'TCP connect failed (refused or unreachable).' },
  { code: 16, name: 'CURLE_HTTP2', meaning: 'HTTP/2 framing layer problem.' },
  { code: 28, name: 'CURLE_OPERATION_TIMEDOUT', meaning: 'The operation timed out.' },
  { code: 35, name: 'CURLE_SSL_CONNECT_ERROR', meaning: 'The TLS handshake failed.' },
  { code: 51, name: 'CURLE_PEER_FAILED_VERIFICATION', meaning: "The server's certificate or name did not verify (older curl)." },
  { code: 52, name: 'CURLE_GOT_NOTHING', meaning: 'The server closed the connection without replying.' },
  { code: 56, name: 'CURLE_RECV_ERROR', meaning: 'Receiving data failed (connection reset).' },
  { code: 60, name: 'CURLE_PEER_FAILED_VERIFICATION', meaning: "The server's certificate could not be authenticated (unknown CA or name mismatch)." },
  { code: 92, name: 'CURLE_HTTP2_STREAM', meaning: 'HTTP/2 stream error.' },
];

export interface CurlOutput {
  raw: string;
  /** True when `curl -v` markers (`* `, `> `, `< `) were found. */
  transcript: boolean;
  exitCode?: number;
  exitName?: string;
  exitMeaning?: string;
  /** The text after "curl: (N) ". */
  errorText?: string;
  openSslError?: OpenSslError;
  connectedTo?: { host: string; ip?: string; port?: number };
  certificateSubject?: string;
  certificateIssuer?: string;
  /** From "certificate subject name 'X' does not match target host name 'Y'" (or the newer wording). */
  nameMismatch?: { certificateName?: string; targetHost: string };
  httpVersion?: string;
  httpStatus?: number;
  reasonPhrase?: string;
  serverHeader?: string;
  headers: Record<string, string>;
  /** Envoy's own body, decoded, when the response came from a sidecar. */
  envoyBody?: EnvoyLocalReplyBody;
  /** What this most likely means in a mesh. */
  inMesh?: string;
  next: Array<{ diagnosis: DiagnosisName; why: string }>;
}

function exitInfo(code: number): CurlExitCode | undefined {
  return CURL_EXIT_CODES.find((c) => c.code === code);
}

/**
 * Parse curl's error line and/or a -v transcript. Returns undefined when the
 * text shows no curl output at all. Never throws.
 */
export function parseCurlOutput(text: string): CurlOutput | undefined {
  if (typeof text !== 'string' || !text.trim() || text.length > 1_000_000) return undefined;
  const out: CurlOutput = { raw: text, transcript: false, headers: {}, next: [] };
  // Each reader fills what it finds and says whether it found curl output (kubectl's own exit line alone is not).
  const found = [readExit, readOpenSsl, readNameMismatch, readTranscript, readEnvoyBody].map((read) => read(text, out));
  if (!found.includes(true)) return undefined;
  interpret(out);
  return out;
}

function setExit(out: CurlOutput, code: number, errorText?: string): void {
  out.exitCode = code;
  if (errorText !== undefined) out.errorText = errorText;
  const info = exitInfo(code);
  out.exitName = info?.name;
  out.exitMeaning = info?.meaning;
}

/** `curl: (35) …`, or only kubectl's `command terminated with exit code N`. */
function readExit(text: string, out: CurlOutput): boolean {
  const err = /curl: \((\d{1,3})\) ?([^\n]*)/.exec(text);
  if (err) {
    setExit(out, Number(err[1]), err[2].trim());
    return true;
  }
  const exit = /command terminated with exit code (\d{1,3})/.exec(text);
  if (exit) setExit(out, Number(exit[1]));
  return false;
}

function readOpenSsl(text: string, out: CurlOutput): boolean {
  const ossl = parseOpenSslErrorString(text);
  if (ossl) out.openSslError = ossl;
  return ossl !== undefined;
}

/** The three ways curl versions say the certificate is not for the host. */
function readNameMismatch(text: string, out: CurlOutput): boolean {
  const mismatchOld = /certificate subject name '([^']*)' does not match target host name '([^']*)'/.exec(text);
  const mismatchNew = /no alternative certificate subject name matches target host name '([^']*)'/.exec(text);
  const sanNoMatch = /subjectAltName does not match ([^\s<*]+)/.exec(text);
  if (mismatchOld) out.nameMismatch = { certificateName: mismatchOld[1], targetHost: mismatchOld[2] };
  else if (mismatchNew) out.nameMismatch = { targetHost: mismatchNew[1] };
  else if (sanNoMatch) out.nameMismatch = { targetHost: sanNoMatch[1] };
  return out.nameMismatch !== undefined;
}

/** -v transcript markers, tolerant of transcripts collapsed onto one line. */
function readTranscript(text: string, out: CurlOutput): boolean {
  let recognised = false;
  const status = /(?:^|\s)< (HTTP\/[\d.]+) (\d{3})(?: ([^\n<*]{0,200}?))?[ \t]*(?=$|\n|<|\*)/m.exec(text);
  if (status) {
    recognised = true;
    out.httpVersion = status[1].slice(5);
    out.httpStatus = Number(status[2]);
    out.reasonPhrase = status[3]?.trim() || undefined;
  }
  const headerRe = /(?<=^|\s)< ([A-Za-z][A-Za-z0-9-]*): ([^\n<]{0,2000}?)[ \t]*(?=$|\n|<|\* )/gm;
  let h: RegExpExecArray | null;
  while ((h = headerRe.exec(text)) !== null) {
    out.headers[h[1].toLowerCase()] = h[2];
  }
  if (out.headers.server) out.serverHeader = out.headers.server;
  const connected = /\* Connected to (\S+) \(([^)]*)\) port (\d+)/.exec(text);
  if (connected) {
    recognised = true;
    out.connectedTo = { host: connected[1], ip: connected[2], port: Number(connected[3]) };
  }
  const subject = /\*\s+subject: ([^\n*]*?)\s*(?=$|\n|\*)/m.exec(text);
  if (subject) {
    recognised = true;
    out.certificateSubject = subject[1];
  }
  const issuer = /\*\s+issuer: ([^\n*]*?)\s*(?=$|\n|\*)/m.exec(text);
  if (issuer) out.certificateIssuer = issuer[1];
  if (/(?:^|\s)> (GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) \S+ HTTP\//m.test(text)) recognised = true;
  if (recognised) out.transcript = true;
  return recognised;
}

function readEnvoyBody(text: string, out: CurlOutput): boolean {
  const body = decodeEnvoyLocalReplyBody(text);
  if (body) out.envoyBody = body;
  return body !== undefined;
}

function interpret(out: CurlOutput): void {
  const reason = (out.openSslError?.reasonText ?? out.errorText ?? '').toLowerCase();
  const fromEnvoy = /^(istio-)?envoy$/i.test(out.serverHeader ?? '');
  if (/unknown protocol|wrong version number|packet length too long|record layer failure/.test(reason)) {
    out.inMesh =
      'The app sent a TLS ClientHello and got back something that is not TLS, typically an HTTP response from its own sidecar: the outbound listener for this port runs an HTTP connection manager, so the sidecar treats the port as plain HTTP. Classic cause: a Service anywhere in the mesh declares this port (443) with an HTTP-family name (http, http2, grpc...) on Istio < 1.8 / ASM <= 1.9. The same curl from the istio-proxy container works because UID 1337 bypasses the redirect.';
    out.next.push({ diagnosis: 'why-https-fails', why: 'finds the outbound 443 chain that holds an HTTP connection manager and the Service port that caused it' });
    out.next.push({ diagnosis: 'who-owns-443', why: 'lists every filter chain on 0.0.0.0:443 and the resource that generated it' });
  } else if (out.nameMismatch) {
    out.inMesh =
      `The TLS connection reached a server whose certificate is for ${out.nameMismatch.certificateName ? `'${out.nameMismatch.certificateName}'` : 'another name'}, not '${out.nameMismatch.targetHost}': the sidecar forwarded the connection to the wrong backend. Typical cause: a ServiceEntry without spec.addresses on port 443 (TCP/unset protocol, or a wildcard host with resolution NONE) creates a catch-all chain "0.0.0.0 443 ALL Cluster: outbound|443||<host>" that captures every HTTPS connection without a more specific SNI match.`;
    out.next.push({ diagnosis: 'who-owns-443', why: 'shows the catch-all (ALL) chain on 0.0.0.0:443 and the ServiceEntry behind it' });
    out.next.push({ diagnosis: 'why-https-fails', why: 'follows this host through the outbound listener to the cluster it really reaches' });
  } else if (out.exitCode === 56 || /connection reset by peer/.test(reason)) {
    out.inMesh =
      'The connection was reset. From a sidecar-injected pod this is often the sidecar refusing to forward: REGISTRY_ONLY sending HTTPS/TCP to BlackHoleCluster (access log: UH on BlackHoleCluster), or a server-side filter-chain mismatch.';
    out.next.push({ diagnosis: 'why-https-fails', why: 'checks the outbound chain for this host/port and the outbound traffic policy' });
  } else if (out.exitCode === 35) {
    out.inMesh = 'The TLS handshake failed; read the OpenSSL reason, and the sidecar access log line for this connection.';
    out.next.push({ diagnosis: 'why-https-fails', why: 'traces the outbound TLS connection through the sidecar' });
  } else if (out.exitCode === 60 || out.exitCode === 51) {
    out.inMesh = 'The server certificate was not trusted or not for this name: the connection may have been routed to another backend by the sidecar.';
    out.next.push({ diagnosis: 'who-owns-443', why: 'shows which chain on 0.0.0.0:443 captured the connection' });
  } else if (out.exitCode === 7) {
    out.inMesh = 'TCP connect failed. With a sidecar, outbound connects normally succeed (to Envoy), so the port or IP is probably excluded from capture, or the target is reached without the sidecar.';
    out.next.push({ diagnosis: 'why-503', why: 'checks capture rules and the destination endpoints' });
  }
  if (out.httpStatus !== undefined && fromEnvoy) {
    const emptyBody = out.headers['content-length'] === '0';
    if (out.httpStatus === 502 && (emptyBody || !out.envoyBody)) {
      out.inMesh ??=
        'A 502 generated by the sidecar itself (server: envoy, content-length 0, no x-envoy-upstream-service-time): with outboundTrafficPolicy REGISTRY_ONLY the HTTP request to an unregistered host hit the block_all route (access log: 502 - direct_response ... block_all). Fix: a ServiceEntry for the host.';
      out.next.push({ diagnosis: 'why-502', why: 'confirms REGISTRY_ONLY and the missing ServiceEntry for this host' });
    } else if (out.httpStatus === 503) {
      out.inMesh ??=
        out.envoyBody?.kind === 'upstream-reset' && !out.envoyBody.resetReason
          ? 'A 503 local reply from the client sidecar: it never got response headers from the upstream, and this Envoy is old enough not to print why. The client sidecar access log flag says which: UC with mutual TLS in the mesh is plaintext reaching a server that requires mTLS (a DestinationRule without ISTIO_MUTUAL), UF a connect failure, UH no endpoint.'
          : 'A 503 from the sidecar: it could not get a response from the upstream.';
      out.next.push({ diagnosis: 'why-503', why: 'reads both sidecars (access logs, clusters, TLS settings) for this request' });
    } else if (out.httpStatus === 404 && emptyBody) {
      out.inMesh ??= 'An empty 404 from the sidecar: no route matched the Host/path (flag NR).';
    }
  }
  if (out.envoyBody && out.next.length === 0 && out.envoyBody.next) {
    out.next.push({ diagnosis: out.envoyBody.next, why: 'the body is a sidecar local reply; this diagnosis reads both sidecars for the request' });
  }
}
