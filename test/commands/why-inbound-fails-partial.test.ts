import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

// seed 004 without any config dump: the server's access log holds `NR filter_chain_not_found`
// (its PROVENANCE.md: the reference's #27903 TCP entry, this scenario's addresses); the
// resources make port 8080 STRICT (mesh-wide PeerAuthentication).
const NO_DUMPS = path.join(REPO_ROOT, 'test/fixtures/why-503/seed004-dr-tls-disable-no-client-dump');
// The same server whose log shows only successful requests: nothing logged fails.
const NO_DUMPS_HEALTHY = path.join(REPO_ROOT, 'test/fixtures/inbound/wildcard-1.20-no-dump');

describe('why-inbound-fails on partial evidence (no server config dump)', function () {
  this.timeout(120_000);

  it('the server logged NR filter_chain_not_found: MD3007 from its own log (exit 3), with a confidence naming the missing dump', async () => {
    const result = await runCli(['why-inbound-fails', 'httpbin-94fdb8c79-h9zrq.foo', '--from', NO_DUMPS, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('problem');
    const [finding] = report.findings.filter((f: any) => f.severity === 'error');
    expect(finding.code).to.equal('MD3007');
    expect(finding.target).to.deep.equal({ kind: 'Service', namespace: 'foo', name: 'httpbin' });
    expect(finding.message).to.match(/1 connection from 172\.17\.0\.13/);
    expect(finding.message).to.match(/STRICT/);
    expect(finding.evidence[0].excerpt).to.contain('NR filter_chain_not_found');
    expect(report.verdict.confidence.level).to.equal('medium');
    expect(report.verdict.confidence.missing.join('\n')).to.match(/config dump/);
    const hop = report.data.ports[0].hops.find((h: any) => h.hop.startsWith('virtualInbound'));
    expect(hop.ok).to.equal(false);
  });

  it('the same without a failure in the log: inconclusive (exit 4), never intact', async () => {
    const result = await runCli(['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default', '--from', NO_DUMPS_HEALTHY, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.summary).to.match(/the hops that were read do not fail/);
    expect(report.verdict.confidence.level).to.equal('low');
    expect(report.findings.filter((f: any) => f.code === 'MD3007')).to.deep.equal([]);
  });
});
