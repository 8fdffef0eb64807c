import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');
const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/egress', name);

describe('why-https-fails (CLI, offline)', () => {
  it('incident 4 (oracle, TCP port without addresses): the ServiceEntry is the culprit, exit 3', async function () {
    if (!existsSync(scenario('seed003-se-no-addresses-tcp'))) this.skip();
    const r = await runCli(['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--from', scenario('seed003-se-no-addresses-tcp'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(report.verdict.status).to.equal('problem');
    expect(report.verdict.summary).to.contain('ServiceEntry abc/traefik-cutom-name');
    expect(report.findings[0]).to.include({ code: 'MD1002', severity: 'error' });
    expect(report.findings[0].target).to.deep.equal({ kind: 'ServiceEntry', namespace: 'abc', name: 'traefik-cutom-name' });
    expect(report.data.chain).to.include({ match: 'ALL', destination: 'Cluster: outbound|443||traefik.cutom-name' });
    expect(report.data.path.map((d: { stage: string }) => d.stage)).to.deep.equal(['listener', 'filter chain', 'network filter', 'outcome']);
  });

  it('healthy twin: PassthroughCluster, no error finding, exit 0', async function () {
    if (!existsSync(scenario('seed003-se-no-addresses-tcp-healthy'))) this.skip();
    const r = await runCli(['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--from', scenario('seed003-se-no-addresses-tcp-healthy'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(0);
    expect(report.verdict.status).to.equal('healthy');
    expect(report.findings.filter((f: { severity: string }) => f.severity === 'error')).to.deep.equal([]);
    expect(report.data.outcome.cluster).to.equal('PassthroughCluster');
  });

  it('the seed 003 replica (Istio 1.11) with --probe: the certificate seen belongs to the catch-all\'s backend', async () => {
    const r = await runCli(['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--probe', '--from', fixture('seed003-istio-1.11-catch-all'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    expect(report.findings[0].code).to.equal('MD1002');
    expect(report.data.probe.parsed.nameMismatch).to.deep.equal({ certificateName: '*.example.com', targetHost: 'baidu.com' });
    expect(report.data.probe.ties.join(' ')).to.contain('belongs to the backend of outbound|443||traefik.cutom-name');
    expect(report.data.probe.ties.join(' ')).to.contain('"404 page not found" is the reply of traefik.cutom-name');
    expect(report.findings[0].evidence.at(-1).source).to.equal('kubectl exec sample-c59f744df-8kq7m -n istio-demo -c sample -- curl -sv https://baidu.com');
  });

  it('incident 1 on Istio 1.7 (replica): MD1001 blames the Service port named http, with the probe\'s "unknown protocol"', async () => {
    const r = await runCli(['why-https-fails', 'web-6d4cf56db6-x2pnq.team-b', '--host', 'www.google.com', '--probe', '--from', fixture('seed000-istio-1.7-http-on-443'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    expect(report.findings.map((f: { code: string }) => f.code)).to.deep.equal(['MD1001', 'MD1004']);
    expect(report.findings[0].target).to.deep.equal({ kind: 'Service', namespace: 'default', name: 'my-app' });
    expect(report.data.outcome.kind).to.equal('tls_into_http');
    expect(report.data.probe.ties[0]).to.match(/plaintext HTTP reply of the sidecar's HTTP connection manager/);
  });

  it('incident 1 on current Istio (oracle): only a warning from the static check, exit 0', async function () {
    if (!existsSync(scenario('seed000-port-443-named-http'))) this.skip();
    const r = await runCli(['why-https-fails', 'web-6d4cf56db6-x2pnq.team-b', '--host', 'www.google.com', '--from', scenario('seed000-port-443-named-http'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(0);
    expect(report.findings.map((f: { code: string; severity: string }) => `${f.code}:${f.severity}`)).to.deep.equal(['MD1004:warning']);
  });

  it('incident 3: HTTPS under REGISTRY_ONLY with the entry hidden by a Sidecar blames the Sidecar', async function () {
    if (!existsSync(scenario('seed002-registry-only-se-sidecar-hidden'))) this.skip();
    const r = await runCli(['why-https-fails', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--host', 'www.google.com', '--from', scenario('seed002-registry-only-se-sidecar-hidden'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    expect(report.findings[0]).to.include({ code: 'MD2002' });
    expect(report.findings[0].target).to.deep.equal({ kind: 'Sidecar', namespace: 'default', name: 'default' });
    expect(report.data.outcome.cluster).to.equal('BlackHoleCluster');
  });

  it('incident 4 after the Sidecar (oracle): MD1002; the recorded curl (exit 60) and curl -k (404) tied to the catch-all', async function () {
    if (!existsSync(scenario('seed003-sidecar-hides-external-se'))) this.skip();
    const r = await runCli(['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--probe', '--from', scenario('seed003-sidecar-hides-external-se'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    expect(report.findings.map((f: { code: string; target: { kind: string; name: string } }) => `${f.code} ${f.target.kind}/${f.target.name}`)).to.include('MD1002 ServiceEntry/traefik-cutom-name');
    expect(report.data.probe.parsed.exitCode).to.equal(60);
    expect(report.data.probe.ties.join(' ')).to.contain('404 page not found');
  });

  it('--host is required (usage, exit 2)', async () => {
    const r = await runCli(['why-https-fails', 'x.y', '--from', fixture('seed000-istio-1.7-http-on-443')]);
    expect(r.exitCode).to.equal(2);
  });
});
