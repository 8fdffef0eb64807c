import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

  it('-A: a pod that could not be read has a short reason in its cell and the full text below the table', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'md-who-'));
    try {
      const snapshot = path.join(work, 'corrupt');
      await cp(scenario('seed004-dr-tls-disable'), snapshot, { recursive: true });
      await writeFile(path.join(snapshot, 'proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds'), '{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump","dynamic_listeners":[{"name":"0.0.0.0_443","ac');
      const r = await runCli(['who-owns-443', '-A', '--from', snapshot]);
      const pods = jsonOf(await runCli(['who-owns-443', '-A', '--from', snapshot, '-o', 'json'])).data.pods;
      const full = pods.find((p: { error?: string }) => p.error).error as string;
      expect(full.length).to.be.greaterThan(40);
      const row = r.stdout.split('\n').find((l) => !l.startsWith(' ') && l.includes('httpbin-94fdb8c79-h9zrq'))!;
      expect(row).to.match(/\(unreadable config dump \[1\]\)/);
      expect(row).not.to.contain(full);
      expect(r.stdout).to.contain(`[1] foo/httpbin-94fdb8c79-h9zrq: ${full}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
