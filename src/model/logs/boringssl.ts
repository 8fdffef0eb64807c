/**
 * BoringSSL (Envoy) and OpenSSL (curl, apps) packed error codes, decoded into
 * what they mean in a mesh.
 *
 * Packing, as BoringSSL's include/openssl/err.h defines it:
 *   ERR_GET_LIB(e)    = (e >> 24) & 0xff
 *   ERR_GET_REASON(e) = e & 0xfff
 * with ERR_LIB_NONE = 1, ERR_LIB_SYS = 2, ... ERR_LIB_SSL = 16 (the enum order in
 * err.h). So 268435612 = 16 << 24 | 156 = SSL / SSL_R_HTTP_REQUEST. Reason
 * numbers are those of BoringSSL's include/openssl/ssl.h (SSL_R_*); for
 * ERR_LIB_SYS the reason is the errno (33554536 = 2 << 24 | 104 = ECONNRESET).
 *
 * OpenSSL 1.0/1.1 (curl's "error:140770FC:SSL routines:...") pack lib << 24 |
 * func << 12 | reason, with ERR_LIB_SSL = 20; OpenSSL 3 packs lib << 23 |
 * reason (ERR_LIB_OFFSET 23, ERR_REASON_MASK 0x7fffff) and prints an empty
 * function field ("SSL routines::wrong version number").
 */
import type { DiagnosisName } from './diagnosis.js';

export const BORINGSSL_LIBS: Readonly<Record<number, string>> = {
  1: 'NONE', 2: 'SYS', 3: 'BN', 4: 'RSA', 5: 'DH', 6: 'EVP', 7: 'BUF', 8: 'OBJ', 9: 'PEM', 10: 'DSA',
  11: 'X509', 12: 'ASN1', 13: 'CONF', 14: 'CRYPTO', 15: 'EC', 16: 'SSL', 17: 'BIO', 18: 'PKCS7',
  19: 'PKCS8', 20: 'X509V3', 21: 'RAND', 22: 'ENGINE', 23: 'OCSP', 24: 'UI', 25: 'COMP', 26: 'ECDSA',
  27: 'ECDH', 28: 'HMAC', 29: 'DIGEST', 30: 'CIPHER', 31: 'HKDF', 32: 'TRUST_TOKEN', 33: 'USER',
};

export const ERR_LIB_SYS = 2;
export const ERR_LIB_SSL = 16;

export interface SslReasonInfo {
  /** BoringSSL library number (16 SSL, 2 SYS). */
  lib: number;
  /** Reason number within the library (SSL_R_* value, or errno for SYS). */
  reason: number;
  /** Symbol as Envoy prints it: CERTIFICATE_VERIFY_FAILED, HTTP_REQUEST... */
  name: string;
  /** Other spellings people paste (OpenSSL's lower-case text, reference shorthands). */
  aliases?: string[];
  /** What the TLS stack saw. */
  meaning: string;
  /** What that usually means between two Istio sidecars (or a sidecar and the outside). */
  inMesh: string;
  /** The misconfiguration that most often produces it. */
  likelyCause: string;
  next?: DiagnosisName;
}

const ssl = (reason: number, name: string, rest: Omit<SslReasonInfo, 'lib' | 'reason' | 'name'>): SslReasonInfo => ({
  lib: ERR_LIB_SSL,
  reason,
  name,
  ...rest,
});

const sys = (errno: number, name: string, rest: Omit<SslReasonInfo, 'lib' | 'reason' | 'name'>): SslReasonInfo => ({
  lib: ERR_LIB_SYS,
  reason: errno,
  name,
  ...rest,
});

/**
 * Reasons seen in mesh incidents. Numbers checked against google/boringssl
 * include/openssl/ssl.h (SSL_R_*). Alerts (1000 + TLS alert number) are what
 * the *peer* sent: the other side rejected us.
 */
