import { expect } from 'chai';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * Evidence fusion: a snapshot that lacks a source still gets the verdict the
 * rest of its evidence supports, with a confidence naming what was missing.
 * Fixtures: the oracle's seed 002 scenarios with the sidecar's config dump
 * removed, and the access log real Envoy 1.40 wrote for the same request in
 * the mesh lab (test/fixtures/lab/PROVENANCE.md).
 */
const SCENARIOS = path.join(REPO_ROOT, 'test/scenarios');
const POD = { namespace: 'default', name: 'ubuntu-deployment-54bbd6f4ff-q9sdj' };
const LAB_LOG = path.join(REPO_ROOT, 'test/fixtures/lab/seed002-registry-only-unregistered', `${POD.namespace}.${POD.name}.istio-proxy.log`);
const MESH_CONFIG = { kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' };

/** The scenario's snapshot without the sidecar's config dump, with the lab's access log when asked. */
async function withoutDump(scenario: string, options: { accessLog: boolean }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-partial-'));
  await cp(path.join(SCENARIOS, scenario, 'snapshot'), dir, { recursive: true });
  const proxy = path.join(dir, 'proxies', POD.namespace, POD.name);
  await rm(path.join(proxy, 'config_dump?include_eds'));
  if (options.accessLog) await cp(LAB_LOG, path.join(proxy, 'istio-proxy.log'));
  return dir;
}

describe('partial evidence: a verdict from the sources that exist, with what was missing', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const run502 = async (dir: string) => runCli(['why-502', `${POD.name}.${POD.namespace}`, '--host', 'httpbin.org', '--from', dir, '-o', 'json']);

  it('why-502: REGISTRY_ONLY mesh config + no ServiceEntry + the sidecar\'s `502 … block_all` line is MD2001 without a config dump', async () => {
    const dir = await withoutDump('seed002-registry-only-unregistered', { accessLog: true });
    dirs.push(dir);
    const result = await run502(dir);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('problem');
    expect(report.findings.map((f: any) => [f.code, f.target])).to.deep.equal([['MD2001', MESH_CONFIG]]);
    expect(report.findings[0].evidence.map((e: any) => e.excerpt).join('\n')).to.contain('block_all');
    expect(report.verdict.confidence.level).to.equal('high');
    expect(report.verdict.confidence.missing.join(' ')).to.contain('config dump');
    expect(report.verdict.summary).to.contain('without');
  });

  it('why-502: the same without the access log is MD2001 at medium confidence, the log named as missing', async () => {
    const dir = await withoutDump('seed002-registry-only-unregistered', { accessLog: false });
    dirs.push(dir);
    const result = await run502(dir);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings.map((f: any) => f.code)).to.deep.equal(['MD2001']);
    expect(report.verdict.confidence.level).to.equal('medium');
    expect(report.verdict.confidence.missing.join(' ')).to.contain('access log');
  });

  it('why-502: the healthy twin (a ServiceEntry registers the host) without a dump stays inconclusive (exit 4), never healthy', async () => {
    const dir = await withoutDump('seed002-registry-only-unregistered-healthy', { accessLog: false });
    dirs.push(dir);
    const result = await run502(dir);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.findings.filter((f: any) => f.severity === 'error')).to.deep.equal([]);
  });
});
