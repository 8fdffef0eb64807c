import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * explain --diagnose: one pasted access-log line and the pod that logged it
 * run the diagnosis the line calls for, its arguments filled from the line.
 * The lines are real: the e2e fixture's client line (test/fixtures/why-503,
 * the test cluster's seed 004 shape), and the mesh lab's (test/fixtures/check/PROVENANCE.md).
 */
const fixture = (p: string) => path.join(REPO_ROOT, 'test/fixtures', p);
const UC = '"GET /get HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 1 - "-" "curl/8.5.0" "e2e-1" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:46846 10.105.235.142:8000 172.17.0.13:52044 - default';
const BLOCKED = '[2026-12-05T04:34:22.982Z] "GET /headers HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "curl/7.88.1" "f0fbb52b-d0ce-4ad5-8518-915f7957fe19" "httpbin.org" "-" - - 203.0.113.10:80 172.17.0.8:40454 - block_all';
const REFUSED = '[2026-12-05T04:34:25.827Z] "GET /headers HTTP/1.1" 503 URX,UF upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused} - "delayed_connect_error:_Connection_refused" 0 121 47 - "-" "curl/7.88.1" "0debe4f5-3482-4ea8-9a3d-a59b7e17f65d" "10.244.1.50:8080" "10.244.1.50:8080" inbound|8080|| - 10.244.1.50:8080 10.244.1.60:55088 - default';

describe('explain --diagnose', function () {
  this.timeout(60_000);

  it('a client\'s 503 UC: runs why-503 --to the upstream cluster\'s host and port, the same report as running it directly', async () => {
    const from = fixture('why-503/e2e-dr-tls-disable');
    const r = await runCli(['explain', '--diagnose', '--pod', 'sleep-5b597748b4-77kj5.foo', '--from', from, '-o', 'json', UC]);
    expect(r.stderr).to.equal('explain: the line calls for `kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin.foo.svc.cluster.local:8000 --from ' + from + ' --output json`\n');
    expect(r.exitCode).to.equal(3);
    const direct = await runCli(['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin.foo.svc.cluster.local:8000', '--from', from, '-o', 'json']);
    expect(jsonOf(r).findings.map((f: any) => f.code)).to.deep.equal(jsonOf(direct).findings.map((f: any) => f.code)).and.include('MD3001');
  });

  it('a 502 from block_all: runs why-502 --host from :authority (MD2001, the mesh config)', async () => {
    const r = await runCli(['explain', '--diagnose', '--pod', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--from', fixture('check/seed002-registry-only-unregistered'), '-o', 'json', BLOCKED]);
    expect(r.stderr).to.match(/calls for `kubectl mesh-doctor why-502 ubuntu-deployment-54bbd6f4ff-q9sdj\.default --host httpbin\.org --port 80 --path \/headers /);
    expect(r.exitCode).to.equal(3);
    expect(jsonOf(r).findings.map((f: any) => f.code)).to.include('MD2001');
  });

  it('an inbound connection refused: runs why-inbound-fails --port from the inbound cluster', async () => {
    const r = await runCli(['explain', '--diagnose', '--pod', 'app-5f7b9c6d8-q7w2e.default', '--from', fixture('check/seed001-app-on-localhost'), '-o', 'json', REFUSED]);
    expect(r.stderr).to.match(/calls for `kubectl mesh-doctor why-inbound-fails app-5f7b9c6d8-q7w2e\.default --port 8080 /);
    expect(r.exitCode).to.equal(3);
  });

  it('without --pod, or on a line no diagnosis explains: a usage error with the reason (exit 2)', async () => {
    const noPod = await runCli(['explain', '--diagnose', UC]);
    expect(noPod.exitCode).to.equal(2);
    expect(noPod.stderr).to.contain('--diagnose needs --pod');
    const ok = await runCli(['explain', '--diagnose', '--pod', 'x.y', '"GET / HTTP/1.1" 200 - via_upstream - "-" 0 10 1 1 "-" "curl" "id" "a:80" "10.0.0.1:80" outbound|80||a.b.svc.cluster.local 10.0.0.2:1 10.0.0.1:80 10.0.0.2:2 - default']);
    expect(ok.exitCode).to.equal(2);
    expect(ok.stderr).to.contain('nothing to diagnose');
  });
});
