import { expect } from 'chai';
import { readTlsContext, sanAccepted } from '../../../src/model/envoy/tls.js';

/**
 * Envoy's SAN check (DefaultCertValidator::verifySubjectAltName): no matchers
 * accept any certificate; otherwise one SAN must satisfy one matcher, a typed
 * matcher only SANs of its type. Shapes: Envoy's tls.proto
 * CertificateValidationContext, as Istio's clusters carry it in the real
 * dumps under ../shared/data (`match_subject_alt_names: [{exact: spiffe://…}]`).
 */
const context = (validation: object) => readTlsContext({
  '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  common_tls_context: { combined_validation_context: { default_validation_context: validation, validation_context_sds_secret_config: { name: 'ROOTCA' } } },
});
const httpbin = { uris: ['spiffe://cluster.local/ns/foo/sa/httpbin'], dnsNames: [] };

describe('SAN matchers as Envoy applies them', () => {
  it('exact, as Istio writes them: the service account matches, another does not', () => {
    const tls = context({ match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/foo/sa/httpbin' }] });
    expect(sanAccepted(tls.sanMatchers, httpbin)).to.equal(true);
    expect(sanAccepted(tls.sanMatchers, { uris: ['spiffe://cluster.local/ns/foo/sa/other'], dnsNames: [] })).to.equal(false);
  });
  it('no matchers: any certificate from a trusted root', () => {
    expect(sanAccepted(context({}).sanMatchers, httpbin)).to.equal(true);
  });
  it('prefix and regex matchers; a typed DNS matcher does not look at URI SANs', () => {
    expect(sanAccepted(context({ match_subject_alt_names: [{ prefix: 'spiffe://cluster.local/ns/foo/' }] }).sanMatchers, httpbin)).to.equal(true);
    expect(sanAccepted(context({ match_subject_alt_names: [{ safe_regex: { regex: 'spiffe://.*/sa/http.*' } }] }).sanMatchers, httpbin)).to.equal(true);
    const dnsOnly = context({ match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'spiffe://cluster.local/ns/foo/sa/httpbin' } }] });
    expect(sanAccepted(dnsOnly.sanMatchers, httpbin)).to.equal(false);
    const uri = context({ match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/foo/sa/httpbin' } }] });
    expect(sanAccepted(uri.sanMatchers, httpbin)).to.equal(true);
  });
});
