/**
 * Secrets from a SecretsConfigDump (Istio's SDS: `default` = the workload
 * certificate chain, `ROOTCA` = the trust root). Envoy redacts private keys:
 * they print as `[redacted]` (base64 `W3JlZGFjdGVkXQ==`). Shapes from Envoy's
 * admin/v3/config_dump_shared.proto and the real dumps under ../shared/data/.
 */
import { type JsonObject, obj, objs, str } from './json.js';

export type SecretState = 'static' | 'active' | 'warming';

export interface Secret {
  readonly name: string;
  readonly state: SecretState;
  readonly versionInfo?: string;
  readonly lastUpdated?: string;
  readonly kind: 'tls_certificate' | 'validation_context' | 'generic' | 'session_ticket_keys' | 'unknown';
  readonly hasCertificateChain: boolean;
  readonly hasPrivateKey: boolean;
  /** True when Envoy printed `[redacted]` instead of the key (it always does for inline keys). */
  readonly privateKeyRedacted: boolean;
  readonly hasTrustedCa: boolean;
  /** The PEM of the certificate chain (or trusted CA for a validation context), decoded lazily. */
  pem(): string | undefined;
  readonly raw: JsonObject;
}

function dataSourceText(ds: JsonObject | undefined): string | undefined {
  if (!ds) return undefined;
  const bytes = str(ds, 'inline_bytes');
  if (bytes !== undefined) return Buffer.from(bytes, 'base64').toString('utf8');
  return str(ds, 'inline_string') ?? str(ds, 'filename');
}

function readSecret(entry: JsonObject, state: SecretState): Secret {
  const secret = obj(entry, 'secret') ?? {};
  const cert = obj(secret, 'tls_certificate');
  const validation = obj(secret, 'validation_context');
  const chain = obj(cert, 'certificate_chain');
  const key = obj(cert, 'private_key');
  const trusted = obj(validation, 'trusted_ca');
  const kind: Secret['kind'] = cert
    ? 'tls_certificate'
    : validation
      ? 'validation_context'
      : obj(secret, 'generic_secret')
        ? 'generic'
        : obj(secret, 'session_ticket_keys')
          ? 'session_ticket_keys'
          : 'unknown';
  const keyText = key ? dataSourceText(key) : undefined;
  return {
    name: str(entry, 'name') ?? str(secret, 'name') ?? '',
    state,
    versionInfo: str(entry, 'version_info'),
    lastUpdated: str(entry, 'last_updated'),
    kind,
    hasCertificateChain: Boolean(chain && Object.keys(chain).length > 0),
    hasPrivateKey: Boolean(key && Object.keys(key).length > 0),
    privateKeyRedacted: keyText === '[redacted]',
    hasTrustedCa: Boolean(trusted && Object.keys(trusted).length > 0),
    pem: () => dataSourceText(chain) ?? dataSourceText(trusted),
    raw: entry,
  };
}

/** Reads a SecretsConfigDump: static_secrets, dynamic_active_secrets, dynamic_warming_secrets. */
export function readSecretsConfigDump(dump: JsonObject): Secret[] {
  const out: Secret[] = [];
  for (const [key, state] of [
    ['static_secrets', 'static'],
    ['dynamic_active_secrets', 'active'],
    ['dynamic_warming_secrets', 'warming'],
  ] as const) {
    for (const e of objs(dump, key)) out.push(readSecret(e, state));
  }
  return out;
}
