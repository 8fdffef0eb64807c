import { expect } from 'chai';
import { cp, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * A run that could not check what its verdict needs is `inconclusive`, exit 4:
 * never 0 (checked and healthy) and never 3 (a finding). Its words never claim
 * health ("no problem found", "intact"), its step marks never contradict it.
 */
const INBOUND = path.join(REPO_ROOT, 'test/fixtures/inbound');
const SCENARIOS = path.join(REPO_ROOT, 'test/scenarios');
const APP = 'app-5f7b9c6d8-q7w2e.default';
const HEALTH_WORDS = /no problem found|intact|nothing wrong/i;

/** A copy of a snapshot with some files removed or replaced (the partial evidence a real capture can have). */
async function variant(from: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-inconclusive-'));
  await cp(from, dir, { recursive: true });
  await edit(dir);
  return dir;
}

describe('inconclusive runs: their own exit code (4), words and step marks', function () {
  this.timeout(120_000);
  const cleanup: string[] = [];
  after(async () => {
    for (const d of cleanup) await rm(d, { recursive: true, force: true });
  });

  it('iptables: no readable nat table is inconclusive, exit 4', async () => {
    const result = await runCli(['iptables', APP, '--from', path.join(INBOUND, 'no-nat-table-1.20'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    expect(jsonOf(result).verdict.status).to.equal('inconclusive');
  });

  it('why-inbound-fails: the nat table unread is not "intact", exit 4', async () => {
    const result = await runCli(['why-inbound-fails', APP, '--from', path.join(INBOUND, 'no-nat-table-1.20'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.summary).to.not.match(HEALTH_WORDS);
    expect(report.verdict.summary).to.contain('iptables');
  });

  it('why-inbound-fails: sockets unread: the sockets step is not marked done, an info finding does not mark ✖, exit 4', async () => {
    const result = await runCli(['why-inbound-fails', APP, '--from', path.join(SCENARIOS, 'seed001-inbound-original-dst/snapshot'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.summary).to.not.match(HEALTH_WORDS);
    const status = (title: string) => report.steps.find((s: any) => s.title.includes(title)).status;
    expect(status('listening sockets')).to.equal('skipped');
    // MD4002 is information, not a fault: that step is not a ✖ beside a verdict that found no problem.
    expect(report.findings.map((f: any) => [f.code, f.severity])).to.deep.equal([['MD4002', 'info']]);
    expect(status('peer address')).to.equal('ok');
  });

  it('why-https-fails without a config dump: inconclusive, exit 4, and it does not say the resources show "nothing wrong"', async () => {
    const dir = await variant(path.join(SCENARIOS, 'seed003-se-no-addresses-tcp-healthy/snapshot'), async (d) => {
      const proxy = path.join(d, 'proxies/istio-demo/sample-c59f744df-8kq7m');
      await unlink(path.join(proxy, 'config_dump?include_eds'));
    });
    cleanup.push(dir);
    const result = await runCli(['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stdout + result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.summary).to.not.match(HEALTH_WORDS);
  });

  it('who-owns-443: one of the sidecars unreadable: the read step is not ✔ and the verdict is not healthy, exit 4', async () => {
    const dir = await variant(path.join(SCENARIOS, 'seed000-port-443-named-http-healthy/snapshot'), async (d) => {
      await writeFile(path.join(d, 'proxies/team-b/web-6d4cf56db6-x2pnq/config_dump?include_eds'), '{"configs": [');
    });
    cleanup.push(dir);
    const result = await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stdout + result.stderr).to.equal(4);
    const report = jsonOf(result);
    expect(report.steps.find((s: any) => s.title.startsWith('Read each sidecar')).status).to.equal('failed');
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.summary).to.contain('web-6d4cf56db6-x2pnq.team-b');
  });

  it('who-owns-443 with no proxy data at all: inconclusive, exit 4, also with --fail-on never (inconclusive is not a finding)', async () => {
    const dir = await variant(path.join(SCENARIOS, 'seed000-port-443-named-http-healthy/snapshot'), async (d) => {
      await rm(path.join(d, 'proxies'), { recursive: true });
    });
    cleanup.push(dir);
    for (const failOn of ['error', 'never']) {
      const result = await runCli(['who-owns-443', '-A', '--from', dir, '--fail-on', failOn, '-o', 'json']);
      expect(result.exitCode, `--fail-on ${failOn}: ${result.stderr}`).to.equal(4);
      expect(jsonOf(result).verdict.status).to.equal('inconclusive');
    }
  });

  it('a finding at or above --fail-on still exits 3 when part of the run was inconclusive', async () => {
    // Seed 003's catch-all, with a second sidecar pod whose dump is unreadable: the readable pod still shows the culprit.
    const dir = await variant(path.join(SCENARIOS, 'seed003-se-no-addresses-tcp/snapshot'), async (d) => {
      const resources = path.join(d, 'cluster/k8s-resources');
      const docs = (await readFile(resources, 'utf8')).split(/^---$/m);
      const pod = docs.find((doc) => /^kind: Pod$/m.test(doc))!;
      await writeFile(resources, [...docs, pod.replaceAll('sample-c59f744df-8kq7m', 'sample-c59f744df-zz9zz')].join('---'));
      await mkdir(path.join(d, 'proxies/istio-demo/sample-c59f744df-zz9zz'), { recursive: true });
      await writeFile(path.join(d, 'proxies/istio-demo/sample-c59f744df-zz9zz/config_dump?include_eds'), 'not json');
    });
    cleanup.push(dir);
    const result = await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('problem');
    expect(report.steps.find((s: any) => s.title.startsWith('Read each sidecar')).status).to.equal('failed');
  });

  it('iptables --packet: a what-if packet that loops is an answer (informational, exit 0), not an ERROR finding', async () => {
    const result = await runCli(['iptables', APP, '--from', path.join(INBOUND, 'wildcard-1.20'), '--packet', 'src=127.0.0.1 dst=10.244.1.50:8080 uid=1337 out=lo', '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    const report = jsonOf(result);
    expect(report.findings).to.deep.equal([]);
    expect(report.verdict.status).to.equal('informational');
    expect(report.verdict.summary).to.match(/loops/);
    expect(report.data.walks[0].loop).to.equal(true);
  });

  it('the human transcript says what inconclusive means and prints no finding twice', async () => {
    const result = await runCli(['why-inbound-fails', APP, '--from', path.join(INBOUND, 'no-nat-table-1.20'), '--details']);
    expect(result.exitCode).to.equal(4);
    expect(result.stdout).to.match(/Verdict \(inconclusive\)|inconclusive/i);
    const headers = result.stdout.split('\n').filter((l) => /^(ERROR|WARNING|INFO) MD\d{4}/.test(l));
    expect(new Set(headers).size).to.equal(headers.length);
  });
});
