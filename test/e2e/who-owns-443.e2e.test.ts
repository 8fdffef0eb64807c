import { expect } from 'chai';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const SEED003 = path.join(REPO_ROOT, 'test/fixtures/egress/seed003-istio-1.11-catch-all');

describe('end to end through the real kubectl: who-owns-443', function () {
  let e2e: E2E;
  before(async function () {
    requireKubectl(this);
    e2e = await startE2E({ snapshotDir: SEED003 });
  });
  after(async () => { await e2e?.stop(); });

  it('-A: every sidecar pod, different winners per pod, read-only', async () => {
    const r = await e2e.kubectl(['who-owns-443', '-A']);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(r.stdout).to.match(/istio-demo\s+sample-c59f744df-8kq7m\s+outbound\|443\|\|traefik\.cutom-name\s+ServiceEntry abc\/traefik-cutom-name/);
    expect(r.stdout).to.match(/bookinfo\s+reviews-v1-545db77b95-6xq4l\s+outbound\|443\|\|mysql\.cutom-name\s+ServiceEntry bookinfo\/mysql-cutom-name/);
    expect(r.stdout).to.contain('Pods disagree on port 443');
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  });

  it('one pod: the istioctl rows with OWNER, the catch-all marked', async () => {
    const r = await e2e.kubectl(['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo']);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(r.stdout).to.match(/0\.0\.0\.0\s+443\s+ALL\s+Cluster: outbound\|443\|\|traefik\.cutom-name\s+ServiceEntry abc\/traefik-cutom-name\s+<- owns all unmatched traffic/);
    expect(r.stdout).to.match(/0\.0\.0\.0\s+443\s+SNI: music\.baidu\.com\s+Cluster: outbound\|443\|\|music\.baidu\.com\s+ServiceEntry default\/external-svc-https-qqapi/);
  });
});
