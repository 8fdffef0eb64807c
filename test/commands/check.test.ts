import { expect } from 'chai';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

// The scenarios are Istio's own generator's output for the seeds (test/scenarios/*/scenario.yaml says
// where each shape comes from); the egress fixtures are istioctl-era dumps (test/fixtures/egress/PROVENANCE.md).
const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');
const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/egress', name);
const checkFixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/check', name);

interface Line { rule: string; code: string; status: string; because?: string; culprits: Array<{ code: string; target: string; pods: { count: number; names: string[] }; evidence?: string; next: string }> }
const lines = (report: any): Line[] => report.data.groups.flatMap((g: { checks: Line[] }) => g.checks);
const line = (report: any, rule: string): Line => lines(report).find((l) => l.rule === rule)!;
const culprits = (report: any) => lines(report).flatMap((l) => l.culprits.filter((c) => l.status === 'error').map((c) => `${c.code} ${c.target}`));

describe('check (CLI, offline)', function () {
  // Most tests run the CLI two to five times: on a busy shared machine they outlast mocha's default.
  this.timeout(120_000);

  it('seed 003: the catch-all ServiceEntry is the culprit, with the pod, the chain row and who-owns-443; exit 3', async () => {
    const r = await runCli(['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp'), '-o', 'json']);
    const report = jsonOf(r);
    expect(r.exitCode).to.equal(3);
    const owner = line(report, 'md1002-catch-all-owns-port');
    expect(owner.status).to.equal('error');
    expect(owner.culprits).to.have.length(1);
    expect(owner.culprits[0]).to.include({ target: 'ServiceEntry abc/traefik-cutom-name', next: 'kubectl mesh-doctor who-owns-443 sample-c59f744df-8kq7m.istio-demo --port 443' });
    expect(owner.culprits[0].pods).to.deep.equal({ count: 1, names: ['sample-c59f744df-8kq7m.istio-demo'] });
    expect(owner.culprits[0].evidence).to.match(/^0\.0\.0\.0 443 ALL Cluster: outbound\|443\|\|traefik\.cutom-name {3}\(proxies\/istio-demo\//);
    expect(line(report, 'md1003-serviceentry-without-addresses').status).to.equal('error');
    expect(report.verdict.status).to.equal('problem');
  });

  it('seed 003 healthy twin: no culprit, exit 0', async () => {
    const r = await runCli(['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp-healthy'), '-o', 'json']);
    expect(r.exitCode).to.equal(0);
    expect(culprits(jsonOf(r))).to.deep.equal([]);
  });

  it('seed 003 replica: pods pick different winners, one culprit each with its pods', async () => {
    const r = await runCli(['check', '-A', '--from', fixture('seed003-istio-1.11-catch-all'), '-o', 'json']);
    const owner = line(jsonOf(r), 'md1002-catch-all-owns-port');
    expect(owner.culprits.map((c) => `${c.target} ${c.pods.names.join(',')}`).sort()).to.deep.equal([
      'ServiceEntry abc/traefik-cutom-name sample-c59f744df-8kq7m.istio-demo',
      'ServiceEntry bookinfo/mysql-cutom-name reviews-v1-545db77b95-6xq4l.bookinfo',
    ]);
  });

  it('seed 000 by version: Istio 1.7 breaks TLS on 443 (MD1001 on the Service); current Istio only warns (MD1004)', async () => {
    const old = jsonOf(await runCli(['check', '-A', '--from', fixture('seed000-istio-1.7-http-on-443'), '-o', 'json']));
    expect(line(old, 'md1001-tls-port-treated-as-http').culprits.map((c) => c.target)).to.deep.equal(['Service default/my-app']);
    const current = await runCli(['check', '-A', '--from', scenario('seed000-port-443-named-http'), '-o', 'json']);
    expect(current.exitCode).to.equal(0);
    expect(line(jsonOf(current), 'md1001-tls-port-treated-as-http').status).to.equal('passed');
    expect(line(jsonOf(current), 'md1004-http-on-443').status).to.equal('warning');
    const healthy = jsonOf(await runCli(['check', '-A', '--from', scenario('seed000-port-443-named-http-healthy'), '-o', 'json']));
    expect(lines(healthy).filter((l) => l.culprits.length)).to.deep.equal([]);
  });

  it('seed 004 found statically: the DestinationRule that turns mTLS off against STRICT servers; healthy twins none', async () => {
    for (const dir of ['seed004-dr-tls-disable', 'seed004-dr-no-tls-automtls-off']) {
      const r = await runCli(['check', '-A', '--from', scenario(dir), '-o', 'json']);
      expect(r.exitCode, dir).to.equal(3);
      expect(culprits(jsonOf(r)), dir).to.deep.equal(['MD1006 DestinationRule foo/httpbin']);
    }
    for (const dir of ['seed004-dr-tls-disable-healthy', 'seed004-dr-no-tls-automtls-off-healthy']) {
      const r = await runCli(['check', '-A', '--from', scenario(dir), '-o', 'json']);
      expect(r.exitCode, dir).to.equal(0);
      expect(culprits(jsonOf(r)), dir).to.deep.equal([]);
    }
  });

  it('seed 002 from the access log: the host REGISTRY_ONLY blocked, the mesh config as culprit, why-502 to dig; healthy twin none', async () => {
    // test/fixtures/check: the scenario's snapshot plus the mesh lab's real sidecar log (PROVENANCE.md there).
    const r = await runCli(['check', '-A', '--from', checkFixture('seed002-registry-only-unregistered'), '-o', 'json']);
    expect(r.exitCode).to.equal(3);
    const blocked = line(jsonOf(r), 'md2001-registry-only-blocked');
    expect(blocked.culprits.map((c) => `${c.code} ${c.target}`)).to.deep.equal(['MD2001 ConfigMap istio-system/istio']);
    expect(blocked.culprits[0].evidence).to.match(/"GET \/headers HTTP\/1\.1" 502 - direct_response/);
    expect(blocked.culprits[0].next).to.equal('kubectl mesh-doctor why-502 ubuntu-deployment-54bbd6f4ff-q9sdj.default --host httpbin.org');
    const healthy = await runCli(['check', '-A', '--from', checkFixture('seed002-registry-only-unregistered-healthy'), '-o', 'json']);
    expect(healthy.exitCode).to.equal(0);
    expect(culprits(jsonOf(healthy))).to.deep.equal([]);
    // Without an access log the rule is skipped, with why.
    const noLog = jsonOf(await runCli(['check', '-A', '--from', scenario('seed002-registry-only-unregistered'), '-o', 'json']));
    expect(line(noLog, 'md2001-registry-only-blocked')).to.include({ status: 'skipped' });
    expect(line(noLog, 'md2001-registry-only-blocked').because).to.contain('the snapshot holds no istio-proxy log');
  });

  it('seed 001 from the access log: the app refuses the sidecar on the pod IP (Istio >= 1.10); an app on all interfaces passes', async () => {
    const r = await runCli(['check', '-A', '--from', checkFixture('seed001-app-on-localhost'), '-o', 'json']);
    expect(r.exitCode).to.equal(3);
    const inbound = line(jsonOf(r), 'md4003-nothing-listens');
    expect(inbound.status).to.equal('error');
    expect(inbound.culprits.map((c) => `${c.code} ${c.target}`)).to.deep.equal(['MD4003 Pod default/app-5f7b9c6d8-q7w2e']);
    expect(inbound.culprits[0].next).to.equal('kubectl mesh-doctor why-inbound-fails app-5f7b9c6d8-q7w2e.default');
    const healthy = await runCli(['check', '-A', '--from', checkFixture('seed001-app-on-all-interfaces'), '-o', 'json']);
    expect(healthy.exitCode).to.equal(0);
    expect(culprits(jsonOf(healthy))).to.deep.equal([]);
  });

  it('seed 001 with the listening sockets: refused inbound connections make check read them, and name MD4001 as why-inbound-fails does', async () => {
    // test/fixtures/inbound/localhost-1.20 (its PROVENANCE.md): an Istio 1.20 sidecar, the app on 127.0.0.1:8080, 3 × 503 UF.
    const r = await runCli(['check', '-A', '--from', path.join(REPO_ROOT, 'test/fixtures/inbound/localhost-1.20'), '-o', 'json']);
    expect(r.exitCode).to.equal(3);
    const app = line(jsonOf(r), 'md4001-app-not-on-pod-ip');
    expect([app.status, ...app.culprits.map((c) => `${c.code} ${c.target}`)]).to.deep.equal(['error', 'MD4001 Deployment default/app']);
    expect(app.culprits[0]!.evidence).to.contain('127.0.0.1:8080');
    expect(line(jsonOf(r), 'md4003-nothing-listens').status).to.equal('passed');
    const healthy = await runCli(['check', '-A', '--from', path.join(REPO_ROOT, 'test/fixtures/inbound/wildcard-1.20'), '-o', 'json']);
    expect(line(jsonOf(healthy), 'md4001-app-not-on-pod-ip').status).to.equal('passed');
  });

  it('seed 001 without the sockets: MD4003 from the refusals, and MD4001 skipped saying why, never passed', async () => {
    const r = await runCli(['check', '-A', '--from', checkFixture('seed001-app-on-localhost'), '-o', 'json']);
    const app = line(jsonOf(r), 'md4001-app-not-on-pod-ip');
    expect(app.status).to.equal('skipped');
    expect(app.because).to.contain('could not be read to tell');
  });

  it('proxies skipped for one reason are counted under it, not listed pod by pod', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'md-check-nodumps-'));
    try {
      await cp(fixture('seed003-istio-1.11-catch-all'), dir, { recursive: true });
      for (const pod of ['istio-demo/sample-c59f744df-8kq7m', 'bookinfo/reviews-v1-545db77b95-6xq4l']) {
        await rm(path.join(dir, 'proxies', pod, 'config_dump?include_eds'), { force: true });
        await rm(path.join(dir, 'proxies', pod, 'config_dump'), { force: true });
      }
      const owner = line(jsonOf(await runCli(['check', '-A', '--from', dir, '-o', 'json'])), 'md1002-catch-all-owns-port');
      expect([owner.status, owner.because]).to.deep.equal(['skipped', '2 of 2 proxies: the snapshot holds no config dump']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a snapshot without config dumps: the per-proxy checks are skipped with the reason, the static ones still run', async () => {
    const r = await runCli(['check', '-A', '--from', fixture('static-only-seed003'), '-o', 'json']);
    const report = jsonOf(r);
    const owner = line(report, 'md1002-catch-all-owns-port');
    expect(owner.status).to.equal('skipped');
    expect(owner.because).to.contain('the snapshot holds no config dump');
    expect(line(report, 'md1003-serviceentry-without-addresses').status).to.equal('error');
    expect(report.skipped.map((s: { rule: string }) => s.rule)).to.include('md1002-catch-all-owns-port');
  });

  it('no culprit but a proxy whose dump could not be read: inconclusive (exit 4), never healthy (exit 0)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'md-check-unread-'));
    try {
      await cp(scenario('seed003-se-no-addresses-tcp-healthy'), dir, { recursive: true });
      await rm(path.join(dir, 'proxies/istio-demo/sample-c59f744df-8kq7m/config_dump?include_eds'));
      const r = await runCli(['check', '-A', '--from', dir, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(4);
      expect(jsonOf(r).verdict.status).to.equal('inconclusive');
      expect(jsonOf(r).verdict.summary).to.contain('1 of 1 proxies could not be read');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an istioctl bug-report archive of the same mesh gives the same lines', async () => {
    // istioctl writes its tree under bug-report/ and names the dump config_dump
    // (tools/bug-report/pkg/archive/archive.go, pkg/common/common.go).
    const work = await mkdtemp(path.join(tmpdir(), 'check-bug-report-'));
    try {
      await cp(scenario('seed003-sidecar-hides-external-se'), path.join(work, 'bug-report'), { recursive: true });
      const pod = path.join(work, 'bug-report/proxies/istio-demo/sample-c59f744df-8kq7m');
      await rename(path.join(pod, 'config_dump?include_eds'), path.join(pod, 'config_dump'));
      const archive = path.join(work, 'bug-report.tar.gz');
      await create({ gzip: true, file: archive, cwd: work }, ['bug-report']);
      const fromArchive = jsonOf(await runCli(['check', '-A', '--from', archive, '-o', 'json']));
      const fromSnapshot = jsonOf(await runCli(['check', '-A', '--from', scenario('seed003-sidecar-hides-external-se'), '-o', 'json']));
      const shape = (report: any) => lines(report).map((l) => [l.rule, l.status, l.culprits.map((c) => [c.target, c.pods.names])]);
      expect(shape(fromArchive)).to.deep.equal(shape(fromSnapshot));
      expect(culprits(fromArchive)).to.include('MD1002 ServiceEntry istio-demo/traefik-cutom-name');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('one screen by default: a quiet group is one line of counts, a failing one shows its failing lines with culprits', async () => {
    const r = await runCli(['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp')]);
    expect(r.exitCode).to.equal(3);
    expect(r.stdout).to.match(/\nEgress \(also √ 1 passed, – 2 skipped\)\n× MD1002 [^\n]+\n {4}ServiceEntry abc\/traefik-cutom-name, 1 pod: sample-c59f744df-8kq7m\.istio-demo\n {6}evidence: 0\.0\.0\.0 443 ALL/);
    expect(r.stdout).to.match(/\nConfig delivery: √ 2 passed\n/);
    expect(r.stdout).to.not.contain('√ MD1001');
    expect(r.stdout).to.match(/\(\d+ checks skipped; --details shows every line and why\)/);
    expect(r.stdout.trimEnd().split('\n').length).to.be.at.most(40);
  });

  it('table output with --details: groups, √ ‼ × – and the culprit under its check', async () => {
    const r = await runCli(['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp'), '--details']);
    expect(r.exitCode).to.equal(3);
    expect(r.stdout).to.match(/\nEgress\n------\n√ MD1001 [^\n]+\n× MD1002 [^\n]+\n {4}ServiceEntry abc\/traefik-cutom-name, 1 pod: sample-c59f744df-8kq7m\.istio-demo\n {6}evidence: 0\.0\.0\.0 443 ALL/);
    expect(r.stdout).to.match(/\n– MD2001 .*\(skipped: 1 of 1 proxies: the snapshot holds no istio-proxy log/);
    expect(r.stdout).to.contain('Verdict: ');
  });

  it('markdown and yaml carry the same lines', async () => {
    const md = await runCli(['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp'), '-o', 'markdown']);
    expect(md.stdout).to.contain('× MD1002');
    const yaml = await runCli(['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp'), '-o', 'yaml']);
    expect(yaml.stdout).to.contain('rule: md1002-catch-all-owns-port');
  });
});
