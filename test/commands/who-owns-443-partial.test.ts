import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

// seed 003 (ServiceEntry without addresses on 443) with the sidecar's config dump deleted.
const NO_DUMP = path.join(REPO_ROOT, 'test/fixtures/who-owns-443/seed003-se-no-addresses-tls-no-dump');

describe('who-owns-443 on partial evidence (no config dump)', function () {
  this.timeout(120_000);

  for (const args of [['-A'], ['sample-c59f744df-8kq7m.istio-demo']]) {
    it(`${args.join(' ')}: inconclusive (exit 4) with the resources' MD1003 warnings, never healthy`, async () => {
      const result = await runCli(['who-owns-443', ...args, '--from', NO_DUMP, '-o', 'json']);
      expect(result.exitCode, result.stderr).to.equal(4);
      const report = jsonOf(result);
      expect(report.verdict.status).to.equal('inconclusive');
      expect(report.findings.map((f: any) => f.code)).to.include('MD1003');
    });
  }
});