export const SSL_REASONS: readonly SslReasonInfo[] = [
  ssl(107, 'BAD_ECC_CERT', {
    meaning: 'The peer presented an ECDSA certificate BoringSSL will not accept for this handshake.',
    inMesh: 'An external server (or a custom gateway certificate) uses a certificate Envoy rejects.',
    likelyCause: 'A certificate with an unsupported curve or key usage on the server side.',
    next: 'why-https-fails',
  }),
  ssl(125, 'CERTIFICATE_VERIFY_FAILED', {
    aliases: ['certificate verify failed'],
    meaning: 'This side could not verify the peer certificate (untrusted CA, SAN mismatch, expired).',
    inMesh:
      'The sidecar does not trust the certificate it was shown: a different root CA (another mesh or a rotated istio-ca), a SAN that does not match the DestinationRule subjectAltNames / the expected SPIFFE identity, or an expired certificate. Envoy >= 1.2x appends the detail, e.g. "verify cert failed: verify SAN list".',
    likelyCause: 'Mismatched root CAs after a CA change or multi-cluster setup; DestinationRule tls.subjectAltNames or sni wrong; tls.mode SIMPLE to a server with a private CA without caCertificates.',
    next: 'why-https-fails',
  }),
  ssl(155, 'HTTPS_PROXY_REQUEST', {
    meaning: 'An HTTP CONNECT request arrived where a TLS handshake was expected.',
    inMesh: 'A client sent an HTTP proxy CONNECT to a TLS listener.',
    likelyCause: 'An HTTP proxy setting (HTTPS_PROXY) pointed at a mesh TLS port.',
  }),
  ssl(156, 'HTTP_REQUEST', {
    aliases: ['http request'],
    meaning: 'Plain HTTP arrived where a TLS handshake was expected.',
    inMesh:
      'The server sidecar requires mTLS (PeerAuthentication STRICT) but the client sent plaintext: its DestinationRule disables TLS (tls.mode DISABLE, or before Istio 1.5 a rule without a tls block replaced the mesh-wide ISTIO_MUTUAL rule), auto mTLS is off, or the client has no sidecar.',
    likelyCause: 'A DestinationRule for the host without tls.mode ISTIO_MUTUAL, or a client outside the mesh calling a STRICT workload.',
    next: 'why-503',
  }),
  ssl(184, 'NO_SHARED_CIPHER', {
    meaning: 'Client and server have no cipher suite in common.',
    inMesh: 'A TLS server (gateway or sidecar) was offered only ciphers it does not allow.',
    likelyCause: 'cipherSuites restricted on a Gateway/MeshConfig, or a legacy client.',
    next: 'why-https-fails',
  }),
  ssl(192, 'PEER_DID_NOT_RETURN_A_CERTIFICATE', {
    meaning: 'The server asked for a client certificate and the client sent none.',
    inMesh: 'The server requires mTLS but the client did not do mTLS (it did plain TLS, e.g. DestinationRule tls.mode SIMPLE, or a client without a sidecar using TLS).',
    likelyCause: 'DestinationRule tls.mode SIMPLE instead of ISTIO_MUTUAL in front of a STRICT server; Gateway tls.mode MUTUAL with clients that have no certificate.',
    next: 'why-503',
  }),
  ssl(215, 'SSL_HANDSHAKE_FAILURE', {
    meaning: 'The handshake failed for a reason reported by an earlier error.',
    inMesh: 'Generic handshake failure; look at the other errors on the same connection.',
    likelyCause: 'See the companion error in the same TLS_error list.',
    next: 'why-https-fails',
  }),
  ssl(223, 'UNEXPECTED_MESSAGE', {
    meaning: 'A TLS message arrived out of order.',
    inMesh: 'The peer is not speaking the TLS dialect expected, often a protocol mix-up on the port.',
    likelyCause: 'A port whose protocol is declared wrong (TLS vs HTTP vs TCP).',
    next: 'why-https-fails',
  }),
  ssl(233, 'UNKNOWN_PROTOCOL', {
    aliases: ['unknown protocol'],
    meaning: 'The reply to our ClientHello was not TLS at all (OpenSSL 1.0 wording; BoringSSL no longer emits it).',
    inMesh:
      'The client (an app using OpenSSL, e.g. curl) sent TLS and got back plain bytes, typically an HTTP response from a sidecar that treats this port as HTTP: an outbound port-443 listener with an HTTP connection manager.',
    likelyCause: 'A Service port 443 named http/http2/grpc (Istio < 1.8, ASM <= 1.9) turned outbound 443 into HTTP for every sidecar.',
    next: 'why-https-fails',
  }),
  ssl(240, 'UNSUPPORTED_PROTOCOL', {
    aliases: ['unsupported protocol'],
    meaning: 'The peer offered a TLS version this side does not allow.',
    inMesh: 'TLS version floor/ceiling mismatch (minProtocolVersion).',
    likelyCause: 'MeshConfig/Gateway minProtocolVersion TLSV1_3 against an old client, or the reverse.',
    next: 'why-https-fails',
  }),
  ssl(247, 'WRONG_VERSION_NUMBER', {
    aliases: ['wrong version number'],
    meaning: 'The bytes received do not start a TLS record: the peer is not speaking TLS.',
    inMesh:
      'This side started TLS and the peer answered in plaintext (e.g. an HTTP response), or the peer sent plaintext to a TLS port. In a client sidecar: the DestinationRule/ServiceEntry says TLS/ISTIO_MUTUAL but the endpoint has no sidecar or speaks plain HTTP.',
    likelyCause: 'DestinationRule tls.mode SIMPLE/ISTIO_MUTUAL toward a plaintext port; ServiceEntry MESH_INTERNAL for a workload without a sidecar; port 443 treated as HTTP.',
    next: 'why-https-fails',
  }),
  ssl(266, 'NO_SHARED_GROUP', {
    meaning: 'No key-exchange group (curve) in common.',
    inMesh: 'ECDH curves restricted on one side (ecdhCurves) that the other does not offer.',
    likelyCause: 'Custom ecdhCurves on a Gateway or MeshConfig.',
    next: 'why-https-fails',
  }),
  ssl(1000, 'SSLV3_ALERT_CLOSE_NOTIFY', {
    meaning: 'The peer closed the TLS session cleanly.',
    inMesh: 'Usually benign.',
    likelyCause: 'Normal connection close.',
  }),
  ssl(1040, 'SSLV3_ALERT_HANDSHAKE_FAILURE', {
    aliases: ['sslv3 alert handshake failure'],
    meaning: 'The peer aborted the handshake (alert 40): it found nothing acceptable (cipher, version, SNI, certificate).',
    inMesh: 'The server side rejected our ClientHello, often because no filter chain or certificate matched the SNI we sent.',
    likelyCause: 'Wrong SNI (DestinationRule tls.sni), no Gateway server for that host, cipher/version restrictions.',
    next: 'why-https-fails',
  }),
  ssl(1042, 'SSLV3_ALERT_BAD_CERTIFICATE', {
    aliases: ['sslv3 alert bad certificate'],
    meaning: 'The peer rejected the certificate we sent (alert 42).',
    inMesh: 'The server did not accept our client certificate: wrong CA or identity.',
    likelyCause: 'Client certificate from another CA; Gateway MUTUAL with a different caCertificates.',
    next: 'why-https-fails',
  }),
  ssl(1045, 'SSLV3_ALERT_CERTIFICATE_EXPIRED', {
    aliases: ['CERTIFICATE_EXPIRED', 'sslv3 alert certificate expired'],
    meaning: 'The peer says our certificate has expired (alert 45).',
    inMesh: 'A workload or gateway certificate expired: istiod/CA not rotating it, or a clock problem.',
    likelyCause: 'Stale workload certificate (SDS not refreshing), expired custom gateway certificate, node clock skew.',
    next: 'why-https-fails',
  }),
  ssl(1046, 'SSLV3_ALERT_CERTIFICATE_UNKNOWN', {
    aliases: ['sslv3 alert certificate unknown'],
    meaning: 'The peer could not accept our certificate for an unspecified reason (alert 46).',
    inMesh: 'Often a SAN/identity mismatch seen from the other side.',
    likelyCause: 'Identity or trust-domain mismatch.',
    next: 'why-https-fails',
  }),
  ssl(1048, 'TLSV1_ALERT_UNKNOWN_CA', {
    aliases: ['tlsv1 alert unknown ca'],
    meaning: 'The peer does not trust the CA that signed our certificate (alert 48).',
    inMesh: 'The two sides have different roots of trust: another mesh, a rotated or plugged-in CA only one side has, or an app verifying the sidecar certificate.',
    likelyCause: 'Root CA mismatch between clusters/revisions; cacerts changed without restarting workloads.',
    next: 'why-https-fails',
  }),
  ssl(1049, 'TLSV1_ALERT_ACCESS_DENIED', {
    meaning: 'The peer refused access after the handshake (alert 49).',
    inMesh: 'The server verified us but refuses this identity.',
    likelyCause: 'Server-side certificate policy.',
    next: 'why-https-fails',
  }),
  ssl(1051, 'TLSV1_ALERT_DECRYPT_ERROR', {
    meaning: 'The peer failed a handshake signature/decryption check (alert 51).',
    inMesh: 'Key and certificate do not match on one side, or a corrupted handshake.',
    likelyCause: 'Custom certificate secret with a mismatched key.',
    next: 'why-https-fails',
  }),
  ssl(1070, 'TLSV1_ALERT_PROTOCOL_VERSION', {
    aliases: ['tlsv1 alert protocol version'],
    meaning: 'The peer does not support the TLS version we offered (alert 70).',
    inMesh: 'TLS version floor/ceiling mismatch.',
    likelyCause: 'minProtocolVersion/maxProtocolVersion settings.',
    next: 'why-https-fails',
  }),
  ssl(1112, 'TLSV1_ALERT_UNRECOGNIZED_NAME', {
    meaning: 'The peer has nothing for the SNI we sent (alert 112).',
    inMesh: 'The server has no certificate/filter chain for that SNI.',
    likelyCause: 'Wrong DestinationRule tls.sni, or Gateway hosts not covering it.',
    next: 'why-https-fails',
  }),
  ssl(1116, 'TLSV1_ALERT_CERTIFICATE_REQUIRED', {
    meaning: 'The peer required a client certificate and we sent none (alert 116, TLS 1.3).',
    inMesh: 'The server requires mTLS but this client did plain TLS (the TLS 1.3 form of PEER_DID_NOT_RETURN_A_CERTIFICATE seen from the client).',
    likelyCause: 'DestinationRule tls.mode SIMPLE instead of ISTIO_MUTUAL/MUTUAL toward a STRICT server.',
    next: 'why-503',
  }),
  ssl(1120, 'TLSV1_ALERT_NO_APPLICATION_PROTOCOL', {
    meaning: 'No ALPN protocol in common (alert 120).',
    inMesh: 'The peer rejected the ALPN list (e.g. istio-peer-exchange / h2 expectations).',
    likelyCause: 'A non-Istio TLS server behind an ISTIO_MUTUAL DestinationRule, or ALPN overrides.',
    next: 'why-https-fails',
  }),
  sys(104, 'ECONNRESET', {
    aliases: ['Connection reset by peer', 'connection reset by peer'],
    meaning: 'Connection reset by peer during the handshake (errno 104).',
    inMesh: 'The peer closed the TCP connection instead of answering the handshake: it is not a TLS server on that port, or a proxy/firewall cut it.',
    likelyCause: 'Plain-TCP server or a REGISTRY_ONLY BlackHole on the other end, NetworkPolicy, or the upstream process crashing.',
    next: 'why-https-fails',
  }),
  sys(111, 'ECONNREFUSED', {
    aliases: ['Connection refused'],
    meaning: 'Connection refused (errno 111).',
    inMesh: 'Nothing listens on the target address: in an inbound cluster, the app bound only to 127.0.0.1 after Istio 1.10 (delayed_connect_error:_111).',
    likelyCause: 'App listening on localhost only, wrong targetPort, app not started.',
    next: 'why-inbound-fails',
  }),
  sys(110, 'ETIMEDOUT', {
    meaning: 'Connection timed out (errno 110).',
    inMesh: 'The endpoint did not answer; packets dropped.',
    likelyCause: 'Stale endpoint IP, NetworkPolicy, firewall.',
    next: 'why-503',
  }),
  sys(113, 'EHOSTUNREACH', {
    meaning: 'No route to host (errno 113).',
    inMesh: 'The endpoint IP is unreachable from this pod.',
    likelyCause: 'Stale endpoint, wrong ServiceEntry address, network partition.',
    next: 'why-503',
  }),
  sys(32, 'EPIPE', {
    meaning: 'Broken pipe (errno 32): wrote to a connection the peer had closed.',
    inMesh: 'The peer closed first, often an idle-timeout race.',
    likelyCause: 'Upstream idle timeout shorter than the sidecar pool idle timeout.',
    next: 'why-503',
  }),
];

