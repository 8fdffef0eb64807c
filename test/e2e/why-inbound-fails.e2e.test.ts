import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/inbound');
const POD = 'app-5f7b9c6d8-q7w2e.default';

async function withCluster(scenario: string, run: (e2e: E2E) => Promise<void>): Promise<void> {
  const e2e = await startE2E({ snapshotDir: path.join(FIXTURES, scenario) });
  try {
    await run(e2e);
  } finally {
    await e2e.stop();
  }
}

describe('end to end through the real kubectl: why-inbound-fails', function () {
  this.timeout(120_000);
  before(async function () {
    requireKubectl(this);
  });

  it('app bound to 127.0.0.1 behind an Istio 1.20 sidecar: MD4001 on the Deployment, exit 3, nothing written', () => withCluster('localhost-1.20', async (e2e) => {
    const result = await e2e.kubectl(['why-inbound-fails', POD, '--from-pod', 'sleep-7c9f8d6b5-x2k4p.default', '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.source.mode).to.equal('live');
    expect(report.findings.filter((f: any) => f.severity === 'error').map((f: any) => [f.code, f.target])).to.deep.equal([
      ['MD4001', { kind: 'Deployment', namespace: 'default', name: 'app' }],
    ]);
    // The evidence names commands a person can run against the same cluster.
    const sources = report.findings[0].evidence.map((e: any) => e.source);
    expect(sources).to.include('kubectl exec app-5f7b9c6d8-q7w2e -n default -c istio-proxy -- ss -ltnH');
    expect(report.data.natTable.source).to.match(/kubectl logs app-5f7b9c6d8-q7w2e -n default -c istio-init/);
    expect(report.data.client.lines.length).to.equal(3);
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  }));

  it('the healthy twin (app on 0.0.0.0): exit 0, the path hop by hop in the human output', () => withCluster('wildcard-1.20', async (e2e) => {
    const result = await e2e.kubectl(['why-inbound-fails', POD]);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('ok  app :8080');
    expect(result.stdout).to.contain('RETURN by ISTIO_OUTPUT rule 1');
    expect(result.stdout).to.match(/Verdict: The inbound path to app-5f7b9c6d8-q7w2e\.default port 8080 is intact/);
  }));

  it('targetPort matching no container port: MD4004 on the Service', () => withCluster('target-port-mismatch', async (e2e) => {
    const result = await e2e.kubectl(['why-inbound-fails', POD, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    expect(jsonOf(result).findings.filter((f: any) => f.severity === 'error').map((f: any) => [f.code, f.target.kind])).to.deep.equal([['MD4004', 'Service']]);
  }));

  it('a proxy image without ss and netstat: the sockets come from cat /proc/net/tcp (MD4001 still found)', () => withCluster('proc-net-tcp-1.20', async (e2e) => {
    const result = await e2e.kubectl(['why-inbound-fails', POD, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    const f = report.findings.find((x: any) => x.code === 'MD4001');
    expect(f.evidence[0].source).to.equal('kubectl exec app-5f7b9c6d8-q7w2e -n default -c istio-proxy -- cat /proc/net/tcp');
    expect(f.message).to.contain('listens only on 127.0.0.1:8080');
  }));

  it('no istio-init: the nat table comes from the istio-cni node agent\'s log', () => withCluster('cni-1.20', async (e2e) => {
    const result = await e2e.kubectl(['why-inbound-fails', POD, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(jsonOf(result).data.natTable.source).to.match(/^kubectl logs istio-cni-node-x7k2p -n kube-system -c install-cni/);
  }));
});
