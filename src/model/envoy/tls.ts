/**
 * Transport sockets (envoy.config.core.v3.TransportSocket) as they appear on
 * filter chains (DownstreamTlsContext) and clusters (UpstreamTlsContext).
 * Shapes: Envoy API docs, extensions/transport_sockets/tls/v3/tls.proto, and
 * what Istio's sidecars carry in the real dumps under ../shared/data/.
 */
import { type JsonObject, bool, obj, objs, shortTypeName, str, strs } from './json.js';

/**
 * One of a validation context's SAN matchers (`match_subject_alt_names`, a
 * StringMatcher on any SAN; `match_typed_subject_alt_names`, one SAN type).
 */
export interface SanMatcher {
  kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'safe_regex';
  value: string;
  ignoreCase: boolean;
  /** `URI`, `DNS`, ... for a typed matcher; undefined matches every SAN type. */
  sanType?: string;
}

export interface TlsContext {
  readonly kind: 'downstream' | 'upstream' | 'unknown';
  /** ALPN offered (upstream) or accepted (downstream). */
  readonly alpnProtocols: readonly string[];
  /** SDS secret names for the certificate (`default` for Istio's workload cert). */
  readonly certificateSdsNames: readonly string[];
  /** True when certificates are inlined or come from files rather than SDS. */
  readonly hasStaticCertificate: boolean;
  /** SDS secret name for validation (`ROOTCA` for Istio's root). */
  readonly validationSdsName?: string;
  /** True when some validation context (static, SDS or combined) is configured. */
  readonly validates: boolean;
  /** Exact SANs matched on the peer certificate (`spiffe://...`). */
  readonly matchSubjectAltNames: readonly string[];
  /** The same matchers with their kind and SAN type, for judging a certificate against them. */
  readonly sanMatchers: readonly SanMatcher[];
  /** UpstreamTlsContext.sni */
  readonly sni?: string;
  /** DownstreamTlsContext.require_client_certificate */
  readonly requireClientCertificate?: boolean;
  readonly raw: JsonObject;
}

export interface TransportSocket {
  /** `envoy.transport_sockets.tls`, `envoy.transport_sockets.raw_buffer`, ... */
  readonly name: string;
  readonly typeName?: string;
  readonly tls?: TlsContext;
  readonly plaintext: boolean;
  readonly raw: JsonObject;
}

export function readTransportSocket(ts: JsonObject | undefined): TransportSocket | undefined {
  if (!ts) return undefined;
  const name = str(ts, 'name') ?? '';
  const typed = obj(ts, 'typed_config');
  const t = shortTypeName(typed);
  const isTls = t === 'UpstreamTlsContext' || t === 'DownstreamTlsContext' || name === 'envoy.transport_sockets.tls' || name === 'tls';
  const tls = isTls && typed ? readTlsContext(typed) : undefined;
  const plaintext = !isTls && (name === 'envoy.transport_sockets.raw_buffer' || name === 'raw_buffer' || t === 'RawBuffer');
  return { name, typeName: t, tls, plaintext, raw: ts };
}

