import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/inbound');
const POD = 'app-5f7b9c6d8-q7w2e.default';

describe('end to end through the real kubectl: iptables', function () {
  this.timeout(120_000);
  let e2e: E2E | undefined;
  before(async function () {
    requireKubectl(this);
  });
  afterEach(async () => {
    await e2e?.stop();
    e2e = undefined;
  });

  it('reads the istio-init log and walks a packet from 127.0.0.1 into the loop (a what-if answer, exit 0)', async () => {
    e2e = await startE2E({ snapshotDir: path.join(FIXTURES, 'wildcard-1.20') });
    const result = await e2e.kubectl(['iptables', POD, '--packet', 'src=127.0.0.1 dst=10.244.1.50:8080 uid=1337 out=lo', '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    const report = jsonOf(result);
    expect(report.data.source).to.equal('kubectl logs app-5f7b9c6d8-q7w2e -n default -c istio-init');
    expect(report.data.walks[0].loop).to.equal(true);
    expect(report.findings).to.deep.equal([]);
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  });

  it('without a nat table it tries iptables-save in istio-proxy and reports why that failed', async () => {
    e2e = await startE2E({ snapshotDir: path.join(FIXTURES, 'no-nat-table-1.20') });
    const result = await e2e.kubectl(['iptables', POD, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    const tried = report.data.tried.join('\n');
    expect(tried).to.contain('iptables-save -t nat in istio-proxy exited 1');
    expect(tried).to.contain('Permission denied (you must be root)');
    // Refused once: the -L -v fallback is not asked for (it would be refused the same way).
    const execs = JSON.stringify(e2e.cluster.journal.execs());
    expect(execs).to.contain('iptables-save');
    expect(execs).not.to.contain('"-L"');
  });
});
