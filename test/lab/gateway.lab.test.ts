import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessLines, eventually, useLab } from './support.js';

/**
 * why-404 on a real ingress gateway (issue 16): the gateway is Envoy 1.40
 * loaded with the router config Istio's generator builds from the Gateway
 * and VirtualService, httpbin behind it with its sidecar, a client outside
 * the mesh. Real traffic through the gateway, the line the gateway logs, the
 * diagnosis live through the real kubectl, and the broken one snapshotted
 * and diagnosed offline with the same culprit.
 */
const GATEWAY = { ns: 'istio-system', pod: 'istio-ingressgateway-7d4f8b6c9-h5k2m' };
const DIAGNOSE = ['why-404', `${GATEWAY.pod}.${GATEWAY.ns}`, '--host', 'httpbin.example.com', '--path', '/status/200'];

const CASES: Array<{ scenario: string; saw: RegExp; logged: RegExp; culprit?: string }> = [
  {
    scenario: 'gw-host-not-in-gateway',
    saw: /< HTTP\/1\.1 404 Not Found/,
    logged: /"GET \/status\/200 HTTP\/1\.1" 404 NR route_not_found .* "httpbin\.example\.com" "-" - - 10\.244\.0\.10:8080 10\.244\.1\.60:\d+ - -$/,
    culprit: 'MD8006 Gateway default/httpbin-gateway',
  },
  {
    scenario: 'gw-ingress-healthy',
    saw: /< HTTP\/1\.1 200 OK/,
    logged: /"GET \/status\/200 HTTP\/1\.1" 200 - via_upstream .* outbound\|8000\|\|httpbin\.default\.svc\.cluster\.local /,
  },
];

const errors = (report: any) => report.findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

for (const c of CASES) {
  describe(`mesh lab: ${c.scenario} (real Envoy as the ingress gateway, why-404)`, function () {
    this.timeout(120_000);
    const s = useLab(c.scenario);

    it(`the request through the gateway: ${c.culprit ? '404' : '200'}, and the gateway logs the real line`, async () => {
      const gateway = s.lab.pod(GATEWAY.ns, GATEWAY.pod);
      const mark = s.lab.log(gateway, 'istio-proxy').length;
      const r = await s.lab.sendTraffic();
      expect(`${r.stdout}\n${r.stderr}`).to.match(c.saw);
      await eventually("the gateway's access-log line", async () => accessLines(s.lab, gateway, mark).length > 0);
      expect(accessLines(s.lab, gateway, mark).join('\n')).to.match(c.logged);
    });

    it(`live through the real kubectl: ${c.culprit ?? 'healthy, exit 0'}`, async () => {
      const r = await s.e2e.kubectl([...DIAGNOSE, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(c.culprit ? 3 : 0);
      const report = JSON.parse(r.stdout);
      expect(errors(report)).to.deep.equal(c.culprit ? [c.culprit] : []);
    });

    const culprit = c.culprit;
    if (culprit) {
      it('snapshot of the gateway, then offline: the same culprit', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'md-lab-snap-'));
        try {
          const out = path.join(dir, 'snap.tar.gz');
          const snap = await s.e2e.kubectl(['snapshot', `${GATEWAY.pod}.${GATEWAY.ns}`, '--out', out]);
          expect(snap.exitCode, snap.stderr).to.equal(0);
          const offline = await s.e2e.kubectl([...DIAGNOSE, '--from', out, '-o', 'json']);
          expect(offline.exitCode, offline.stderr).to.equal(3);
          expect(errors(JSON.parse(offline.stdout))).to.deep.equal([culprit]);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
