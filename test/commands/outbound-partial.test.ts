import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { removeAll, snapshotWithout } from '../support/partial-snapshot.js';

/**
 * why-https-fails and why-404 on partial evidence: the oracle's scenarios
 * (test/scenarios/*, Istio's own generator) with one source removed. A verdict
 * that could not follow the path says so, with a confidence naming what was missing.
 */
const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');
const GATEWAY = 'istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system';

describe('why-https-fails and why-404 on partial evidence', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(() => removeAll(dirs));

  for (const name of ['seed003-se-no-addresses-tcp', 'seed003-se-no-addresses-tcp-healthy']) {
    it(`why-https-fails, ${name} without the sidecar's config dump: inconclusive, confidence low naming the dump`, async () => {
      const dir = await snapshotWithout(scenario(name), ['proxies/istio-demo/sample-c59f744df-8kq7m/config_dump?include_eds'], dirs);
      const result = await runCli(['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--from', dir, '-o', 'json']);
      const report = jsonOf(result);
      expect(report.verdict.status).to.equal('inconclusive');
      expect(report.verdict.confidence.level).to.equal('low');
      expect(report.verdict.confidence.missing.join('\n')).to.match(/config dump/);
    });
  }

  it('why-404, a gateway snapshot without its Istio resources (cluster/crs): the 404 is seen in the config, unexplained, confidence low naming the Gateways', async () => {
    const dir = await snapshotWithout(scenario('gw-no-virtualservice'), ['cluster/crs'], dirs);
    const result = await runCli(['why-404', GATEWAY, '--host', 'httpbin.example.com', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.confidence.level).to.equal('low');
    expect(report.verdict.confidence.missing.join('\n')).to.match(/Gateway/);
  });
});
