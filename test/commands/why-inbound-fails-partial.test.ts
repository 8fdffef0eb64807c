import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

// seed 004 without any config dump: the server's access log holds `NR filter_chain_not_found`.
const NO_DUMPS = path.join(REPO_ROOT, 'test/fixtures/why-503/seed004-dr-tls-disable-no-client-dump');

describe('why-inbound-fails on partial evidence (no server config dump)', function () {
  this.timeout(120_000);

  it('the server logged NR filter_chain_not_found: inconclusive, and the verdict says what the log shows and what was missing', async () => {
    const result = await runCli(['why-inbound-fails', 'httpbin-94fdb8c79-h9zrq.foo', '--from', NO_DUMPS, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.summary).to.not.match(/do not fail/);
    expect(report.verdict.summary).to.match(/filter_chain_not_found/);
    expect(report.verdict.confidence.level).to.equal('low');
    expect(report.verdict.confidence.missing.join('\n')).to.match(/config dump/);
  });
});
