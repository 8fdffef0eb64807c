import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const SNAPSHOT = path.join(REPO_ROOT, 'test/scenarios/seed002-registry-only-se-sidecar-hidden/snapshot');

describe('end to end through the real kubectl: why-502', function () {
  let e2e: E2E;
  before(async function () {
    requireKubectl(this);
    if (!existsSync(SNAPSHOT)) {
      console.log('    (skipped: the oracle scenario seed002-registry-only-se-sidecar-hidden is not generated)');
      this.skip();
    }
    e2e = await startE2E({ snapshotDir: SNAPSHOT });
  });
  after(async () => { await e2e?.stop(); });

  it('incident 3: the Sidecar that hides the ServiceEntry is the culprit', async () => {
    const r = await e2e.kubectl(['why-502', 'ubuntu-deployment-54bbd6f4ff-q9sdj', '--host', 'httpbin.org', '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(3);
    const report = JSON.parse(r.stdout);
    expect(report.findings[0].code).to.equal('MD2002');
    expect(report.findings[0].target).to.deep.equal({ kind: 'Sidecar', namespace: 'default', name: 'default' });
    expect(report.data.outcome).to.include({ kind: 'direct_response', status: 502 });
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  });
});