export interface DecodedSslError {
  /** The packed code as printed (decimal). */
  code: number;
  lib: number;
  libName: string;
  reason: number;
  /** Reason symbol if known (from our table or the printed text). */
  name?: string;
  info?: SslReasonInfo;
}

const byKey = new Map<string, SslReasonInfo>();
for (const r of SSL_REASONS) byKey.set(`${r.lib}:${r.reason}`, r);

function normaliseName(name: string): string {
  return name.trim().replace(/[\s-]+/g, '_').toUpperCase();
}

const byName = new Map<string, SslReasonInfo>();
for (const r of SSL_REASONS) {
  byName.set(r.name, r);
  for (const a of r.aliases ?? []) byName.set(normaliseName(a), r);
}

/** BoringSSL's ERR_GET_LIB / ERR_GET_REASON applied to a 32-bit packed code. */
export function splitBoringSslCode(code: number): { lib: number; reason: number } {
  return { lib: (code >>> 24) & 0xff, reason: code & 0xfff };
}

export function packBoringSslCode(lib: number, reason: number): number {
  return (((lib & 0xff) << 24) >>> 0) + (reason & 0xfff);
}

/**
 * Decode a packed BoringSSL error code (e.g. 268435612). Returns undefined for
 * numbers that cannot be one (negative, > 2^32, unknown library).
 */
