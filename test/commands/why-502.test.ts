import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');
const POD = 'ubuntu-deployment-54bbd6f4ff-q9sdj.default';

describe('why-502 (CLI, offline)', () => {
  const cases: Array<{ name: string; exit: number; code?: string; target?: object; status: string }> = [
    { name: 'seed002-registry-only-unregistered', exit: 3, code: 'MD2001', target: { kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' }, status: 'problem' },
    { name: 'seed002-registry-only-se-exportto-hidden', exit: 3, code: 'MD2002', target: { kind: 'ServiceEntry', namespace: 'egress-config', name: 'external-svc' }, status: 'problem' },
    { name: 'seed002-registry-only-se-sidecar-hidden', exit: 3, code: 'MD2002', target: { kind: 'Sidecar', namespace: 'default', name: 'default' }, status: 'problem' },
    { name: 'seed002-registry-only-unregistered-healthy', exit: 0, status: 'healthy' },
    { name: 'seed002-registry-only-se-sidecar-hidden-healthy', exit: 0, status: 'healthy' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.code ?? 'no error finding'}`, async function () {
      if (!existsSync(scenario(c.name))) this.skip();
      const r = await runCli(['why-502', POD, '--host', 'httpbin.org', '--path', '/ip', '--from', scenario(c.name), '-o', 'json']);
      const report = jsonOf(r);
      expect(r.exitCode, r.stderr).to.equal(c.exit);
      expect(report.verdict.status).to.equal(c.status);
      if (c.code) {
        expect(report.findings[0].code).to.equal(c.code);
        expect(report.findings[0].target).to.deep.equal(c.target);
      } else {
        expect(report.findings.filter((f: { severity: string }) => f.severity === 'error')).to.deep.equal([]);
      }
    });
  }

  it('unregistered: the block_all route, the mesh config, the ServiceEntry to add, and the recorded curl', async function () {
    if (!existsSync(scenario('seed002-registry-only-unregistered'))) this.skip();
    const r = await runCli(['why-502', POD, '--host', 'httpbin.org', '--path', '/ip', '--probe', '--from', scenario('seed002-registry-only-unregistered'), '-o', 'json']);
    const report = jsonOf(r);
    expect(report.data.outcome).to.include({ kind: 'direct_response', status: 502, routeName: 'block_all' });
    const f = report.findings[0];
    expect(f.evidence.map((e: { source: string }) => e.source)).to.include("kubectl get configmap istio -n istio-system -o jsonpath='{.data.mesh}'");
    expect(f.remediation.patch).to.contain('kind: ServiceEntry').and.contain('- httpbin.org');
    expect(report.data.probe.ties.join(' ')).to.contain("sidecar's own block_all response");
  });
});
