/**
 * Redaction of secrets before a snapshot touches disk (docs/snapshot.md,
 * "Redaction"). Pure functions: text in, text and counts out; they never
 * throw, whatever the input (property-tested in test/snapshot/redact.test.ts).
 *
 * Every secret is replaced with `[redacted]` and counted per kind, so meta.json
 * can say what was removed without saying what it was.
 */
import type { KubeObject } from '../model/k8s/resources.js';

export const REDACTED = '[redacted]';

/**
 * What was redacted:
 * - `private-key`: PEM private key blocks (`-----BEGIN ... PRIVATE KEY-----`),
 *   also base64-encoded (kubeconfig `client-key-data`, Secret data, `inline_bytes`)
 * - `envoy-secret`: `inline_bytes`/`inline_string` under `private_key`, `password`
 *   or a generic `secret` in an Envoy config dump (Envoy redacts most already)
 * - `bearer-token`: `Authorization: Bearer|Basic ...` credentials and other `Bearer <token>`
 * - `jwt`: JSON Web Tokens (`eyJ...` three dot-separated base64url parts)
 * - `token-field`: values of `token:`, `id-token:`, `refresh-token:`, `access-token:`,
 *   `client-secret:`, `password:` fields (kubeconfigs, ConfigMaps, JSON)
 * - `secret-data`: every value of a Secret's `data`/`stringData` (and its last-applied annotation)
 * - `env-secret`: literal `env[].value` of a pod container whose name says it is a secret
 *   (`*PASSWORD*`, `*TOKEN*`, `*SECRET*`, `*API_KEY*`...)
 */
export type RedactionKind = 'private-key' | 'envoy-secret' | 'bearer-token' | 'jwt' | 'token-field' | 'secret-data' | 'env-secret';

export const REDACTION_KINDS: readonly RedactionKind[] = ['private-key', 'envoy-secret', 'bearer-token', 'jwt', 'token-field', 'secret-data', 'env-secret'];

export type RedactionCounts = Partial<Record<RedactionKind, number>>;

export interface RedactedText {
  text: string;
  counts: RedactionCounts;
}

/** Adds `from` into `into` (mutates and returns `into`). */
export function addCounts(into: RedactionCounts, from: RedactionCounts): RedactionCounts {
  for (const kind of REDACTION_KINDS) {
    const n = from[kind];
    if (n) into[kind] = (into[kind] ?? 0) + n;
  }
  return into;
}

export function totalCount(counts: RedactionCounts): number {
  let total = 0;
  for (const kind of REDACTION_KINDS) total += counts[kind] ?? 0;
  return total;
}

