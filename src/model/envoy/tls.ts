/**
 * Transport sockets (envoy.config.core.v3.TransportSocket) as they appear on
 * filter chains (DownstreamTlsContext) and clusters (UpstreamTlsContext).
 * Shapes: Envoy API docs, extensions/transport_sockets/tls/v3/tls.proto, and
 * what Istio's sidecars carry in the real dumps under ../shared/data/.
 */
import { type JsonObject, bool, obj, objs, shortTypeName, str, strs } from './json.js';

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
