import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { removeAll, snapshotWithout } from '../support/partial-snapshot.js';

// seed 003 (ServiceEntry without addresses on 443) with the sidecar's config dump deleted.
const NO_DUMP = path.join(REPO_ROOT, 'test/fixtures/who-owns-443/seed003-se-no-addresses-tls-no-dump');
const EGRESS = path.join(REPO_ROOT, 'test/fixtures/egress');

/** An egress fixture (test/fixtures/egress/PROVENANCE.md) without the named pods' config dumps. */
const withoutDumps = (fixture: string, pods: string[], dirs: string[]) =>
  snapshotWithout(path.join(EGRESS, fixture), pods.map((pod) => `proxies/${pod}/config_dump?include_eds`), dirs);

describe('who-owns-443 on partial evidence', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(() => removeAll(dirs));

  for (const args of [['-A'], ['sample-c59f744df-8kq7m.istio-demo']]) {
    it(`no config dump, ${args.join(' ')}: inconclusive (exit 4) with the resources' MD1003 warnings and a low confidence, never healthy`, async () => {
      const result = await runCli(['who-owns-443', ...args, '--from', NO_DUMP, '-o', 'json']);
      expect(result.exitCode, result.stderr).to.equal(4);
      const report = jsonOf(result);
      expect(report.verdict.status).to.equal('inconclusive');
      expect(report.findings.map((f: any) => f.code)).to.include('MD1003');
      expect(report.verdict.confidence.level).to.equal('low');
      expect(report.verdict.confidence.missing.join('\n')).to.match(/config dump/);
    });
  }

  it('no config dump, resources with an error (Istio 1.7, port 443 named http): the error stands, no owner claimed, low confidence', async () => {
    const dir = await withoutDumps('seed000-istio-1.7-http-on-443', ['team-b/web-6d4cf56db6-x2pnq'], dirs);
    const result = await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('problem');
    expect(report.findings.map((f: any) => f.code)).to.include('MD1004');
    expect(report.verdict.summary).to.not.match(/owns every unmatched connection/);
    expect(report.verdict.summary).to.match(/unchecked/);
    expect(report.verdict.confidence.level).to.equal('low');
  });

  it('one of two sidecars unread: the read one\'s culprit stands, with a medium confidence naming the unread pod', async () => {
    const dir = await withoutDumps('seed003-istio-1.11-catch-all', ['bookinfo/reviews-v1-545db77b95-6xq4l'], dirs);
    const result = await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('problem');
    expect(report.verdict.summary).to.match(/1 of 2 pods read; port 443 is unchecked in reviews-v1-545db77b95-6xq4l.bookinfo/);
    expect(report.verdict.confidence.level).to.equal('medium');
    expect(report.verdict.confidence.missing.join('\n')).to.contain('reviews-v1-545db77b95-6xq4l.bookinfo');
  });
});