/** "2 private-key, 1 jwt", or "" when nothing was redacted. */
export function formatCounts(counts: RedactionCounts): string {
  return REDACTION_KINDS.filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`).join(', ');
}

// --- text rules -------------------------------------------------------------

/** A complete PEM private key block (RSA, EC, ENCRYPTED, OPENSSH...), JSON-escaped or not. */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/gi;
/** A BEGIN marker whose END was cut off (truncated output): the marker and the key material after it. */
const PEM_UNTERMINATED = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[A-Za-z0-9+/=\s\\:,.-]*/gi;
/** Base64 of "-----BEGIN" (the start of a base64-encoded PEM file). */
const BASE64_PEM = /LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}/g;
/** RFC 6750 b64token. */
const TOKEN_CHARS = '[A-Za-z0-9\\-._~+/]+=*';
const AUTHORIZATION = new RegExp(`(\\bauthorization["']?\\s*[:=,]\\s*["']?\\s*(?:bearer|basic)\\s+)(${TOKEN_CHARS})`, 'gi');
const BEARER = /\b(bearer\s+)([A-Za-z0-9\-._~+/]{16,}=*)/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const TOKEN_KEYS = [
  'token', 'id-token', 'id_token', 'idToken', 'refresh-token', 'refresh_token', 'refreshToken',
  'access-token', 'access_token', 'accessToken', 'client-secret', 'client_secret', 'clientSecret',
  'password', 'passwd',
];
const TOKEN_FIELD = new RegExp(
  `(^|[\\s{,"'])(["']?(?:${TOKEN_KEYS.join('|')})["']?[ \\t]*[:=][ \\t]*)(["']?)([^\\s"',{}\\[\\]]+)`,
  'gim',
);
/** Values of a token field that are not secrets: paths to token files, YAML block indicators, null. */
const NOT_A_SECRET = /^(?:\/|[|>][-+0-9]*$|null$|true$|false$|~$)/i;
/** Envoy config dump DataSource holders whose inline data is secret. */
const ENVOY_SECRET = /("(?:private_key|password|secret)"\s*:\s*\{\s*"inline_(?:bytes|string)"\s*:\s*")((?:[^"\\]|\\.)*)"/g;
/** What Envoy itself writes in place of a secret: `[redacted]`, base64 of it. */
const ALREADY_REDACTED = new Set(['', REDACTED, 'W3JlZGFjdGVkXQ==']);

type Counter = (kind: RedactionKind) => void;

/**
 * Redacts secrets in any text (config dumps, logs, YAML, kubeconfigs).
 * Never throws; `text` comes back unchanged (same string) when nothing matched.
 */
export function redactText(input: string): RedactedText {
  const counts: RedactionCounts = {};
  if (typeof input !== 'string') return { text: '', counts };
  const count: Counter = (kind) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  let text = input;
  // A pass can, in theory, join two fragments into a new match; run to a fixed point (bounded).
  for (let pass = 0; pass < 4; pass++) {
    const next = redactOnce(text, count);
    if (next === text) break;
    text = next;
  }
  return { text, counts };
}

function redactOnce(input: string, count: Counter): string {
  let text = input;
  if (/BEGIN/i.test(text)) {
    text = text.replace(PEM_BLOCK, () => (count('private-key'), REDACTED));
    text = text.replace(PEM_UNTERMINATED, () => (count('private-key'), REDACTED));
  }
  if (text.includes('LS0tLS1CRUdJTi')) {
    text = text.replace(BASE64_PEM, (match) => {
      if (!/PRIVATE KEY/i.test(decodeBase64(match))) return match;
      count('private-key');
      return REDACTED;
    });
  }
  if (text.includes('"inline_')) text = redactEnvoySecrets(text, count);
  if (/authorization/i.test(text)) text = text.replace(AUTHORIZATION, (_m, prefix: string) => (count('bearer-token'), prefix + REDACTED));
  if (/bearer/i.test(text)) text = text.replace(BEARER, (_m, prefix: string) => (count('bearer-token'), prefix + REDACTED));
  if (text.includes('eyJ')) text = text.replace(JWT, () => (count('jwt'), REDACTED));
  if (/token|secret|passw/i.test(text)) {
    text = text.replace(TOKEN_FIELD, (match, lead: string, key: string, quote: string, value: string) => {
      if (NOT_A_SECRET.test(value) || value === REDACTED) return match;
      count('token-field');
      return `${lead}${key}${quote}${REDACTED}`;
    });
  }
  return text;
}

function decodeBase64(text: string): string {
  try {
    return Buffer.from(text.slice(0, 64), 'base64').toString('latin1');
  } catch {
    return '';
  }
}

/**
 * In Envoy JSON: `"private_key": {"inline_bytes": "..."}` (also `password`,
 * and a generic secret's `secret`): the DataSource directly under the key.
 * Certificate chains next to them are evidence and stay.
 */
function redactEnvoySecrets(text: string, count: Counter): string {
  return text.replace(ENVOY_SECRET, (match, prefix: string, value: string) => {
    if (ALREADY_REDACTED.has(value.replace(/\\[nrt]|\s/g, ''))) return match;
    count('envoy-secret');
    return `${prefix}${REDACTED}"`;
  });
}

// --- Kubernetes objects -----------------------------------------------------

const SECRET_ENV_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface RedactedObjects {
  objects: KubeObject[];
  counts: RedactionCounts;
}

/**
 * Structural redaction of Kubernetes objects before they are serialised:
 * Secret values, secret-looking literal env values of pods. The text rules
 * (redactText) run on the serialised file afterwards as well. Never throws;
 * objects are copied, not changed in place.
 */
export function redactObjects(objects: readonly unknown[]): RedactedObjects {
  const counts: RedactionCounts = {};
  const out: KubeObject[] = [];
  if (!Array.isArray(objects)) return { objects: out, counts };
  for (const object of objects) {
    try {
      out.push(redactObject(object, counts));
    } catch {
      // An object too strange to walk (a getter that throws...): leave it out rather than leak it.
    }
  }
  return { objects: out, counts };
}

function redactObject(value: unknown, counts: RedactionCounts): KubeObject {
  if (!isRecord(value)) return value as KubeObject;
  const object = value as KubeObject;
  if (object.kind === 'Secret') {
    const copy: Record<string, unknown> = { ...object };
    for (const field of ['data', 'stringData']) {
      const data = copy[field];
      if (!isRecord(data)) continue;
      const redacted: Record<string, unknown> = {};
      for (const key of Object.keys(data)) {
        redacted[key] = REDACTED;
        counts['secret-data'] = (counts['secret-data'] ?? 0) + 1;
      }
      copy[field] = redacted;
    }
    const metadata = copy.metadata;
    if (isRecord(metadata) && isRecord(metadata.annotations) && LAST_APPLIED in metadata.annotations) {
      copy.metadata = { ...metadata, annotations: { ...metadata.annotations, [LAST_APPLIED]: REDACTED } };
      counts['secret-data'] = (counts['secret-data'] ?? 0) + 1;
    }
    return copy as KubeObject;
  }
  if (object.kind === 'Pod' && isRecord(object.spec)) {
    let changed = false;
    const spec: Record<string, unknown> = { ...object.spec };
    for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
      const list = spec[field];
      if (!Array.isArray(list)) continue;
      spec[field] = list.map((container: unknown) => {
        if (!isRecord(container) || !Array.isArray(container.env)) return container;
        let touched = false;
        const env = container.env.map((entry: unknown) => {
          if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.value !== 'string') return entry;
          if (!SECRET_ENV_NAME.test(entry.name) || entry.value === '' || entry.value === REDACTED) return entry;
          touched = true;
          counts['env-secret'] = (counts['env-secret'] ?? 0) + 1;
          return { ...entry, value: REDACTED };
        });
        if (!touched) return container;
        changed = true;
        return { ...container, env };
      });
    }
    return changed ? { ...object, spec } : object;
  }
  return object;
}

function isRecord(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