export function readTlsContext(typed: JsonObject): TlsContext {
  const t = shortTypeName(typed);
  const kind = t === 'UpstreamTlsContext' ? 'upstream' : t === 'DownstreamTlsContext' ? 'downstream' : 'unknown';
  const common = obj(typed, 'common_tls_context');
  const combined = obj(common, 'combined_validation_context');
  const defaultValidation = obj(combined, 'default_validation_context') ?? obj(common, 'validation_context');
  const validationSds = obj(combined, 'validation_context_sds_secret_config') ?? obj(common, 'validation_context_sds_secret_config');
  const sans = objs(defaultValidation, 'match_subject_alt_names')
    .map((m) => str(m, 'exact') ?? str(m, 'prefix') ?? str(m, 'suffix') ?? str(m, 'contains'))
    .filter((s): s is string => s !== undefined);
  const typedSans = objs(defaultValidation, 'match_typed_subject_alt_names')
    .map((m) => str(obj(m, 'matcher'), 'exact'))
    .filter((s): s is string => s !== undefined);
  const sanMatchers = [
    ...objs(defaultValidation, 'match_subject_alt_names').map((m) => sanMatcher(m)),
    ...objs(defaultValidation, 'match_typed_subject_alt_names').map((m) => sanMatcher(obj(m, 'matcher'), str(m, 'san_type'))),
  ].filter((m): m is SanMatcher => m !== undefined);
  const requireClient = bool(typed, 'require_client_certificate');
  const sni = str(typed, 'sni');
  return {
    kind,
    alpnProtocols: strs(common, 'alpn_protocols'),
    certificateSdsNames: objs(common, 'tls_certificate_sds_secret_configs').map((c) => str(c, 'name') ?? ''),
    hasStaticCertificate: objs(common, 'tls_certificates').length > 0,
    validationSdsName: str(validationSds, 'name'),
    validates: Boolean(defaultValidation || validationSds || combined),
    matchSubjectAltNames: [...sans, ...typedSans],
    sanMatchers,
    ...(sni !== undefined ? { sni } : {}),
    ...(requireClient !== undefined ? { requireClientCertificate: requireClient } : {}),
    raw: typed,
  };
}

/**
 * Istio's own mTLS: the workload certificate `default` and root `ROOTCA` over
 * SDS, or the `istio-peer-exchange`/`istio` ALPN Istio adds for ISTIO_MUTUAL
 * (pilot/pkg/networking/core/cluster_tls.go).
 */
export function isIstioMutual(tls: TlsContext): boolean {
  if (tls.certificateSdsNames.includes('default') && (tls.validationSdsName === 'ROOTCA' || tls.validationSdsName === undefined)) return true;
  return tls.alpnProtocols.includes('istio-peer-exchange') || tls.alpnProtocols.includes('istio');
}

function sanMatcher(m: JsonObject | undefined, sanType?: string): SanMatcher | undefined {
  for (const kind of ['exact', 'prefix', 'suffix', 'contains'] as const) {
    const value = str(m, kind);
    if (value !== undefined) return { kind, value, ignoreCase: bool(m, 'ignore_case') ?? false, ...(sanType ? { sanType } : {}) };
  }
  const regex = str(obj(m, 'safe_regex'), 'regex');
  return regex !== undefined ? { kind: 'safe_regex', value: regex, ignoreCase: false, ...(sanType ? { sanType } : {}) } : undefined;
}

/** A certificate's SANs by type, as Envoy's SAN matchers see them. */
export interface PeerSans {
  uris: readonly string[];
  dnsNames: readonly string[];
}

/**
 * Whether Envoy's SAN check accepts a peer certificate: no matchers accept
 * any; otherwise one SAN must satisfy one matcher (Envoy's
 * DefaultCertValidator::verifySubjectAltName; a DNS matcher's exact value
 * may be a wildcard certificate's name).
 */
export function sanAccepted(matchers: readonly SanMatcher[], sans: PeerSans): boolean {
  if (matchers.length === 0) return true;
  const candidates = (type?: string) => [
    ...(type === undefined || type === 'URI' ? sans.uris : []),
    ...(type === undefined || type === 'DNS' ? sans.dnsNames : []),
  ];
  return matchers.some((m) => candidates(m.sanType).some((san) => stringMatches(m, san)));
}

function stringMatches(m: SanMatcher, san: string): boolean {
  const [v, s] = m.ignoreCase ? [m.value.toLowerCase(), san.toLowerCase()] : [m.value, san];
  switch (m.kind) {
    case 'exact': return s === v;
    case 'prefix': return s.startsWith(v);
    case 'suffix': return s.endsWith(v);
    case 'contains': return s.includes(v);
    default: return new RegExp(`^(?:${m.value})$`).test(san);
  }
}
