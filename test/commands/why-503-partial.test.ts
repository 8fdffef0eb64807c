import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/why-503');
const CLIENT = 'sleep-5b597748b4-77kj5.foo';

describe('why-503 on partial evidence (no config dumps)', function () {
  this.timeout(120_000);

  it('DR tls DISABLE vs STRICT with only resources and access logs: MD3001 with a confidence naming the missing dumps', async () => {
    const result = await runCli(['why-503', CLIENT, '--to', 'httpbin:8000', '--from', path.join(FIXTURES, 'seed004-dr-tls-disable-no-client-dump'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('problem');
    expect(report.findings.map((f: any) => f.code)).to.include('MD3001');
    expect(report.verdict.confidence.level).to.equal('medium');
    expect(report.verdict.confidence.missing.join('\n')).to.match(/client's config dump/).and.to.match(/server's config dump/);
  });

  it('the healthy twin without dumps is inconclusive (exit 4), never healthy', async () => {
    const result = await runCli(['why-503', CLIENT, '--to', 'httpbin:8000', '--from', path.join(FIXTURES, 'seed004-dr-tls-disable-no-client-dump-healthy'), '-o', 'json']);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(result.exitCode, result.stderr).to.equal(4);
    expect(report.verdict.confidence.missing.join('\n')).to.match(/client's config dump/);
  });
});
