/**
 * A proxy's certificates: the workload chain (Istio's SDS secret `default`)
 * and its trust root (`ROOTCA`), parsed with Node's X509Certificate (no
 * hand-written ASN.1), and the SPIFFE identity in the leaf's URI SAN.
 *
 * Three sources, best first:
 *  - the config dump's SecretsConfigDump (`dynamic_active_secrets`): the PEM
 *    itself, inline bytes, with the private key already `[redacted]` by Envoy
 *    (seen on the mesh lab's Envoy 1.40: file-based SDS is dumped inline too);
 *  - `istioctl proxy-config secret -o json`: the same dump in protojson's
 *    camelCase (`dynamicActiveSecrets`, `inlineBytes`);
 *  - the `/certs` admin endpoint: no PEM, only serial, SANs, validity and
 *    `days_until_expiration` per certificate, each TLS context listed again
 *    (the lab's sidecar printed the same pair once per context).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { type JsonObject, isObject, objs, str } from './json.js';
import { readSecretsConfigDump, type Secret } from './secrets.js';

export interface SpiffeId {
  uri: string;
  trustDomain: string;
  namespace?: string;
  serviceAccount?: string;
}

export interface CertificateView {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  uris: string[];
  dnsNames: string[];
  spiffe?: SpiffeId;
  isCA: boolean;
  /** SHA-256 of the DER, `AB:CD:…` (as openssl prints it); absent when read from /certs (no PEM there). */
  fingerprint256?: string;
  /** The certificate itself, for verifying signatures; absent when read from /certs. */
  pem?: string;
}

export type CertificateOrigin = 'config_dump' | 'istioctl proxy-config secret' | 'certs';

export interface ProxyCertificates {
  /** The workload chain, leaf first. */
  chain: CertificateView[];
  /** The trust root(s) the proxy validates peers with. */
  roots: CertificateView[];
  origin: CertificateOrigin;
  /** An SDS secret that has not arrived (warming): the listener or cluster using it is not ready. */
  warming: string[];
}

/** `spiffe://cluster.local/ns/foo/sa/httpbin` → trust domain, namespace, service account. */
export function parseSpiffe(uri: string): SpiffeId | undefined {
  const m = /^spiffe:\/\/([^/]+)(\/.*)?$/.exec(uri);
  if (!m) return undefined;
  const path = /^\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(m[2] ?? '');
  return { uri, trustDomain: m[1]!, ...(path ? { namespace: path[1], serviceAccount: path[2] } : {}) };
}

/** `URI:spiffe://…, DNS:a.b` as X509Certificate.subjectAltName prints it. */
function altNames(text: string | undefined): { uris: string[]; dnsNames: string[] } {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const part of (text ?? '').split(/,\s*/)) {
    const [kind, ...rest] = part.split(':');
    const value = rest.join(':').replace(/^"|"$/g, '');
    if (kind === 'URI') uris.push(value);
    else if (kind === 'DNS') dnsNames.push(value);
  }
  return { uris, dnsNames };
}

function view(cert: X509Certificate, pem: string): CertificateView {
  const { uris, dnsNames } = altNames(cert.subjectAltName);
  const spiffe = uris.map(parseSpiffe).find((s) => s !== undefined);
  return {
    // Istio's workload certificates have an empty subject (the identity is the URI SAN only):
    // X509Certificate.subject is then undefined, not ''.
    subject: (cert.subject ?? '').replace(/\n/g, ', '),
    issuer: (cert.issuer ?? '').replace(/\n/g, ', '),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    uris,
    dnsNames,
    ...(spiffe ? { spiffe } : {}),
    isCA: cert.ca,
    fingerprint256: cert.fingerprint256,
    pem,
  };
}

/** Every certificate in a PEM bundle, in order; blocks that do not parse are skipped. */
export function certificatesFromPem(pem: string): CertificateView[] {
  const out: CertificateView[] = [];
  for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) {
    try {
      out.push(view(new X509Certificate(block), block));
    } catch {
      // A corrupt block: the others still say what the proxy holds.
    }
  }
  return out;
}

/** The SHA-256 fingerprint of a DER certificate, as X509Certificate prints it; for comparing roots across sources. */
export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/**
 * Certificates from a proxy's secrets (the config dump's SecretsConfigDump,
 * or istioctl's, read by readSecretsConfigDump): `default` (else the first
 * tls_certificate) is the chain, every validation context a root; warming
 * secrets are named.
 */
