import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessLines, eventually, useLab } from './support.js';

/**
 * why-mtls-fails on real Envoys (issue 12): the handshake between sleep and
 * httpbin broken one way at a time with real certificates from the lab's CAs
 * (another service account, another trust domain, a second root, an expired
 * certificate) and Istio's generated clusters (a DestinationRule's
 * subjectAltNames, TLS origination to a sidecar'd server), beside healthy
 * twins. Real traffic, the line the client sidecar logs, the live diagnosis
 * through the real kubectl, and each broken one snapshotted and diagnosed
 * offline with the same culprit.
 */
const SLEEP = 'sleep-5b597748b4-77kj5.foo';
const CLIENT = { ns: 'foo', pod: 'sleep-5b597748b4-77kj5' };
const DIAGNOSE = ['why-mtls-fails', SLEEP, '--to', 'httpbin:8000'];

/** The client's one access-log line: the first attempt's failure, or UH after outlier detection (seed 004's DestinationRule) ejected the host, the TLS error in the upstream failure field. */
const failedHandshake = (detail: string) => new RegExp(`"GET /headers HTTP/1\\.1" 503 (UH no_healthy_upstream - "|URX,UF upstream_reset_before_response_started\\{remote_connection_failure\\|)TLS_error:\\|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify_cert_failed:_${detail}`);
const healthy = /"GET \/headers HTTP\/1\.1" 200 - via_upstream /;

const CASES: Array<{ scenario: string; saw: RegExp; logged: RegExp; culprit?: string }> = [
  { scenario: 'mtls-wrong-service-account', saw: /HTTP\/1\.1 503/, logged: failedHandshake('SAN_matcher,_certificate_SANs_are_\\[spiffe://cluster\\.local/ns/foo/sa/other\\]'), culprit: 'MD5005 Pod foo/httpbin-94fdb8c79-h9zrq' },
  { scenario: 'mtls-foreign-trust-domain', saw: /HTTP\/1\.1 503/, logged: failedHandshake('SAN_matcher,_certificate_SANs_are_\\[spiffe://east\\.example/ns/foo/sa/httpbin\\]'), culprit: 'MD5006 Pod foo/httpbin-94fdb8c79-h9zrq' },
  { scenario: 'mtls-second-root', saw: /HTTP\/1\.1 503/, logged: failedHandshake('X509_verify_cert:_certificate_verification_error_at_depth_0:_unable_to_get_local_issuer_certificate'), culprit: 'MD5007 Pod foo/httpbin-94fdb8c79-h9zrq' },
  { scenario: 'mtls-expired-certificate', saw: /HTTP\/1\.1 503/, logged: failedHandshake('X509_verify_cert:_certificate_verification_error_at_depth_0:_certificate_has_expired'), culprit: 'MD5001 Pod foo/httpbin-94fdb8c79-h9zrq' },
  { scenario: 'mtls-dr-wrong-san', saw: /HTTP\/1\.1 503/, logged: failedHandshake('SAN_matcher,_certificate_SANs_are_\\[spiffe://cluster\\.local/ns/foo/sa/httpbin\\]'), culprit: 'MD5005 DestinationRule foo/httpbin' },
  { scenario: 'mtls-dr-wrong-san-healthy', saw: /HTTP\/1\.1 200 OK/, logged: healthy },
  { scenario: 'mtls-double-tls', saw: /HTTP\/1\.1 503/, logged: /"GET \/headers HTTP\/1\.1" 503 URX,UF upstream_reset_before_response_started\{remote_connection_failure\|TLS_error:\|33554536:system_library:OPENSSL_internal:Connection_reset_by_peer:TLS_error_end\}/, culprit: 'MD5008 DestinationRule foo/httpbin' },
  { scenario: 'mtls-double-tls-healthy', saw: /HTTP\/1\.1 200 OK/, logged: healthy },
  { scenario: 'seed004-dr-tls-disable-healthy', saw: /HTTP\/1\.1 200 OK/, logged: healthy },
];

const errors = (report: any) => report.findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

for (const c of CASES) {
  describe(`mesh lab: ${c.scenario} (real Envoy, why-mtls-fails)`, function () {
    this.timeout(120_000);
    const s = useLab(c.scenario);

    it(`the request: the client sees ${c.culprit ? '503' : '200'} and its sidecar logs the real line`, async () => {
      const client = s.lab.pod(CLIENT.ns, CLIENT.pod);
      const mark = s.lab.log(client, 'istio-proxy').length;
      const r = await s.lab.sendTraffic();
      expect(`${r.stdout}\n${r.stderr}`).to.match(c.saw);
      await eventually("the client's access-log line", async () => accessLines(s.lab, client, mark).length > 0);
      expect(accessLines(s.lab, client, mark).join('\n')).to.match(c.logged);
    });

    it(`live through the real kubectl: ${c.culprit ?? 'checks out, exit 0'}`, async () => {
      const r = await s.e2e.kubectl([...DIAGNOSE, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(c.culprit ? 3 : 0);
      const report = JSON.parse(r.stdout);
      if (c.culprit) {
        // The verdict names the handshake's culprit (rule order: the cause before the ejection it led to).
        expect(errors(report)).to.include(c.culprit);
        expect(report.verdict.summary).to.contain(`(${c.culprit.split(' ')[0]})`).and.to.contain(`culprit ${c.culprit.split(' ').slice(1).join(' ')}`);
      } else {
        expect(report.verdict.summary).to.match(/checks out|does not use Istio mTLS/);
      }
    });

    const culprit = c.culprit;
    if (culprit) {
      it('snapshot of both pods, then offline: the same culprit', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'md-lab-snap-'));
        try {
          const out = path.join(dir, 'snap.tar.gz');
          const snap = await s.e2e.kubectl(['snapshot', SLEEP, 'httpbin-94fdb8c79-h9zrq.foo', '--out', out]);
          expect(snap.exitCode, snap.stderr).to.equal(0);
          const offline = await s.e2e.kubectl([...DIAGNOSE, '--from', out, '-o', 'json']);
          expect(offline.exitCode, offline.stderr).to.equal(3);
          const report = JSON.parse(offline.stdout);
          expect(errors(report)).to.include(culprit);
          expect(report.verdict.summary).to.contain(`culprit ${culprit.split(' ').slice(1).join(' ')}`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
