import { expect } from 'chai';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/inbound');
const POD = 'app-5f7b9c6d8-q7w2e.default';
const DEPLOYMENT = { kind: 'Deployment', namespace: 'default', name: 'app' };
const SERVICE = { kind: 'Service', namespace: 'default', name: 'app' };

interface Row {
  scenario: string;
  exit: number;
  status: string;
  /** Findings at warning or error: code and target. */
  problems: Array<{ code: string; severity: string; target: object }>;
  twin?: string;
}

// Each verdict beside its healthy twin (the same pod with the cause removed).
const TABLE: Row[] = [
  { scenario: 'localhost-1.20', exit: 3, status: 'problem', problems: [{ code: 'MD4001', severity: 'error', target: DEPLOYMENT }], twin: 'wildcard-1.20' },
  { scenario: 'wildcard-1.20', exit: 0, status: 'healthy', problems: [] },
  { scenario: 'sidecar-default-endpoint-1.20', exit: 0, status: 'healthy', problems: [] },
  { scenario: 'static-1.9-localhost', exit: 0, status: 'problem', problems: [{ code: 'MD4001', severity: 'warning', target: DEPLOYMENT }], twin: 'static-1.9-wildcard' },
  { scenario: 'static-1.9-wildcard', exit: 0, status: 'healthy', problems: [] },
  { scenario: 'nothing-listening-1.20', exit: 3, status: 'problem', problems: [{ code: 'MD4003', severity: 'error', target: DEPLOYMENT }], twin: 'wildcard-1.20' },
  { scenario: 'target-port-mismatch', exit: 3, status: 'problem', problems: [{ code: 'MD4004', severity: 'error', target: SERVICE }], twin: 'target-port-match' },
  { scenario: 'target-port-match', exit: 0, status: 'healthy', problems: [] },
  { scenario: 'iptables-loop-1.20', exit: 3, status: 'problem', problems: [{ code: 'MD4005', severity: 'error', target: DEPLOYMENT }], twin: 'wildcard-1.20' },
  { scenario: 'cni-1.20', exit: 0, status: 'healthy', problems: [] },
  { scenario: 'no-nat-table-1.20', exit: 4, status: 'inconclusive', problems: [] },
  // Offline this snapshot has no netstat (only proc-net-tcp, which the live test cluster serves): refusals in the access log, sockets unknown.
  { scenario: 'proc-net-tcp-1.20', exit: 3, status: 'problem', problems: [{ code: 'MD4003', severity: 'error', target: DEPLOYMENT }] },
];