export function decodeBoringSslCode(code: number, printedName?: string): DecodedSslError | undefined {
  if (!Number.isInteger(code) || code <= 0 || code > 0xffffffff) return undefined;
  const { lib, reason } = splitBoringSslCode(code);
  const libName = BORINGSSL_LIBS[lib];
  if (!libName) return undefined;
  const info = byKey.get(`${lib}:${reason}`);
  return { code, lib, libName, reason, name: info?.name ?? (printedName ? normaliseName(printedName) : undefined), info };
}

/**
 * Look a reason up by number (packed code like 268435612, or "268435612") or by
 * name ("HTTP_REQUEST", "certificate verify failed", "CERTIFICATE_EXPIRED").
 */
export function lookupSslReason(query: string | number): SslReasonInfo | undefined {
  if (typeof query === 'number') return decodeBoringSslCode(query)?.info;
  const q = query.trim();
  if (/^\d{6,10}$/.test(q)) return decodeBoringSslCode(Number(q))?.info;
  if (!q || q.length > 80) return undefined;
  const n = normaliseName(q.replace(/^SSL_R_/i, ''));
  return byName.get(n) ?? byName.get(n.replace(/^SSL_R_/, ''));
}

/** One error of an Envoy TLS error list: "268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED[:detail]". */
export interface EnvoySslError extends DecodedSslError {
  libText: string;
  funcText: string;
  reasonText: string;
  /** Extra text Envoy >= 1.2x appends after the reason ("verify cert failed: verify SAN list"). */
  detail?: string;
}

