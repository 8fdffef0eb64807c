import { expect } from 'chai';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { luaEnvoyFilter, realDumpMissing, realRejectedSnapshot, rejectListener } from '../support/rejected-dump.js';

/**
 * Rejected config is evidence: a listener Envoy refused is shown by `listeners`
 * and is a failed hop (MD7001) on every path that crosses it, blaming the
 * EnvoyFilter that patched in the filter Envoy's reason names. Fixtures: the
 * real 1.20.8 sidecar and the oracle's scenarios, with one listener rejected
 * as real Envoy 1.40 records it (test/fixtures/config-state/PROVENANCE.md).
 */
const SCENARIOS = path.join(REPO_ROOT, 'test/scenarios');
const LUA_FILTER = { kind: 'EnvoyFilter', namespace: 'vanilla-playground', name: 'lua-auth' };

async function scenarioWithRejected(scenario: string, pod: { namespace: string; name: string; labels: Record<string, string> }, listener: string, context: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-rejected-'));
  await cp(path.join(SCENARIOS, scenario, 'snapshot'), dir, { recursive: true });
  const file = path.join(dir, 'proxies', pod.namespace, pod.name, 'config_dump?include_eds');
  const dump = JSON.parse(await readFile(file, 'utf8'));
  rejectListener(dump, listener);
  await writeFile(file, JSON.stringify(dump));
  const crs = path.join(dir, 'cluster/crs');
  await writeFile(crs, `${await readFile(crs, 'utf8').catch(() => '')}\n---\n${luaEnvoyFilter(pod.namespace, pod.labels, context)}`);
  return dir;
}

