import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { WHY_404_CASES } from './why-404-cases.js';

/**
 * check's Gateways group on the oracle's gateway scenarios (Istio's generator
 * built each gateway's config from the Gateway and VirtualService): every
 * request the resources mean the gateway to serve is followed through its
 * config, so each mismatch why-404 explains for one request is found by
 * check -A before anyone sends it, with the same code and culprit; the twins
 * have none.
 */
const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');
const gatewayErrors = (report: any) => report.data.groups.find((g: { title: string }) => g.title === 'Gateways').checks
  .filter((c: { status: string }) => c.status === 'error')
  .flatMap((c: { code: string; culprits: Array<{ target: string }> }) => c.culprits.map((x) => `${c.code} ${x.target}`));

describe('check -A: the Gateways group', function () {
  this.timeout(120_000);
  const broken = [...new Map(WHY_404_CASES.filter((c) => c.exit === 3).map((c) => [c.name, c])).values()];
  for (const c of broken) {
    const target = c.target as { kind: string; namespace: string; name: string };
    it(`${c.name}: ${c.code} on ${target.kind} ${target.namespace}/${target.name}, exit 3; not in the twin`, async () => {
      const r = await runCli(['check', '-A', '--from', scenario(c.name), '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(3);
      expect(gatewayErrors(jsonOf(r))).to.include(`${c.code} ${target.kind} ${target.namespace}/${target.name}`);
      // The twin fixes this mismatch (a twin may keep unrelated one-sided hosts, which check reports on their own).
      const twin = await runCli(['check', '-A', '--from', scenario(`${c.name}-healthy`), '-o', 'json']);
      expect(gatewayErrors(jsonOf(twin)), `${c.name}-healthy`).to.not.include(`${c.code} ${target.kind} ${target.namespace}/${target.name}`);
    });
  }

  it('the baseline gw-ingress-healthy: no gateway error', async () => {
    const report = jsonOf(await runCli(['check', '-A', '--from', scenario('gw-ingress-healthy'), '-o', 'json']));
    expect(gatewayErrors(report)).to.deep.equal([]);
  });

  it('a mesh without gateways: the group is skipped, saying why', async () => {
    const report = jsonOf(await runCli(['check', '-A', '--from', scenario('seed004-dr-tls-disable'), '-o', 'json']));
    const lines = report.data.groups.find((g: { title: string }) => g.title === 'Gateways').checks;
    expect(lines.map((l: { status: string }) => l.status)).to.satisfy((s: string[]) => s.every((x) => x === 'skipped'));
    expect(lines[0].because).to.contain('not a gateway');
  });
});
