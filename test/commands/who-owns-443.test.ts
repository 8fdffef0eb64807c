import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');
const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/egress', name);

describe('who-owns-443 (CLI, offline)', () => {
  it('one pod: istioctl\'s rows plus OWNER, the catch-all flagged, MD1002 on its ServiceEntry', async function () {
    if (!existsSync(scenario('seed003-se-no-addresses-tcp'))) this.skip();
    const r = await runCli(['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo', '--from', scenario('seed003-se-no-addresses-tcp'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    const chains = report.data.pods[0].chains;
    const catchAll = chains.find((c: { capturesUnmatched: boolean }) => c.capturesUnmatched);
    expect(catchAll).to.include({ addresses: '0.0.0.0', match: 'ALL', destination: 'Cluster: outbound|443||traefik.cutom-name' });
    expect(catchAll.owners).to.deep.equal(['ServiceEntry abc/traefik-cutom-name']);
    expect(report.findings[0].target).to.deep.equal({ kind: 'ServiceEntry', namespace: 'abc', name: 'traefik-cutom-name' });
  });

  it('healthy twin: unmatched TLS passes through, exit 0', async function () {
    if (!existsSync(scenario('seed003-se-no-addresses-tcp-healthy'))) this.skip();
    const r = await runCli(['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo', '--from', scenario('seed003-se-no-addresses-tcp-healthy'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(0);
    expect(report.data.pods[0].unmatched.destination).to.equal('PassthroughCluster');
    expect(report.verdict.status).to.equal('healthy');
  });

  it('-A: pods pick different winners (the seed 003 replica), one MD1002 per culprit', async () => {
    const r = await runCli(['who-owns-443', '-A', '--from', fixture('seed003-istio-1.11-catch-all'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    expect(report.data.mode).to.equal('pods');
    expect(report.data.winners.map((w: { destination: string }) => w.destination).sort()).to.deep.equal(['outbound|443||mysql.cutom-name', 'outbound|443||traefik.cutom-name']);
    expect(report.findings.filter((f: { code: string }) => f.code === 'MD1002').map((f: { target: { name: string } }) => f.target.name).sort()).to.deep.equal(['mysql-cutom-name', 'traefik-cutom-name']);
    expect(report.verdict.summary).to.contain('pods disagree');
  });

  it('--port: another port, and the human table', async function () {
    if (!existsSync(scenario('seed002-registry-only-unregistered'))) this.skip();
    const r = await runCli(['who-owns-443', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--port', '80', '--from', scenario('seed002-registry-only-unregistered')]);
    expect(r.exitCode).to.equal(0);
    expect(r.stdout).to.match(/0\.0\.0\.0\s+80\s+Trans: raw_buffer; App: http\/1\.1,h2c\s+Route: 80/);
    expect(r.stdout).to.contain('Unmatched TLS on port 80 goes to: BlackHoleCluster');
  });

  it('no proxy data: the static view from the resources', async () => {
    const r = await runCli(['who-owns-443', '-A', '--from', fixture('static-only-seed003'), '-o', 'json']);
    const report = jsonOf(r);
    expect(report.data.mode).to.equal('static');
    const refs = report.data.declarations.map((d: { ref: string }) => d.ref);
    expect(refs).to.include('ServiceEntry abc/traefik-cutom-name');
    expect(report.findings.map((f: { code: string }) => f.code)).to.include('MD1003');
    expect(report.skipped.map((s: { rule: string }) => s.rule)).to.include('filter-chain ownership');
  });
});