describe('rejected config: listeners shows it, every diagnosis crossing it fails that hop (MD7001)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  describe('the real 1.20.8 sidecar whose virtualInbound Envoy rejected (a Lua EnvoyFilter)', () => {
    let rejected: string;
    let healthy: string;
    let pod: string;
    before(async function () {
      if (realDumpMissing()) this.skip();
      rejected = await mkdtemp(path.join(tmpdir(), 'md-rejected-'));
      healthy = await mkdtemp(path.join(tmpdir(), 'md-rejected-'));
      dirs.push(rejected, healthy);
      pod = (await realRejectedSnapshot(rejected)).pod;
      await realRejectedSnapshot(healthy, { healthy: true });
    });

    it("listeners: virtualInbound is in the table, marked REJECTED with Envoy's reason (MD7001 on the EnvoyFilter)", async () => {
      const result = await runCli(['listeners', pod, '--from', rejected]);
      const row = result.stdout.split('\n').find((l) => l.includes('REJECTED'));
      expect(row, result.stdout).to.match(/0\.0\.0\.0\s+15006/);
      expect(result.stdout).to.contain('LuaValidationError.DefaultSourceCode');
      const json = await runCli(['listeners', pod, '--from', rejected, '-o', 'json']);
      expect(json.exitCode, 'an error finding is exit 3 whatever the command').to.equal(3);
      const report = jsonOf(json);
      expect(report.data.rejected.map((r: any) => r.name)).to.deep.equal(['virtualInbound']);
      expect(report.findings.map((f: any) => [f.code, f.target])).to.deep.equal([['MD7001', LUA_FILTER]]);
      const twin = jsonOf(await runCli(['listeners', pod, '--from', healthy, '-o', 'json']));
      expect(twin.data.rejected).to.deep.equal([]);
      expect(twin.findings).to.deep.equal([]);
    });

    it('why-inbound-fails: the virtualInbound hop fails, MD7001 blames the EnvoyFilter, exit 3 (never "intact")', async () => {
      const result = await runCli(['why-inbound-fails', pod, '--from', rejected, '-o', 'json']);
      expect(result.exitCode, result.stderr).to.equal(3);
      const report = jsonOf(result);
      expect(report.findings.filter((f: any) => f.severity === 'error').map((f: any) => [f.code, f.target])).to.deep.equal([['MD7001', LUA_FILTER]]);
      expect(report.findings[0].message).to.contain('LuaValidationError.DefaultSourceCode');
      const hop = report.data.ports[0].hops.find((h: any) => h.hop.startsWith('virtualInbound'));
      expect(hop.ok).to.equal(false);
      expect(hop.detail).to.contain('REJECTED');
      expect(report.verdict.status).to.equal('problem');
      const twin = jsonOf(await runCli(['why-inbound-fails', pod, '--from', healthy, '-o', 'json']));
      expect(twin.findings.map((f: any) => f.code)).to.not.include('MD7001');
    });
  });

  it("why-503: the server's virtualInbound rejected is MD7001 on the path (seed 004's healthy twin, httpbin's listener rejected)", async () => {
    const dir = await scenarioWithRejected('seed004-dr-tls-disable-healthy', { namespace: 'foo', name: 'httpbin-94fdb8c79-h9zrq', labels: { app: 'httpbin' } }, 'virtualInbound', 'SIDECAR_INBOUND');
    dirs.push(dir);
    const result = await runCli(['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings.map((f: any) => [f.code, f.target])).to.deep.include(['MD7001', { kind: 'EnvoyFilter', namespace: 'foo', name: 'lua-auth' }]);
  });

  it('why-502: the outbound 0.0.0.0_80 listener rejected is MD7001, not a path that ends elsewhere', async () => {
    const dir = await scenarioWithRejected('seed002-registry-only-unregistered-healthy', { namespace: 'default', name: 'ubuntu-deployment-54bbd6f4ff-q9sdj', labels: { app: 'ubuntu' } }, '0.0.0.0_80', 'SIDECAR_OUTBOUND');
    dirs.push(dir);
    const result = await runCli(['why-502', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--host', 'httpbin.org', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings.map((f: any) => [f.code, f.target.kind])).to.deep.include(['MD7001', 'EnvoyFilter']);
  });
});

describe('rejected and warming clusters on why-503\'s path', function () {
  this.timeout(120_000);
  const CLIENT = { namespace: 'foo', name: 'sleep-5b597748b4-77kj5' };
  const CLUSTER = 'outbound|8000||httpbin.foo.svc.cluster.local';

  /**
   * Seed 004's healthy twin with the client's cluster for httpbin changed in place, in the
   * shapes of envoy/admin/v3/config_dump_shared.proto (real Envoy 1.40 with file-based CDS
   * recorded no cluster error_state: test/fixtures/config-state/PROVENANCE.md). The details
   * text is hand-made from the Cluster proto's validation rule on connect_timeout (gt 0s).
   */
  async function withClientCluster(change: (clusters: any) => void): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'md-rejected-'));
    await cp(path.join(SCENARIOS, 'seed004-dr-tls-disable-healthy', 'snapshot'), dir, { recursive: true });
    const file = path.join(dir, 'proxies', CLIENT.namespace, CLIENT.name, 'config_dump?include_eds');
    const dump = JSON.parse(await readFile(file, 'utf8'));
    change(dump.configs.find((c: any) => c['@type'].endsWith('ClustersConfigDump')));
    await writeFile(file, JSON.stringify(dump));
    return dir;
  }
  const run503 = async (dir: string) => jsonOf(await runCli(['why-503', `${CLIENT.name}.${CLIENT.namespace}`, '--to', 'httpbin:8000', '--from', dir, '-o', 'json']));
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('an update of the client\'s cluster Envoy rejected (the old one still serves) is MD7001 as a warning', async () => {
    const dir = await withClientCluster((clusters) => {
      const entry = clusters.dynamic_active_clusters.find((c: any) => c.cluster.name === CLUSTER);
      entry.error_state = {
        failed_configuration: { ...entry.cluster, connect_timeout: '0s' },
        last_update_attempt: '2026-12-05T06:40:00Z',
        details: 'Proto constraint validation failed (ClusterValidationError.ConnectTimeout: value must be greater than 0s)',
      };
    });
    dirs.push(dir);
    const report = await run503(dir);
    const finding = report.findings.find((f: any) => f.code === 'MD7001');
    expect(finding, JSON.stringify(report.findings.map((f: any) => f.code))).to.not.equal(undefined);
    expect(finding.severity).to.equal('warning');
    expect(finding.message).to.contain(CLUSTER).and.contain('ConnectTimeout');
  });

  it('the client\'s cluster only warming (no active version) is MD7002, an error on the path', async () => {
    const dir = await withClientCluster((clusters) => {
      const at = clusters.dynamic_active_clusters.findIndex((c: any) => c.cluster.name === CLUSTER);
      const [entry] = clusters.dynamic_active_clusters.splice(at, 1);
      clusters.dynamic_warming_clusters = [...(clusters.dynamic_warming_clusters ?? []), entry];
    });
    dirs.push(dir);
    const result = await runCli(['why-503', `${CLIENT.name}.${CLIENT.namespace}`, '--to', 'httpbin:8000', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings.map((f: any) => [f.code, f.severity])).to.deep.include(['MD7002', 'error']);
  });
});

describe('rejected config on who-owns-443', function () {
  this.timeout(60_000);
  it("a VIP listener on 443 Envoy rejected is MD7001 on the EnvoyFilter, not a healthy verdict", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'md-rejected-'));
    try {
      await cp(path.join(SCENARIOS, 'seed003-se-no-addresses-tcp-healthy/snapshot'), dir, { recursive: true });
      const file = path.join(dir, 'proxies/istio-demo/sample-c59f744df-8kq7m/config_dump?include_eds');
      const dump = JSON.parse(await readFile(file, 'utf8'));
      rejectListener(dump, '10.96.120.15_443');
      await writeFile(file, JSON.stringify(dump));
      await writeFile(path.join(dir, 'cluster/crs'), `${await readFile(path.join(dir, 'cluster/crs'), 'utf8')}\n---\n${luaEnvoyFilter('istio-demo', { app: 'sample' }, 'SIDECAR_OUTBOUND')}`);
      const result = await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']);
      expect(result.exitCode, result.stderr).to.equal(3);
      const report = jsonOf(result);
      expect(report.findings.map((f: any) => [f.code, f.target.kind])).to.deep.include(['MD7001', 'EnvoyFilter']);
      expect(report.verdict.status).to.equal('problem');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
