import { expect } from 'chai';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withCustomAccessFormat } from '../support/access-format.js';
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
    expect([none.status, none.because]).to.deep.equal(['skipped', 'the snapshot holds no istio-proxy log']);
  });

  it('a proxy that logs no access (no access_log on its listeners, Istio\'s default): skipped, saying why, never passed', async () => {
    // The oracle's seed 003 snapshot is Istio's default mesh config (no accessLogFile); its log is the lab
    // sidecar's own Envoy lines for the same scenario, without its access lines (the lab sets accessLogFile).
    const dir = await mkdtemp(path.join(tmpdir(), 'md-check-nolog-'));
    try {
      await cp(path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp/snapshot'), dir, { recursive: true });
      const lab = await readFile(path.join(REPO_ROOT, 'test/fixtures/lab/seed003-se-no-addresses-tcp/istio-demo.sample-c59f744df-8kq7m.istio-proxy.log'), 'utf8');
      const envoyOwn = lab.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\t/.test(l));
      expect(envoyOwn.length).to.be.greaterThan(5);
      await writeFile(path.join(dir, 'proxies/istio-demo/sample-c59f744df-8kq7m/istio-proxy.log'), `${envoyOwn.join('\n')}\n`);
      const report = jsonOf(await runCli(['check', '-A', '--from', dir, '-o', 'json']));
      const line = traffic(report);
      expect(line.status).to.equal('skipped');
      expect(line.because).to.contain('logs no access: no access_log on its listeners');
      const blocked = report.data.groups.flatMap((g: any) => g.checks).find((c: any) => c.rule === 'md2001-registry-only-blocked');
      expect(blocked.status).to.equal('skipped');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a proxy logging access in a custom format and no line read: skipped, saying so; the default format with no failure: passed', async () => {
    // The lab's real Envoy snapshot (test/fixtures/certs/PROVENANCE.md), access logging to /dev/stdout;
    // each pod's log is Envoy's own lines from a lab recording, no access line among them.
    const lab = await readFile(path.join(REPO_ROOT, 'test/fixtures/lab/seed003-se-no-addresses-tcp/istio-demo.sample-c59f744df-8kq7m.istio-proxy.log'), 'utf8');
    const envoyOwn = `${lab.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\t/.test(l)).join('\n')}\n`;
    const run = async (custom: boolean) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'md-check-format-'));
      try {
        await cp(path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls'), dir, { recursive: true });
        for (const pod of ['foo/sleep-5b597748b4-77kj5', 'foo/httpbin-94fdb8c79-h9zrq']) {
          const dump = path.join(dir, 'proxies', pod, 'config_dump');
          if (custom) await writeFile(dump, withCustomAccessFormat(await readFile(dump, 'utf8')));
          await writeFile(path.join(dir, 'proxies', pod, 'istio-proxy.log'), envoyOwn);
        }
        return traffic(jsonOf(await runCli(['check', '-A', '--from', dir, '-o', 'json'])));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    const custom = await run(true);
    expect(custom.status).to.equal('skipped');
    expect(custom.because).to.equal('the proxy logs access in a custom format ("%START_TIME% code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS% ...", meshConfig.accessLogFormat) that mesh-doctor does not read');
    expect((await run(false)).status).to.equal('passed');
  });
});
