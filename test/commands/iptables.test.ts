import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/inbound');
const POD = 'app-5f7b9c6d8-q7w2e.default';
const from = (s: string) => ['--from', path.join(FIXTURES, s)];

describe('iptables: the nat table and a packet walk', function () {
  this.timeout(60_000);

  it("prints the chains as seed 001 shows them (iptables -t nat -L -v layout) from the istio-init log", async () => {
    const result = await runCli(['iptables', POD, ...from('wildcard-1.20'), '--details']);
    expect(result.exitCode, result.stderr).to.equal(0);
    // The seed's ISTIO_OUTPUT lines, rule for rule (counters come from the log's iptables-save: zero).
    const seed = await readFile(path.join(REPO_ROOT, 'test/fixtures/iptables/seed-001-nat-L-v.txt'), 'utf8');
    const seedRules = seed.split('\n').filter((l) => /^\s+\d+\s+\S+\s+(RETURN|ISTIO_IN_REDIRECT|ISTIO_REDIRECT)\s/.test(l)).map((l) => l.replace(/^\s*\S+\s+\S+\s+/, ''));
    const ours = result.stdout.split('\n').filter((l) => /^\s+\d+\s+\S+\s+(RETURN|ISTIO_IN_REDIRECT|ISTIO_REDIRECT)\s/.test(l)).map((l) => l.replace(/^\s*\S+\s+\S+\s+/, ''));
    expect(seedRules.length).to.be.greaterThan(15);
    expect(ours).to.deep.equal(seedRules);
    expect(result.stdout).to.contain('Chain ISTIO_OUTPUT (1 references)');
  });

  it("walks seed 001's three cases by default and says which one this proxy sends", async () => {
    const report = jsonOf(await runCli(['iptables', POD, ...from('wildcard-1.20'), '-o', 'json']));
    const walks = report.data.walks;
    expect(walks.map((w: any) => [w.hook, w.verdict.split(' (')[0], w.loop])).to.deep.equal([
      ['PREROUTING', 'REDIRECT to port 15006', false],
      ['OUTPUT', 'RETURN by ISTIO_OUTPUT rule 1, then OUTPUT policy ACCEPT: not redirected, the packet goes to its original destination', false],
      ['OUTPUT', 'RETURN by ISTIO_OUTPUT rule 4, then OUTPUT policy ACCEPT: not redirected, the packet goes to its original destination', false],
      ['OUTPUT', 'REDIRECT to port 15006', true],
    ]);
    expect(walks.map((w: any) => w.actual)).to.deep.equal([true, true, false, false]);
    // The third case loops, but the proxy does not send it: no finding.
    expect(report.findings).to.deep.equal([]);
    expect(report.verdict.status).to.equal('healthy');
  });

  it('a given packet that loops is answered with the walk (a what-if, not a finding: exit 0)', async () => {
    const result = await runCli(['iptables', POD, ...from('wildcard-1.20'), '--packet', 'src=127.0.0.1 dst=10.244.1.50:8080 uid=1337 out=lo', '-o', 'json']);
    expect(result.exitCode).to.equal(0);
    const report = jsonOf(result);
    expect(report.findings).to.deep.equal([]);
    expect(report.verdict.summary).to.contain('loops');
    expect(report.data.walks[0].text).to.contain('match ISTIO_OUTPUT #2');
    expect(report.data.walks[0].text).to.contain('LOOP:');
  });

  it('the same packet from 127.0.0.6 is RETURNed by ISTIO_OUTPUT rule 1 (exit 0)', async () => {
    const result = await runCli(['iptables', POD, ...from('wildcard-1.20'), '--packet', 'src=127.0.0.6 dst=10.244.1.50:8080 uid=1337 out=lo', '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(jsonOf(result).data.walks[0].verdict).to.match(/^RETURN by ISTIO_OUTPUT rule 1/);
  });

  it('a table without the 127.0.0.6 RETURN rule loops for the packet the proxy really sends: MD4005', async () => {
    const result = await runCli(['iptables', POD, ...from('iptables-loop-1.20'), '-o', 'json']);
    expect(result.exitCode).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings.map((f: any) => f.code)).to.deep.equal(['MD4005']);
    expect(report.findings[0].message).to.contain('no `-o lo -s 127.0.0.6/32 -j RETURN` rule');
  });

  it('reads the table from the istio-cni node agent log, and says why when nothing is readable', async () => {
    const cni = jsonOf(await runCli(['iptables', POD, ...from('cni-1.20'), '-o', 'json']));
    expect(cni.data.source).to.contain('istio-cni-node-x7k2p');
    expect(cni.data.format).to.equal('iptables-restore');
    const none = await runCli(['iptables', POD, ...from('no-nat-table-1.20'), '-o', 'json']);
    expect(none.exitCode).to.equal(4);
    const report = jsonOf(none);
    expect(report.verdict.status).to.equal('inconclusive');
    expect(report.verdict.summary).to.contain('Permission denied');
  });

  it("the oracle's seed001 scenario: seed 001's own -L -v listing (recorded probe) walks to the seed's three outcomes", async () => {
    const result = await runCli(['iptables', POD, '--from', path.join(REPO_ROOT, 'test/scenarios/seed001-inbound-original-dst/snapshot'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    const report = jsonOf(result);
    expect(report.data.format).to.equal('iptables-list');
    // Printed back byte for byte as the seed quotes it.
    const probe = await readFile(path.join(REPO_ROOT, 'test/scenarios/seed001-inbound-original-dst/snapshot/proxies/default/app-5f7b9c6d8-q7w2e/probes/iptables-t-nat-L-v.txt'), 'utf8');
    expect(report.data.chains).to.equal(probe.split('\n').filter((l) => !l.startsWith('# ')).join('\n'));
    const [, v110, v19, v110lo] = report.data.walks;
    expect(v110.actual, 'the proxy (current Istio) sends from 127.0.0.6').to.equal(true);
    expect(v110.verdict).to.match(/^RETURN by ISTIO_OUTPUT rule 1/);
    expect(v19.verdict).to.match(/^RETURN by ISTIO_OUTPUT rule 4/);
    expect([v110lo.loop, v110lo.verdict]).to.deep.equal([true, 'REDIRECT to port 15006 (ISTIO_IN_REDIRECT rule 1)']);
    expect(report.findings).to.deep.equal([]);
  });

  it('a malformed --packet is a usage error (exit 2)', async () => {
    const result = await runCli(['iptables', POD, ...from('wildcard-1.20'), '--packet', 'src=nope dst=1.2.3.4']);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.match(/^Error: --packet: /);
  });
});