/**
 * Parse the errors in an Envoy TLS failure string, in any of its shapes:
 *   old:  "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED"
 *   seed 004: "SSL error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST"
 *   new:  "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: verify SAN list:TLS_error_end"
 *   access-log details (spaces as '_'): "TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end"
 * Returns [] when none is found.
 */
export function parseEnvoySslErrors(text: string): EnvoySslError[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const out: EnvoySslError[] = [];
  // Each error: packed code, ":<lib text>:<func text>:<REASON>". Reason words start
  // with a letter so a following error's code is never swallowed.
  const re = /(?<![0-9A-Za-z])(\d{6,10}):([^:|\n"]*):([^:|\n"]*):([A-Za-z][A-Za-z0-9_]*(?: [A-Za-z][A-Za-z0-9_]*)*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const code = Number(m[1]);
    const reasonText = m[4].trim();
    const decoded = decodeBoringSslCode(code, reasonText);
    if (!decoded) continue;
    // Envoy >= 1.2x may append ":<detail>" before ":TLS_error_end".
    let detail: string | undefined;
    const rest = text.slice(re.lastIndex);
    const segment = /^:([^|\n"]*?):TLS_error_end/.exec(rest);
    if (segment && segment[1].trim()) detail = segment[1].replace(/_/g, ' ').trim();
    out.push({
      ...decoded,
      name: decoded.info?.name ?? normaliseName(reasonText),
      libText: m[2].replace(/_/g, ' '),
      funcText: m[3],
      reasonText,
      detail,
    });
  }
  return out;
}

/** curl/OpenSSL style: "error:140770FC:SSL routines:SSL23_GET_SERVER_HELLO:unknown protocol". */
export interface OpenSslError {
  raw: string;
  hex: string;
  code: number;
  /** 'openssl-1.x' packs lib<<24|func<<12|reason; 'openssl-3' packs lib<<23|reason. */
  packing: 'openssl-1.x' | 'openssl-3';
  lib: number;
  func?: number;
  reason: number;
  libText: string;
  funcText: string;
  reasonText: string;
  /** Matching entry of SSL_REASONS by the reason text, when we have one. */
  info?: SslReasonInfo;
}

export function parseOpenSslErrorString(text: string): OpenSslError | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /error:([0-9A-Fa-f]{8}):([^:\n]*):([^:\n]*):([^:\n]+)/.exec(text);
  if (!m) return undefined;
  const code = parseInt(m[1], 16) >>> 0;
  const funcText = m[3];
  const reasonText = m[4].trim();
  const openssl3 = funcText === '';
  const lib = openssl3 ? (code >>> 23) & 0xff : (code >>> 24) & 0xff;
  const reason = openssl3 ? code & 0x7fffff : code & 0xfff;
  return {
    raw: m[0],
    hex: m[1].toUpperCase(),
    code,
    packing: openssl3 ? 'openssl-3' : 'openssl-1.x',
    lib,
    func: openssl3 ? undefined : (code >>> 12) & 0xfff,
    reason,
    libText: m[2],
    funcText,
    reasonText,
    info: byName.get(normaliseName(reasonText)),
  };
}

/** errno names for the numbers Envoy prints in delayed_connect_error:_N and SYS-library codes. */
export const ERRNO: Readonly<Record<number, { name: string; text: string }>> = {
  32: { name: 'EPIPE', text: 'Broken pipe' },
  101: { name: 'ENETUNREACH', text: 'Network is unreachable' },
  104: { name: 'ECONNRESET', text: 'Connection reset by peer' },
  110: { name: 'ETIMEDOUT', text: 'Connection timed out' },
  111: { name: 'ECONNREFUSED', text: 'Connection refused' },
  113: { name: 'EHOSTUNREACH', text: 'No route to host' },
};
