import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');

describe('end to end through the real kubectl: basics', function () {
  let e2e: E2E;
  before(async function () {
    requireKubectl(this);
    e2e = await startE2E({ snapshotDir: TWO_PODS });
  });
  after(async () => { await e2e?.stop(); });

  it('kubectl finds the plugin and lists pods, reading the namespace from the context', async () => {
    const result = await e2e.kubectl(['pods', '-A']);
    expect(result.stderr).to.equal('');
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.contain('shop       cart-5d9f  10.244.1.7  yes');
  });

  it('reads a sidecar\'s log levels with one POST /logging that changes nothing', async () => {
    const before = e2e.cluster.currentLevels('shop', 'cart-5d9f');
    const result = await e2e.kubectl(['logging', 'cart-5d9f.shop', '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    const levels = JSON.parse(result.stdout).data.levels;
    expect(levels).to.deep.include({ logger: 'http', level: 'debug' });
    expect(e2e.cluster.currentLevels('shop', 'cart-5d9f')).to.deep.equal(before);
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  });

  it('--read-only refuses even the read-only POST /logging', async () => {
    const result = await e2e.kubectl(['logging', 'cart-5d9f.shop', '--read-only']);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.match(/^Error: --read-only forbids every POST/);
  });

  it('a pod without a sidecar gets a clear error (exit 1)', async () => {
    const result = await e2e.kubectl(['logging', 'legacy-0.shop']);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.match(/^Error: pod legacy-0\.shop has no istio-proxy container\n/);
  });

  it('a missing pod gets a clear error (exit 1)', async () => {
    const result = await e2e.kubectl(['logging', 'nope.shop']);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.match(/^Error: pod nope\.shop: pods "nope" not found\n/);
  });

  it('RBAC Forbidden on pods/exec names the verb and resource', async () => {
    e2e.cluster.setFaults({ forbidden: [{ verb: 'create', resource: 'pods/exec' }] });
    try {
      const result = await e2e.kubectl(['logging', 'cart-5d9f.shop']);
      expect(result.exitCode).to.equal(1);
      expect(result.stderr).to.match(/forbidden: your user may not create pods\/exec in namespace shop/);
      expect(result.stderr).to.match(/Ask for RBAC that grants "create" on "pods\/exec"/);
    } finally {
      e2e.cluster.setFaults({});
    }
  });
});

describe('end to end through the real kubectl: listeners', function () {
  // An oracle scenario: real Envoy config from Istio's generator, and the real istioctl's table for it.
  const scenario = path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp');
  let e2e: E2E;
  before(async function () {
    requireKubectl(this);
    e2e = await startE2E({ snapshotDir: path.join(scenario, 'snapshot') });
  });
  after(async () => { await e2e?.stop(); });

  it("prints the real istioctl's table for the sidecar's live config dump, and writes nothing", async () => {
    const result = await e2e.kubectl(['listeners', 'sample-c59f744df-8kq7m.istio-demo', '--no-owner']);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(await readFile(path.join(scenario, 'expected/istio-demo.sample-c59f744df-8kq7m.istioctl-listeners.txt'), 'utf8'));
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
  });
});
