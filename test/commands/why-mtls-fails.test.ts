import { expect } from 'chai';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { asn1, HTTPBIN, issue, LAB_MTLS, meshIssuer, requireOpenssl, SLEEP, tempDir, variantSnapshot } from '../support/cert-variants.js';
import { jsonOf, REPO_ROOT, runCli, type CliResult } from '../support/cli.js';

/**
 * why-mtls-fails offline on the mesh lab's real capture of two sidecars
 * (test/fixtures/certs/PROVENANCE.md: real Envoy 1.40, Istio's generated
 * clusters with the SANs Istio writes), each broken variant made by replacing
 * the SDS secrets with certificates the lab CA issues now
 * (test/support/cert-variants.ts), beside its healthy twin.
 */
const CLIENT = 'sleep-5b597748b4-77kj5.foo';
const diagnose = (snap: string, command = 'why-mtls-fails') => runCli([command, CLIENT, '--to', 'httpbin:8000', '--from', snap, '-o', 'json']);
const errors = (r: CliResult) => jsonOf(r).findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

describe('why-mtls-fails on the lab capture and its broken variants', function () {
  this.timeout(60_000);
  const tmp = tempDir('md-mtls-variants-');
  const mesh = meshIssuer(() => tmp.dir);
  before(function () {
    requireOpenssl(this);
  });
  after(() => tmp.remove());

  it('the real capture: the handshake checks out, exit 0, with what each side presents and expects', async () => {
    const r = await diagnose(LAB_MTLS);
    expect(r.exitCode, r.stderr).to.equal(0);
    const report = jsonOf(r);
    expect(report.command).to.equal('why-mtls-fails');
    expect(report.verdict.summary).to.match(/^mTLS sleep-5b597748b4-77kj5\.foo -> httpbin\.foo\.svc\.cluster\.local:8000 checks out: httpbin-94fdb8c79-h9zrq\.foo presents spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin/);
    expect(report.data.handshakes).to.deep.include({
      server: 'httpbin-94fdb8c79-h9zrq.foo', presents: 'spiffe://cluster.local/ns/foo/sa/httpbin', serverValidUntil: '2026-12-06T09:58:37.000Z',
      client: CLIENT, clientPresents: 'spiffe://cluster.local/ns/foo/sa/sleep', clientExpects: ['spiffe://cluster.local/ns/foo/sa/httpbin'],
      identityAccepted: true, serverTrusted: true, clientTrusted: true,
    });
  });

  const cases: Array<{ what: string; secrets: () => Promise<Parameters<typeof variantSnapshot>[1]>; expected: string[]; says?: RegExp }> = [
    { what: 'httpbin presents another service account: MD5005 on the pod', secrets: async () => ({ [HTTPBIN]: await mesh('other'), [SLEEP]: await mesh('sleep') }), expected: ['MD5005 Pod foo/httpbin-94fdb8c79-h9zrq'], says: /presents spiffe:\/\/cluster\.local\/ns\/foo\/sa\/other, which .* does not accept \(spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin\)/ },
    { what: 'httpbin from another trust domain: MD5006 on the pod', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin', { trustDomain: 'east.example' }), [SLEEP]: await mesh('sleep') }), expected: ['MD5006 Pod foo/httpbin-94fdb8c79-h9zrq'], says: /accepts only trust domain cluster\.local/ },
    { what: 'httpbin from a second root: MD5007 on the pod whose chain is not trusted', secrets: async () => ({ [HTTPBIN]: await issue(tmp.dir, 'second', { namespace: 'foo', serviceAccount: 'httpbin', notBefore: asn1(-1), notAfter: asn1(24) }), [SLEEP]: await mesh('sleep') }), expected: ['MD5007 Pod foo/httpbin-94fdb8c79-h9zrq'], says: /does not chain to the root sleep-5b597748b4-77kj5\.foo trusts/ },
    { what: 'an expired server certificate: MD5001 on the pod', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin', { notBefore: asn1(-72), notAfter: asn1(-48) }), [SLEEP]: await mesh('sleep') }), expected: ['MD5001 Pod foo/httpbin-94fdb8c79-h9zrq'] },
    { what: 'a client certificate not yet valid (clock skew): MD5001 on the client', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await mesh('sleep', { notBefore: asn1(2), notAfter: asn1(26) }) }), expected: ['MD5001 Pod foo/sleep-5b597748b4-77kj5'], says: /not valid before/ },
    { what: 'the healthy twin: fresh certificates from one root', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await mesh('sleep') }), expected: [] },
  ];
  for (const c of cases) {
    it(`${c.what}, exit ${c.expected.length ? 3 : 0}; why-503 gives the same verdict`, async () => {
      const snap = variantSnapshot(tmp.dir, await c.secrets());
      const r = await diagnose(snap);
      expect(r.exitCode, r.stderr).to.equal(c.expected.length ? 3 : 0);
      expect(errors(r)).to.deep.equal(c.expected);
      if (c.says) expect(jsonOf(r).findings[0].message).to.match(c.says);
      if (c.expected.length) {
        // The evidence: the certificate in question, cited from the sidecar's secrets in the snapshot.
        const evidence = jsonOf(r).findings[0].evidence;
        expect(evidence[0].source).to.match(/^istioctl proxy-config secret |^kubectl exec .*config_dump/);
        expect(evidence[0].file).to.match(/^proxies\/foo\//);
        expect(evidence.map((e: { excerpt?: string }) => e.excerpt ?? '').join('\n')).to.match(/spiffe:\/\/|issuer: /);
      }
      // One place for the logic: why-503 runs the same rules on the same evidence.
      expect(errors(await diagnose(snap, 'why-503'))).to.deep.equal(c.expected);
    });
  }

  it("without the server's certificates the handshake is not judged: inconclusive (exit 4), never healthy", async () => {
    const snap = variantSnapshot(tmp.dir, {});
    for (const f of ['config_dump', 'certs']) rmSync(path.join(snap, HTTPBIN, f));
    const r = await diagnose(snap);
    expect(r.exitCode, r.stderr).to.equal(4);
    expect(jsonOf(r).verdict.summary).to.match(/could not be judged: the server sidecars' certificates were not read/);
  });
});

describe('why-mtls-fails on the oracle scenarios (Istio\'s generated config, no certificates in the dumps)', function () {
  this.timeout(60_000);
  const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');

  it('DestinationRule SIMPLE to a sidecar\'d PERMISSIVE server: MD5008 on the rule, from the config alone, exit 3', async () => {
    const r = await diagnose(scenario('mtls-double-tls'));
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(errors(r)).to.deep.equal(['MD5008 DestinationRule foo/httpbin']);
    expect(jsonOf(r).findings[0].remediation.command).to.contain('"tls":{"mode":"ISTIO_MUTUAL"}');
  });

  it('the twins, and a wrong subjectAltNames without the certificates to judge it: inconclusive (exit 4), never healthy', async () => {
    for (const name of ['mtls-double-tls-healthy', 'mtls-dr-wrong-san', 'mtls-dr-wrong-san-healthy']) {
      const r = await diagnose(scenario(name));
      expect(r.exitCode, `${name}: ${r.stderr}`).to.equal(4);
      expect(jsonOf(r).verdict.summary, name).to.match(/could not be judged: sleep-5b597748b4-77kj5\.foo's certificates were not read/);
    }
  });
});
