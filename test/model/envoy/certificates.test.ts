import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { certificatesFromAdminCerts, certificatesFromIstioctlSecret, certificatesFromPem, certificatesFromSecrets, daysLeft, parseSpiffe } from '../../../src/model/envoy/certificates.js';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { REPO_ROOT } from '../../support/cli.js';
import { asn1, HTTPBIN, issue, LAB_CAPTURED_AT, LAB_MTLS, NOW, opensslAvailable, tempDir } from '../../support/cert-variants.js';

const read = (file: string) => readFileSync(path.join(LAB_MTLS, HTTPBIN, file), 'utf8');
const ROOT_FINGERPRINT = '04:7D:D2:5F:AD:9B:F7:E5:9E:FF:54:4D:70:DE:DB:01:80:E4:D7:8B:FF:A3:65:3C:EC:8F:B6:10:19:D7:7F:92';

describe('certificates of a proxy (real Envoy 1.40 in the mesh lab)', () => {
  it('reads the workload chain and root from the config dump: SPIFFE identity, issuer, validity, fingerprint; an empty subject is empty, not undefined', () => {
    const certs = certificatesFromSecrets(parseConfigDump(read('config_dump'), 'dump').secrets);
    expect(certs.origin).to.equal('config_dump');
    expect(certs.chain).to.have.length(1);
    const leaf = certs.chain[0]!;
    expect(leaf.subject).to.equal('');
    expect(leaf.spiffe).to.deep.equal({ uri: 'spiffe://cluster.local/ns/foo/sa/httpbin', trustDomain: 'cluster.local', namespace: 'foo', serviceAccount: 'httpbin' });
    expect(leaf.issuer).to.equal('O=cluster.local, CN=root');
    expect(leaf.notAfter.toISOString()).to.equal('2026-12-06T09:58:37.000Z');
    expect(leaf.isCA).to.equal(false);
    expect(certs.roots.map((r) => [r.subject, r.isCA, r.fingerprint256])).to.deep.equal([['O=cluster.local, CN=root', true, ROOT_FINGERPRINT]]);
    expect(daysLeft(leaf, LAB_CAPTURED_AT)).to.equal(1);
  });

  it('reads istioctl proxy-config secret -o json (protojson camelCase) to the same certificates', () => {
    const fromIstioctl = certificatesFromIstioctlSecret(readFileSync(path.join(REPO_ROOT, 'test/fixtures/certs/istioctl-proxy-config-secret.json'), 'utf8'));
    const fromDump = certificatesFromSecrets(parseConfigDump(read('config_dump'), 'dump').secrets);
    expect(fromIstioctl.origin).to.equal('istioctl proxy-config secret');
    expect(fromIstioctl.chain).to.deep.equal(fromDump.chain);
    expect(fromIstioctl.roots).to.deep.equal(fromDump.roots);
  });

  it('reads /certs (no PEM: serial, SANs, validity), once per certificate although Envoy lists each TLS context', () => {
    const certs = certificatesFromAdminCerts(read('certs'));
    expect(certs.chain.map((c) => [c.serial, c.spiffe?.serviceAccount, c.notAfter.toISOString()])).to.deep.equal([['1001', 'httpbin', '2026-12-06T09:58:37.000Z']]);
    expect(certs.roots.map((c) => c.serial)).to.deep.equal(['35c06dd345837cabd0c060bb075a40471899bd43']);
    expect(certs.roots[0]!.fingerprint256).to.equal(undefined);
  });

  it('parses SPIFFE identities and refuses other URIs', () => {
    expect(parseSpiffe('spiffe://corp.example/ns/a/sa/b')).to.deep.equal({ uri: 'spiffe://corp.example/ns/a/sa/b', trustDomain: 'corp.example', namespace: 'a', serviceAccount: 'b' });
    expect(parseSpiffe('spiffe://corp.example/custom/path')).to.deep.equal({ uri: 'spiffe://corp.example/custom/path', trustDomain: 'corp.example' });
    expect(parseSpiffe('https://example.com')).to.equal(undefined);
  });

  it('reads an expired certificate with the dates openssl ca gave it, and skips a corrupt block', async function () {
    if (!opensslAvailable()) return this.skip();
    const tmp = tempDir('md-cert-');
    try {
      const c = await issue(tmp.dir, 'old', { namespace: 'foo', serviceAccount: 'httpbin', notBefore: asn1(-72), notAfter: asn1(-48), dnsNames: ['httpbin.foo.svc'] });
      const certs = certificatesFromPem(`${c.chain}\n-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n`);
      expect(certs).to.have.length(1);
      expect(certs[0]!.dnsNames).to.deep.equal(['httpbin.foo.svc']);
      expect(daysLeft(certs[0]!, NOW)).to.equal(-2);
    } finally {
      tmp.remove();
    }
  });
});
