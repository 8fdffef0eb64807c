import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/why-503');
const CLIENT = 'sleep-5b597748b4-77kj5.foo';

describe('why-503 command (offline, as a subprocess)', function () {
  // Some tests run the CLI several times: on a busy shared machine they outlast mocha's default.
  this.timeout(120_000);

  it('seed 004 replica: exit 3, verdict names the culprit DestinationRule and the fix, JSON carries everything', async () => {
    const result = await runCli(['why-503', CLIENT, '--to', 'httpbin:8000', '--from', path.join(FIXTURES, 'seed004-istio-1.0-replica'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.schema).to.equal('mesh-doctor.report/v1');
    expect(report.command).to.equal('why-503');
    expect(report.subject).to.equal('sleep-5b597748b4-77kj5.foo -> httpbin.foo.svc.cluster.local:8000');
    expect(report.verdict.status).to.equal('problem');
    expect(report.verdict.summary).to.match(/^Plaintext sent to a server that requires mTLS \(MD3001\) .*culprit DestinationRule foo\/httpbin; fix: Add tls: \{mode: ISTIO_MUTUAL\} to DestinationRule foo\/httpbin/);
    const md3001 = report.findings.find((f: any) => f.code === 'MD3001');
    expect(md3001.target).to.deep.equal({ kind: 'DestinationRule', namespace: 'foo', name: 'httpbin' });
    expect(md3001.docs).to.equal('kubectl mesh-doctor docs MD3001');
    expect(md3001.remediation.command).to.equal(`kubectl patch destinationrule httpbin -n foo --type merge -p '{"spec":{"trafficPolicy":{"tls":{"mode":"ISTIO_MUTUAL"}}}}'`);
    expect(report.steps.map((s: any) => s.title)).to.deep.equal([
      'Destination: the Service and the server pods behind it',
      'Client sleep-5b597748b4-77kj5.foo: access-log lines for httpbin.foo.svc.cluster.local:8000',
      'Client sleep-5b597748b4-77kj5.foo: its cluster for the destination and the DestinationRule behind it',
      'Client sleep-5b597748b4-77kj5.foo: per-host health and counters, stats',
      'Server side: what the inbound listener demands, the effective PeerAuthentication, listening sockets',
      'Capture: raise Envoy log levels on both sidecars, let the failure happen, restore every logger',
      'Envoy logs: the server\'s TLS errors, rejected connections and inbound access log; the client\'s captured lines',
      'Correlate the two sides and decide',
    ]);
    // Offline evidence names the live command and the snapshot file.
    expect(report.steps[1].lookedAt[0]).to.equal('kubectl logs sleep-5b597748b4-77kj5 -n foo -c istio-proxy --tail=5000   [proxies/foo/sleep-5b597748b4-77kj5/istio-proxy.log]');
  });

  it('the healthy twin exits 0 with a healthy verdict', async () => {
    const result = await runCli(['why-503', CLIENT, '--to', 'httpbin.foo:8000', '--from', path.join(FIXTURES, 'seed004-istio-1.0-replica-healthy'), '--json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    const report = jsonOf(result);
    expect(report.verdict.status).to.equal('healthy');
    expect(report.findings.filter((f: any) => f.severity === 'error')).to.deep.equal([]);
  });

  it('--fail-on warning turns the twin\'s outlier-settings warning into exit 3', async () => {
    const result = await runCli(['why-503', CLIENT, '--to', 'httpbin:8000', '--from', path.join(FIXTURES, 'seed004-istio-1.0-replica-healthy'), '--fail-on', 'warning', '-o', 'json']);
    expect(result.exitCode).to.equal(3);
    expect(jsonOf(result).findings.map((f: any) => f.code)).to.deep.equal(['MD3008']);
  });

  it('prints the guided transcript (with --details, what each step saw), the two sides and the verdict for people', async () => {
    const result = await runCli(['why-503', CLIENT, '--to', 'httpbin:8000', '--from', path.join(FIXTURES, 'seed004-dr-tls-disable-current-logs'), '--details']);
    expect(result.exitCode).to.equal(3);
    expect(result.stdout).to.contain('– Capture: raise Envoy log levels on both sidecars');
    expect(result.stdout).to.contain("skipped: offline: the snapshot's istio-proxy.log, clusters and stats are used as captured");
    expect(result.stdout).to.contain('sends plaintext  (DestinationRule foo/httpbin, tls.mode DISABLE); auto mTLS on');
    expect(result.stdout).to.contain('SERVER  httpbin-94fdb8c79-h9zrq.foo port 8080: mtls');
    expect(result.stdout).to.match(/MATCH {3}\[address\] .*503 UC/);
    expect(result.stdout).to.contain('ERROR MD3001 Plaintext sent to a server that requires mTLS');
  });

  it('--server-pod alone finds the destination through the Service that selects it', async () => {
    const result = await runCli(['why-503', CLIENT, '--server-pod', 'httpbin-94fdb8c79-h9zrq.foo', '--from', path.join(FIXTURES, 'uf-connection-refused'), '-o', 'json']);
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = jsonOf(result);
    expect(report.data.destination).to.include({ host: 'httpbin.foo.svc.cluster.local', port: 8000, service: 'foo/httpbin' });
    expect(report.findings[0].code).to.equal('MD3004');
  });

  it('usage errors exit 2 with a next step, in JSON too; an unknown destination is not-found (exit 1)', async () => {
    const noDestination = await runCli(['why-503', CLIENT, '--from', path.join(FIXTURES, 'uf-connection-refused')]);
    expect(noDestination.exitCode).to.equal(2);
    expect(noDestination.stderr).to.match(/^Error: say where the requests go: --to HOST\[:PORT\] or --server-pod POD\n {2}e\.g\./);

    const unknown = await runCli(['why-503', CLIENT, '--to', 'nosuch:80', '--from', path.join(FIXTURES, 'uf-connection-refused'), '-o', 'json']);
    expect(unknown.exitCode).to.equal(1);
    expect(jsonOf(unknown).error).to.deep.include({ kind: 'not-found', exitCode: 1 });
    expect(jsonOf(unknown).error.message).to.equal('no Service or ServiceEntry matches "nosuch:80" from namespace foo');

    const wrongPort = await runCli(['why-503', CLIENT, '--to', 'httpbin:9999', '--from', path.join(FIXTURES, 'uf-connection-refused')]);
    expect(wrongPort.exitCode).to.equal(2);
    expect(wrongPort.stderr).to.contain('Service foo/httpbin has no port 9999 (it has 8000)');

    const badDuration = await runCli(['why-503', CLIENT, '--to', 'httpbin:8000', '--capture-for', 'soon', '--from', path.join(FIXTURES, 'uf-connection-refused')]);
    expect(badDuration.exitCode).to.equal(2);
    expect(badDuration.stderr).to.contain('--capture-for takes a duration');
  });
});
