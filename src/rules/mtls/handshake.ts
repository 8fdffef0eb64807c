/**
 * One mTLS handshake between the client sidecar and a server sidecar, as the
 * why-503 evidence describes it: what the client's cluster expects of the
 * server's certificate (SAN matchers, trust roots) and what each side holds
 * (its workload chain and ROOTCA, from its SDS secrets). The mTLS rules
 * (MD5001 in the handshake, MD5005–MD5008) judge these pairs; a pair is built
 * only where both certificates were read, so a rule never passes a handshake
 * it could not see.
 */
import type { EvidenceItem } from '../../findings/finding.js';
import { chainsTo, type CertificateView, type ProxyCertificates } from '../../model/envoy/certificates.js';
import { isIstioMutual, sanAccepted, type SanMatcher } from '../../model/envoy/tls.js';
import { formatPod, type PodRef } from '../../model/pod.js';
import { certificateEvidence } from '../certs/support.js';
import type { Cited, ServerEvidence, UpstreamEvidence } from '../upstream/evidence.js';

export interface Handshake {
  server: ServerEvidence;
  /** The certificate the server presents, leaf first. */
  serverCerts: Cited & { certs: ProxyCertificates };
  clientCerts: Cited & { certs: ProxyCertificates };
  /** What the client's cluster checks the server's certificate against (empty: any SAN). */
  expects: readonly SanMatcher[];
  /** The client's cluster, as a person would read it. */
  clusterCommand: string;
  clusterFile?: string;
  /** The server's inbound asks for the client's certificate (Istio mTLS, STRICT or PERMISSIVE's TLS chain). */
  serverChecksClient: boolean;
}

/**
 * The handshakes that Istio mTLS makes on this path: the client's cluster
 * uses Istio's certificates toward sidecar'd endpoints, and both sides'
 * certificates were read.
 */
export function istioHandshakes(e: UpstreamEvidence): Handshake[] {
  const tls = e.client.cluster?.cluster.peerTls;
  const clientCerts = e.client.certs;
  if (!tls || !isIstioMutual(tls) || !clientCerts?.certs.chain.length) return [];
  const cluster = e.client.cluster!;
  return e.servers.filter((s) => s.hasSidecar && s.certs?.certs.chain.length).map((server) => ({
    server,
    serverCerts: server.certs!,
    clientCerts,
    expects: tls.sanMatchers,
    clusterCommand: `istioctl proxy-config cluster ${formatPod(e.client.pod)} --fqdn ${e.destination.host}${e.destination.port ? ` --port ${e.destination.port}` : ''} -o json`,
    ...(cluster.file ? { clusterFile: cluster.file } : {}),
    serverChecksClient: server.demand?.chains.some((c) => c.requireClientCertificate) ?? true,
  }));
}

export function leafOf(certs: ProxyCertificates): CertificateView {
  return certs.chain[0]!;
}

/** The matchers as Envoy prints them: `exact spiffe://…`, one per line. */
export function describeMatchers(matchers: readonly SanMatcher[]): string {
  return matchers.map((m) => `${m.sanType ? `${m.sanType} ` : ''}${m.kind} ${m.value}`).join('\n');
}

/** The client's expectation, cited from its cluster. */
export function expectationEvidence(h: Handshake): EvidenceItem {
  return {
    source: h.clusterCommand,
    ...(h.clusterFile ? { file: h.clusterFile } : {}),
    excerpt: h.expects.length ? `match_subject_alt_names:\n${describeMatchers(h.expects)}` : 'no SAN matchers: any certificate from a trusted root is accepted',
    note: 'what the client sidecar checks the server\'s certificate against',
  };
}

/** A side's certificates as evidence, written by the certificates rules' own builder. */
export function presentedEvidence(pod: PodRef, certs: Cited & { certs: ProxyCertificates }, now: Date, what: 'chain' | 'roots', note: string): EvidenceItem {
  const side = { pod, serviceAccount: '', certs: certs.certs, provenance: { source: `istioctl proxy-config secret ${formatPod(pod)}`, ...(certs.file ? { file: certs.file } : {}) } };
  return certificateEvidence(side, what === 'chain' ? certs.certs.chain : certs.certs.roots, note, now);
}

/** One handshake as the report states it: who presents what, what is expected, whether each side trusts the other. */
export interface HandshakeSummary {
  server: string;
  presents: string;
  serverValidUntil: string;
  client: string;
  clientPresents: string;
  clientExpects: string[];
  /** The server's certificate passes the client's SAN check. */
  identityAccepted: boolean;
  /** The server's chain leads to the client's root (undefined: no PEM to verify, read from /certs). */
  serverTrusted?: boolean;
  /** The client's chain leads to the server's root, when the server asks for it. */
  clientTrusted?: boolean;
}

export function summarizeHandshakes(e: UpstreamEvidence): HandshakeSummary[] {
  return istioHandshakes(e).map((h) => {
    const leaf = leafOf(h.serverCerts.certs);
    const clientLeaf = leafOf(h.clientCerts.certs);
    const serverTrusted = chainsTo(h.serverCerts.certs.chain, h.clientCerts.certs.roots);
    const clientTrusted = h.serverChecksClient ? chainsTo(h.clientCerts.certs.chain, h.serverCerts.certs.roots) : undefined;
    return {
      server: formatPod(h.server.pod),
      presents: leaf.spiffe?.uri ?? (leaf.subject || `serial ${leaf.serial}`),
      serverValidUntil: leaf.notAfter.toISOString(),
      client: formatPod(e.client.pod),
      clientPresents: clientLeaf.spiffe?.uri ?? (clientLeaf.subject || `serial ${clientLeaf.serial}`),
      clientExpects: h.expects.map((m) => `${m.kind === 'exact' ? '' : `${m.kind} `}${m.value}`),
      identityAccepted: sanAccepted(h.expects, leaf),
      ...(serverTrusted !== undefined ? { serverTrusted } : {}),
      ...(clientTrusted !== undefined ? { clientTrusted } : {}),
    };
  });
}
