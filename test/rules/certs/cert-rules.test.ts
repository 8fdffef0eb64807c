import { certificatesFromPem, type ProxyCertificates } from '../../../src/model/envoy/certificates.js';
import { certsEvidence, type CertsEvidence } from '../../../src/rules/certs/index.js';
import { identityMismatch } from '../../../src/rules/certs/identity.js';
import { rootMismatch } from '../../../src/rules/certs/root-mismatch.js';
import { certificateExpiring, certificateValidity } from '../../../src/rules/certs/validity.js';
import { asn1, issue, opensslAvailable, tempDir, type Issued } from '../../support/cert-variants.js';
import { ruleTester, type RuleTesterOptions } from '../../support/rule-tester.js';

/**
 * The certificate rules through the RuleTester. Certificates are real X.509,
 * issued before the tables are built by the lab's CA (openssl ca, as istiod
 * issues them: empty subject, SPIFFE URI SAN, 25 hours), judged as of the lab
 * moment the case runs (after its certificates and roots were made).
 */
interface Proxy { name: string; sa?: string; cert?: Issued; noRoot?: boolean }
type Input = { proxies: Proxy[]; warnDays?: number; trustDomain?: string };

const OPTIONS: RuleTesterOptions<Input, CertsEvidence, unknown> = {
  model: (input) => {
    const proxies = input.proxies.map((p) => {
      const certs: ProxyCertificates | undefined = p.cert ? { chain: certificatesFromPem(p.cert.chain), roots: p.noRoot ? [] : certificatesFromPem(p.cert.root), origin: 'config_dump', warming: [] } : undefined;
      return { pod: { namespace: 'foo', name: p.name }, serviceAccount: p.sa ?? p.name, ...(certs ? { certs } : { error: 'no config dump' }), provenance: { source: `istioctl proxy-config secret ${p.name}.foo` } };
    });
    return { model: certsEvidence({ proxies, now: new Date(), warnDays: input.warnDays ?? 7, trustDomain: input.trustDomain ?? 'cluster.local' }) };
  },
  sourcePattern: /^(istioctl|kubectl) /,
};

const certs: Record<string, Issued> = {};
const tmp = tempDir('md-cert-rules-');
const SA = (sa: string, extra: object = {}) => ({ namespace: 'foo', serviceAccount: sa, notBefore: asn1(-1), notAfter: asn1(24), ...extra });

before(async function () {
  if (!opensslAvailable()) return;
  this.timeout(30_000);
  // One CA per certificate here: separate roots; "mesh" certificates share one (issued from the same CA dir name).
  certs.httpbin = await issue(tmp.dir, 'mesh', SA('httpbin'));
  certs.sleep = await issue(tmp.dir, 'mesh', SA('sleep'));
  certs.otherRoot = await issue(tmp.dir, 'other', SA('sleep'));
  certs.expired = await issue(tmp.dir, 'mesh', SA('httpbin', { notBefore: asn1(-72), notAfter: asn1(-48) }));
  certs.future = await issue(tmp.dir, 'mesh', SA('httpbin', { notBefore: asn1(5), notAfter: asn1(30) }));
  certs.lateRenewal = await issue(tmp.dir, 'mesh', SA('httpbin', { notBefore: asn1(-22), notAfter: asn1(2) }));
  certs.wrongSa = await issue(tmp.dir, 'mesh', SA('default'));
  certs.otherDomain = await issue(tmp.dir, 'mesh', SA('httpbin', { trustDomain: 'old.example' }));
});
after(() => tmp.remove());

const p = (name: string, cert: () => Issued, extra: Partial<Proxy> = {}): Proxy => ({ name, get cert() { return cert(); }, ...extra });

describe('certificate rules', function () {
  before(function () {
    if (!opensslAvailable()) {
      console.log('    (skipped: openssl is not on PATH; the certificate rule tables issue real certificates with it)');
      this.skip();
    }
  });

  ruleTester(certificateValidity, OPTIONS, {
    valid: [{ name: 'a certificate in its validity window', input: { proxies: [p('httpbin', () => certs.httpbin!)] } }],
    invalid: [
      { name: 'an expired workload certificate', input: { proxies: [p('httpbin', () => certs.expired!, { noRoot: true })] }, expect: [{ code: 'MD5001', target: 'Pod foo/httpbin' }] },
      { name: 'a certificate not valid yet (clock skew)', input: { proxies: [p('httpbin', () => certs.future!, { noRoot: true })] }, expect: [{ code: 'MD5001', target: 'Pod foo/httpbin' }] },
    ],
    skipped: [{ name: 'no proxy could be read', input: { proxies: [{ name: 'httpbin' }] }, because: /no proxy's certificates could be read/ }],
  });

  ruleTester(certificateExpiring, OPTIONS, {
    valid: [
      { name: 'a fresh workload certificate, a root beyond --warn-days 1', input: { proxies: [p('httpbin', () => certs.httpbin!)], warnDays: 1 } },
      { name: 'an expired certificate is MD5001, not also MD5002', input: { proxies: [p('httpbin', () => certs.expired!, { noRoot: true })] } },
    ],
    invalid: [
      { name: 'a workload certificate with 2 of its 24 hours left: renewal overdue', input: { proxies: [p('httpbin', () => certs.lateRenewal!, { noRoot: true })] }, expect: [{ code: 'MD5002', target: 'Pod foo/httpbin', severity: 'warning' }] },
      { name: 'a root ending within --warn-days 7 (the lab root lives two days), once for the proxies sharing it', input: { proxies: [p('httpbin', () => certs.httpbin!), p('sleep', () => certs.sleep!)] }, expect: [{ code: 'MD5002', target: 'Secret istio-system/cacerts', severity: 'warning' }] },
    ],
  });

  ruleTester(rootMismatch, OPTIONS, {
    valid: [{ name: 'two proxies, one root', input: { proxies: [p('httpbin', () => certs.httpbin!), p('sleep', () => certs.sleep!)] } }],
    invalid: [{ name: 'sleep trusts another root', input: { proxies: [p('httpbin', () => certs.httpbin!), p('client', () => certs.httpbin!, { sa: 'httpbin' }), p('sleep', () => certs.otherRoot!)] }, expect: [{ code: 'MD5003', target: 'Pod foo/sleep' }] }],
    skipped: [{ name: 'one proxy has nothing to compare with', input: { proxies: [p('httpbin', () => certs.httpbin!)] }, because: /fewer than two proxies/ }],
  });

  ruleTester(identityMismatch, OPTIONS, {
    valid: [{ name: "the pod's service account in the mesh's trust domain", input: { proxies: [p('httpbin', () => certs.httpbin!)] } }],
    invalid: [
      { name: 'a certificate for service account default on a pod running as httpbin', input: { proxies: [p('httpbin', () => certs.wrongSa!)] }, expect: [{ code: 'MD5004', target: 'Pod foo/httpbin' }] },
      { name: 'a certificate in another trust domain', input: { proxies: [p('httpbin', () => certs.otherDomain!)] }, expect: [{ code: 'MD5004', target: 'Pod foo/httpbin' }] },
    ],
  });
});
