import { expect } from 'chai';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const SEED003 = path.join(REPO_ROOT, 'test/fixtures/egress/seed003-istio-1.11-catch-all');

describe('end to end through the real kubectl: why-https-fails', function () {
  let e2e: E2E;
  before(async function () {
    requireKubectl(this);
    e2e = await startE2E({ snapshotDir: SEED003 });
  });
  after(async () => { await e2e?.stop(); });

  it('incident 4: the catch-all ServiceEntry is the culprit, the probe runs curl in the app container, nothing is written', async () => {
    const r = await e2e.kubectl(['why-https-fails', 'sample-c59f744df-8kq7m', '-n', 'istio-demo', '--host', 'baidu.com', '--probe', '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(3);
    const report = JSON.parse(r.stdout);
    expect(report.source.mode).to.equal('live');
    expect(report.findings[0].code).to.equal('MD1002');
    expect(report.findings[0].target).to.deep.equal({ kind: 'ServiceEntry', namespace: 'abc', name: 'traefik-cutom-name' });
    expect(report.data.probe.command).to.equal('curl -sv https://baidu.com');
    expect(report.data.probe.ties.join(' ')).to.contain('belongs to the backend of outbound|443||traefik.cutom-name');
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  });

  it('the human transcript names the listener line and the fix', async () => {
    const r = await e2e.kubectl(['why-https-fails', 'reviews-v1-545db77b95-6xq4l.bookinfo', '--host', 'music.baidu.com']);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(r.stdout).to.contain('0.0.0.0 443 ALL Cluster: outbound|443||mysql.cutom-name');
    expect(r.stdout).to.contain('MD2002');
    expect(r.stdout).to.match(/Verdict: Connections to music\.baidu\.com:443 go to mysql\.cutom-name because ServiceEntry bookinfo\/mysql-cutom-name/);
  });
});

describe('end to end through the real kubectl: why-https-fails --probe without curl in the app container', function () {
  let e2e: E2E;
  before(async function () {
    requireKubectl(this);
    e2e = await startE2E({ snapshotDir: path.join(REPO_ROOT, 'test/fixtures/egress/seed000-istio-1.7-http-on-443') });
  });
  after(async () => { await e2e?.stop(); });

  it('the probe is skipped with the reason, the verdict still stands', async () => {
    // Only `curl -sv https://www.google.com` is recorded; another host has no recording, so the exec fails like a missing executable.
    const r = await e2e.kubectl(['why-https-fails', 'web-6d4cf56db6-x2pnq.team-b', '--host', 'example.org', '--probe', '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(3);
    const report = JSON.parse(r.stdout);
    expect(report.findings[0].code).to.equal('MD1001');
    expect(report.skipped.map((s: { rule: string }) => s.rule)).to.include('--probe');
  });
});