export function certificatesFromSecrets(secrets: readonly Secret[], origin: CertificateOrigin = 'config_dump'): ProxyCertificates {
  const active = secrets.filter((s) => s.state !== 'warming');
  const identity = active.find((s) => s.kind === 'tls_certificate' && s.name === 'default') ?? active.find((s) => s.kind === 'tls_certificate');
  const roots: CertificateView[] = [];
  for (const secret of active.filter((s) => s.kind === 'validation_context')) {
    for (const c of certificatesFromPem(secret.pem() ?? '')) if (!roots.some((r) => r.fingerprint256 === c.fingerprint256)) roots.push(c);
  }
  return {
    chain: identity ? certificatesFromPem(identity.pem() ?? '') : [],
    roots,
    origin,
    warming: secrets.filter((s) => s.state === 'warming').map((s) => s.name),
  };
}

/** `istioctl proxy-config secret POD -o json`: the SecretsConfigDump in protojson (camelCase). */
export function certificatesFromIstioctlSecret(text: string): ProxyCertificates {
  const parsed: unknown = JSON.parse(text);
  return certificatesFromSecrets(isObject(parsed) ? readSecretsConfigDump(parsed) : [], 'istioctl proxy-config secret');
}

/** `/certs` admin JSON: per TLS context `cert_chain` and `ca_cert`, each with serial, SANs and validity. */
export function certificatesFromAdminCerts(text: string): ProxyCertificates {
  const parsed: unknown = JSON.parse(text);
  const contexts = isObject(parsed) ? objs(parsed, 'certificates') : [];
  const fromDetail = (d: JsonObject): CertificateView => {
    const uris = objs(d, 'subject_alt_names').map((s) => str(s, 'uri')).filter((u): u is string => u !== undefined);
    const dnsNames = objs(d, 'subject_alt_names').map((s) => str(s, 'dns')).filter((u): u is string => u !== undefined);
    const spiffe = uris.map(parseSpiffe).find((s) => s !== undefined);
    return {
      subject: '', issuer: '', serial: (str(d, 'serial_number') ?? '').toLowerCase(),
      notBefore: new Date(str(d, 'valid_from') ?? NaN), notAfter: new Date(str(d, 'expiration_time') ?? NaN),
      uris, dnsNames, ...(spiffe ? { spiffe } : {}), isCA: false,
    };
  };
  const seen = new Set<string>();
  const chain: CertificateView[] = [];
  const roots: CertificateView[] = [];
  for (const c of contexts) {
    for (const d of objs(c, 'cert_chain')) if (!seen.has(`c${str(d, 'serial_number')}`) && seen.add(`c${str(d, 'serial_number')}`)) chain.push(fromDetail(d));
    for (const d of objs(c, 'ca_cert')) if (!seen.has(`r${str(d, 'serial_number')}`) && seen.add(`r${str(d, 'serial_number')}`)) roots.push({ ...fromDetail(d), isCA: true });
  }
  return { chain, roots, origin: 'certs', warming: [] };
}

/** Days from `now` to the certificate's end (negative when expired), one decimal. */
export function daysLeft(cert: CertificateView, now: Date): number {
  return Math.round(((cert.notAfter.getTime() - now.getTime()) / 86_400_000) * 10) / 10;
}

/** The root's identity for comparing proxies: its fingerprint, or (from /certs) its serial. */
export function rootKey(cert: CertificateView): string {
  return cert.fingerprint256 ?? `serial ${cert.serial}`;
}

/**
 * Whether a chain (leaf first) verifies up to one of `roots`: each link's
 * issuer and signature checked with X509Certificate (checkIssued + verify),
 * as BoringSSL does before it says CERTIFICATE_VERIFY_FAILED. Undefined when
 * a certificate came without its PEM (read from /certs): nothing to verify.
 */
export function chainsTo(chain: readonly CertificateView[], roots: readonly CertificateView[]): boolean | undefined {
  if (chain.length === 0 || roots.length === 0 || [...chain, ...roots].some((c) => c.pem === undefined)) return undefined;
  const anchors = roots.map((r) => new X509Certificate(r.pem!));
  const links = chain.map((c) => new X509Certificate(c.pem!));
  const signedBy = (cert: X509Certificate, issuer: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  for (let i = 0; i < links.length; i++) {
    const cert = links[i]!;
    if (anchors.some((root) => root.fingerprint256 === cert.fingerprint256 || signedBy(cert, root))) return true;
    const next = links[i + 1];
    if (!next || !signedBy(cert, next)) return false;
  }
  return false;
}
