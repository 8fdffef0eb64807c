import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { removeAll, snapshotWithout } from '../support/partial-snapshot.js';

/**
 * why-403 on partial evidence: the oracle's authz scenarios (test/scenarios/authz-*,
 * Istio's own generator) with every config dump deleted, so the verdict rests on the
 * AuthorizationPolicies and the server's access log (the mesh lab's real Envoy 1.40
 * line, already in the scenario: test/scenarios/authz-deny-before-allow/scenario.yaml).
 */
const CLIENT = 'sleep-5b597748b4-77kj5.foo';

const DUMP = 'config_dump?include_eds';
const withoutDumps = (scenario: string, dirs: string[]) => snapshotWithout(path.join(REPO_ROOT, 'test/scenarios', scenario, 'snapshot'),
  ['httpbin-94fdb8c79-h9zrq', 'sleep-5b597748b4-77kj5'].map((pod) => `proxies/foo/${pod}/${DUMP}`), dirs);

describe('why-403 on partial evidence (no config dumps)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(() => removeAll(dirs));

  it('DENY before ALLOW from the policies and the server\'s 403 line: MD6001 (exit 3) with a confidence naming the missing RBAC filters', async () => {
    const dir = await withoutDumps('authz-deny-before-allow', dirs);
    const result = await runCli(['why-403', CLIENT, '--to', 'httpbin:8000', '--path', '/headers', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings.map((f: any) => `${f.code} ${f.target.namespace}/${f.target.name}`)).to.include('MD6001 foo/deny-headers');
    expect(report.verdict.confidence.level).to.equal('medium');
    expect(report.verdict.confidence.missing.join('\n')).to.match(/server's config dump/);
    expect(report.verdict.confidence.missing.join('\n')).to.match(/client's config dump/);
  });

  it('its healthy twin without dumps: inconclusive (exit 4), never healthy', async () => {
    const dir = await withoutDumps('authz-deny-before-allow-healthy', dirs);
    const result = await runCli(['why-403', CLIENT, '--to', 'httpbin:8000', '--path', '/headers', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.confidence.level).to.equal('low');
  });
});
