/**
 * MD5001 on the handshake's path: a certificate either sidecar uses in this
 * mTLS handshake is expired or not yet valid (clock skew). The judgement is
 * the certificates rule's own (../certs/validity.ts), run over the two sides
 * of this path, so `certs` and `why-mtls-fails` can never disagree.
 */
import { isIstioMutual } from '../../model/envoy/tls.js';
import type { ProxyCertEvidence } from '../certs/evidence.js';
import { certificateValidity } from '../certs/validity.js';
import type { UpstreamEvidence } from '../upstream/evidence.js';
import type { UpstreamRule } from '../upstream/rule.js';

function sides(e: UpstreamEvidence): ProxyCertEvidence[] {
  const tls = e.client.cluster?.cluster.peerTls;
  if (tls && !isIstioMutual(tls)) return [];
  const read = [
    { pod: e.client.pod, serviceAccount: '', certs: e.client.certs },
    ...e.servers.filter((s) => s.hasSidecar).map((s) => ({ pod: s.pod, serviceAccount: s.serviceAccount ?? 'default', certs: s.certs })),
  ];
  return read.filter((p) => p.certs?.certs.chain.length).map((p) => ({
    pod: p.pod, serviceAccount: p.serviceAccount, certs: p.certs!.certs,
    provenance: { source: p.certs!.source, ...(p.certs!.file ? { file: p.certs!.file } : {}) },
  }));
}

export const handshakeValidity: UpstreamRule = {
  id: 'md5001-handshake-certificate-validity',
  code: 'MD5001',
  description: 'A certificate used in this mTLS handshake is expired or not yet valid',
  needs: [{ anyOf: ['client:certificates', 'server:certificates'], because: "neither sidecar's certificates were read (no SDS secrets in the config dumps, no /certs)" }],
  check(e, analysis) {
    const proxies = sides(e);
    if (!proxies.length) return [];
    return certificateValidity.check({ proxies, now: e.now, warnDays: 0, trustDomain: e.mesh.trustDomain }, analysis);
  },
};
