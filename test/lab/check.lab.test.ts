import { expect } from 'chai';
import { useLab } from './support.js';

/**
 * `check -A` live on real Envoys (issue 13): each seed's lab scenario after
 * its real request, the whole mesh triaged through the real kubectl, must
 * name the seed's culprit (the healthy twins none), and the certificate and
 * gateway groups find what the lab breaks for them. The same lines offline
 * are test/e2e/check-seeds.e2e.test.ts's.
 */
interface CheckLine { rule: string; status: string; culprits?: Array<{ code: string; target: string }> }
const found = (stdout: string): string[] => (JSON.parse(stdout) as { data: { groups: Array<{ checks: CheckLine[] }> } }).data.groups
  .flatMap((g) => g.checks).filter((c) => c.status === 'error').flatMap((c) => (c.culprits ?? []).map((k) => `${k.code} ${k.target}`));

const CASES: Array<{ scenario: string; culprit?: string; exit?: number }> = [
  { scenario: 'seed004-dr-tls-disable', culprit: 'MD1006 DestinationRule foo/httpbin' },
  { scenario: 'seed004-dr-tls-disable-healthy' },
  { scenario: 'seed003-se-no-addresses-tcp', culprit: 'MD1002 ServiceEntry abc/traefik-cutom-name' },
  { scenario: 'seed003-se-no-addresses-tcp-healthy' },
  { scenario: 'seed002-registry-only-unregistered', culprit: 'MD2001 ConfigMap istio-system/istio' },
  { scenario: 'seed002-registry-only-unregistered-healthy' },
  { scenario: 'seed001-app-on-localhost', culprit: 'MD4001 Pod default/app-5f7b9c6d8-q7w2e' },
  { scenario: 'seed001-app-on-all-interfaces' },
  { scenario: 'seed000-http-on-443-pre-1.8', culprit: 'MD1001 ' },
  { scenario: 'mtls-second-root', culprit: 'MD5003 Pod foo/' },
  { scenario: 'gw-host-not-in-gateway', culprit: 'MD8006 Gateway default/httpbin-gateway' },
  { scenario: 'gw-credential-missing', culprit: 'MD8011 Gateway default/httpbin-gateway' },
  { scenario: 'gw-ingress-healthy' },
];

for (const c of CASES) {
  describe(`mesh lab: ${c.scenario} (real Envoy, check -A)`, function () {
    this.timeout(120_000);
    const s = useLab(c.scenario);

    it(`after the scenario's request: ${c.culprit ?? 'no culprit'}`, async () => {
      await s.lab.sendTraffic();
      await new Promise((r) => setTimeout(r, 300)); // access logs flush every 100 ms
      const r = await s.e2e.kubectl(['check', '-A', '-o', 'json']);
      const errors = found(r.stdout);
      if (c.culprit) {
        expect(errors.some((e) => e.startsWith(c.culprit!)), `${errors.join('\n')}\n${r.stderr}`).to.equal(true);
        expect(r.exitCode).to.equal(c.exit ?? 3);
      } else {
        expect(errors, r.stderr).to.deep.equal([]);
        expect(r.exitCode, r.stderr).to.equal(0);
      }
    });
  });
}
