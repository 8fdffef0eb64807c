import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * check's traffic group: each sidecar's access-log failures grouped by status,
 * flags, details and upstream cluster, each group with the diagnosis its line
 * calls for (the same choice as explain --diagnose). The logs are the mesh
 * lab's real sidecar lines (test/fixtures/check/PROVENANCE.md).
 */
const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/check', name);
const traffic = (report: any) => report.data.groups.find((g: { title: string }) => g.title === 'Traffic').checks[0];

describe('check: traffic', function () {
  this.timeout(60_000);

  it('a block_all 502: one group, why-502 with the host and path to dig deeper', async () => {
    const line = traffic(jsonOf(await runCli(['check', '-A', '--from', fixture('seed002-registry-only-unregistered'), '-o', 'json'])));
    expect(line.status).to.equal('warning');
    expect(line.culprits.map((c: any) => [c.target, c.message, c.next])).to.deep.equal([[
      '502 - direct_response -', '1 request logged by ubuntu-deployment-54bbd6f4ff-q9sdj.default',
      'kubectl mesh-doctor why-502 ubuntu-deployment-54bbd6f4ff-q9sdj.default --host httpbin.org --port 80 --path /headers',
    ]]);
  });

  it('an inbound connection refused: why-inbound-fails on the port', async () => {
    const line = traffic(jsonOf(await runCli(['check', '-A', '--from', fixture('seed001-app-on-localhost'), '-o', 'json'])));
    expect(line.culprits.map((c: any) => c.next)).to.deep.equal(['kubectl mesh-doctor why-inbound-fails app-5f7b9c6d8-q7w2e.default --port 8080']);
  });

  it('the healthy twins: passed; a snapshot without access logs: skipped, saying why', async () => {
    for (const name of ['seed002-registry-only-unregistered-healthy', 'seed001-app-on-all-interfaces']) {
      expect(traffic(jsonOf(await runCli(['check', '-A', '--from', fixture(name), '-o', 'json']))).status, name).to.equal('passed');
    }
    const none = traffic(jsonOf(await runCli(['check', '-A', '--from', path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp/snapshot'), '-o', 'json'])));
    expect([none.status, none.because]).to.deep.equal(['skipped', "no proxy's access log could be read"]);
  });
});