describe('why-inbound-fails on the inbound fixtures (verdict, culprit, exit code)', function () {
  this.timeout(60_000);
  for (const row of TABLE) {
    it(`${row.scenario}: ${row.problems.map((p) => `${p.code} on ${JSON.stringify(p.target)}`).join(', ') || 'no problem'} (exit ${row.exit})`, async () => {
      const result = await runCli(['why-inbound-fails', POD, '--from', path.join(FIXTURES, row.scenario), '-o', 'json']);
      const report = jsonOf(result);
      expect(result.exitCode, result.stderr).to.equal(row.exit);
      expect(report.verdict.status).to.equal(row.status);
      const problems = report.findings.filter((f: any) => f.severity !== 'info').map((f: any) => ({ code: f.code, severity: f.severity, target: f.target }));
      expect(problems).to.deep.equal(row.problems);
      for (const f of report.findings) {
        expect(f.evidence.length, `${f.code} has evidence`).to.be.greaterThan(0);
        for (const e of f.evidence) expect(e.source).to.match(/^(kubectl|istioctl) /);
        expect(f.docs).to.equal(`kubectl mesh-doctor docs ${f.code}`);
      }
      if (row.problems[0]) expect(report.verdict.summary).to.contain(row.problems[0].code);
    });
  }

  it('MD4001 quotes the socket, the ORIGINAL_DST cluster and the 503 UF access-log line, and offers the Sidecar defaultEndpoint patch', async () => {
    const report = jsonOf(await runCli(['why-inbound-fails', POD, '--from', path.join(FIXTURES, 'localhost-1.20'), '-o', 'json']));
    const f = report.findings.find((x: any) => x.code === 'MD4001');
    const excerpts = f.evidence.map((e: any) => e.excerpt).join('\n');
    expect(excerpts).to.contain('127.0.0.1:8080');
    expect(excerpts).to.contain('"type": "ORIGINAL_DST"');
    expect(excerpts).to.match(/503 UF upstream_reset_before_response_started\{remote_connection_failure,delayed_connect_error:_111\}.*inbound\|8080\|\|/);
    expect(f.remediation.patch).to.contain('defaultEndpoint: 127.0.0.1:8080');
    expect(f.remediation.text).to.contain('0.0.0.0:8080');
    expect(f.assumes.join(' ')).to.contain('#30226');
    // MD4002 explains the peer-address change and what to check instead.
    const peer = report.findings.find((x: any) => x.code === 'MD4002');
    expect(peer.severity).to.equal('info');
    expect(peer.remediation.text).to.contain('127.0.0.0/8');
    const peerExcerpts = peer.evidence.map((e: any) => e.excerpt).join('\n');
    expect(peerExcerpts).to.contain('-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
    // Why 127.0.0.6: the same connection from 127.0.0.1 walked through this pod's table loops.
    expect(peerExcerpts).to.contain('packet src=127.0.0.1 dst=10.244.1.50:8080');
    expect(peerExcerpts).to.contain('LOOP:');
  });

  it('the healthy twin prints the path hop by hop, every hop ok', async () => {
    const result = await runCli(['why-inbound-fails', POD, '--from', path.join(FIXTURES, 'wildcard-1.20')]);
    expect(result.exitCode, result.stderr).to.equal(0);
    const report = jsonOf(await runCli(['why-inbound-fails', POD, '--from', path.join(FIXTURES, 'wildcard-1.20'), '-o', 'json']));
    const hops = report.data.ports[0].hops;
    expect(hops.map((h: any) => h.ok)).to.deep.equal([true, true, true, true, true, true]);
    expect(hops.map((h: any) => h.detail).join('\n')).to.contain('RETURN by ISTIO_OUTPUT rule 1');
    expect(result.stdout).to.contain('ok  Service default/app:80');
    expect(result.stdout).to.contain('Verdict: The inbound path to app-5f7b9c6d8-q7w2e.default port 8080 is intact');
  });

  it('--from-pod adds the client\'s failing requests; --port picks one port', async () => {
    const report = jsonOf(await runCli(['why-inbound-fails', POD, '--port', '80', '--from-pod', 'sleep-7c9f8d6b5-x2k4p.default', '--from', path.join(FIXTURES, 'localhost-1.20'), '-o', 'json']));
    expect(report.data.client.lines).to.have.length(3);
    expect(report.data.client.lines[0]).to.contain('503');
    expect(report.data.ports.map((p: any) => p.appPort)).to.deep.equal([8080]);
    expect(report.subject).to.equal(`pod ${POD} port 80`);
  });

  it('the nat table from the istio-cni node agent\'s log when the pod has no istio-init', async () => {
    const report = jsonOf(await runCli(['why-inbound-fails', POD, '--from', path.join(FIXTURES, 'cni-1.20'), '-o', 'json']));
    expect(report.data.natTable.source).to.match(/^kubectl logs istio-cni-node-x7k2p -n kube-system -c install-cni/);
  });

  it('says why the nat table is missing (iptables-save refused without NET_ADMIN) and skips the iptables rule', async () => {
    const report = jsonOf(await runCli(['why-inbound-fails', POD, '--from', path.join(FIXTURES, 'no-nat-table-1.20'), '-o', 'json']));
    const skip = report.skipped.find((s: any) => s.rule === 'iptables-loop');
    expect(skip.reason).to.contain('Permission denied');
    expect(skip.reason).to.contain('NET_ADMIN');
    expect(report.verdict.summary).to.contain('iptables is unchecked');
  });

  it("on the oracle's seed001 scenario (current Istio's inbound cluster) with sockets and logs added: MD4001", async function () {
    const oracle = path.join(REPO_ROOT, 'test/scenarios/seed001-inbound-original-dst/snapshot');
    const dir = await mkdtemp(path.join(tmpdir(), 'md-inbound-'));
    try {
      await cp(oracle, dir, { recursive: true });
      const proxy = path.join(dir, 'proxies/default/app-5f7b9c6d8-q7w2e');
      await cp(path.join(FIXTURES, 'localhost-1.20/proxies/default/app-5f7b9c6d8-q7w2e/netstat'), path.join(proxy, 'netstat'));
      await cp(path.join(FIXTURES, 'localhost-1.20/proxies/default/app-5f7b9c6d8-q7w2e/istio-proxy.log'), path.join(proxy, 'istio-proxy.log'));
      const report = jsonOf(await runCli(['why-inbound-fails', POD, '--from', dir, '-o', 'json']));
      expect(report.findings.map((f: any) => f.code)).to.deep.equal(['MD4001', 'MD4002']);
      expect(report.data.ports[0].forwarding).to.contain('from 127.0.0.6');
      // Without them: the app end is unchecked, and says so.
      const bare = jsonOf(await runCli(['why-inbound-fails', POD, '--from', oracle, '-o', 'json']));
      expect(bare.verdict.status).to.equal('inconclusive');
      expect(bare.skipped.map((s: any) => s.rule)).to.include('app-listens');
      // The scenario records seed 001's `iptables -t nat -L -v` listing as a probe: the iptables hops are read from it.
      expect(bare.data.natTable.source).to.equal('kubectl exec app-5f7b9c6d8-q7w2e -n default -c istio-proxy -- iptables -t nat -L -v');
      expect(bare.data.ports[0].hops.find((h: any) => h.hop === 'OUTPUT (Envoy -> app)').detail).to.equal('RETURN by ISTIO_OUTPUT rule 1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing pod is exit 1 with one line; a bad --port is usage (exit 2)', async () => {
    const missing = await runCli(['why-inbound-fails', 'nope.default', '--from', path.join(FIXTURES, 'wildcard-1.20')]);
    expect(missing.exitCode).to.equal(1);
    expect(missing.stderr).to.match(/^Error: .*nope/);
    const bad = await runCli(['why-inbound-fails', POD, '--port', 'x', '--from', path.join(FIXTURES, 'wildcard-1.20')]);
    expect(bad.exitCode).to.equal(2);
  });
});

