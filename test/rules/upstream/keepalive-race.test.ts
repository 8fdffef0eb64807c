import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Guide } from '../../../src/diagnoses/guide.js';
import { diagnoseWhy503 } from '../../../src/diagnoses/why-503.js';
import { SnapshotSource } from '../../../src/sources/snapshot.js';
import path from 'node:path';
import { REPO_ROOT } from '../../support/cli.js';
import { keepAliveRace } from '../../../src/rules/upstream/keepalive-race.js';
import { analyse } from '../../../src/rules/upstream/index.js';
import { ruleTester } from '../../support/rule-tester.js';
import { evidence, ISTIO, PODS, STRICT, OPTIONS, type Input } from './support.js';

/**
 * MD3009, the keep-alive race, through the RuleTester. The UC line is Envoy
 * 1.40's as the lab recorded it (test/fixtures/lab/seed004-dr-tls-disable:
 * `503 UC upstream_reset_before_response_started{connection_termination}`);
 * the DestinationRules are keepalive-race's and its twin's
 * (test/scenarios/keepalive-race*).
 */

const UC = (t: string) => ISTIO(t, '503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 1 - "-" "curl/7.88.1" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:57308 10.105.235.142:8000 172.17.0.13:51034 - default');
const OK = (t: string) => ISTIO(t, '200 - via_upstream - "-" 0 612 3 2 "-" "curl/7.88.1" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:57308 10.105.235.142:8000 172.17.0.13:51036 - default');
const MIXED = [OK('2026-12-05T04:34:15.390Z'), UC('2026-12-05T04:34:16.390Z'), OK('2026-12-05T04:34:17.391Z')].join('\n');
const ONLY_UC = [UC('2026-12-05T04:34:16.390Z'), UC('2026-12-05T04:34:17.390Z')].join('\n');
const pool = (http: string) => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: foo}
spec: {host: httpbin, trafficPolicy: {connectionPool: {http: {${http}}}}}
`;
/** The lab's real lines (test/fixtures/lab/keepalive-race): the server sidecar logs UC on inbound|8080||, the client 503 via_upstream. */
const LAB = path.join(REPO_ROOT, 'test/fixtures/lab/keepalive-race');
const LAB_SERVER = readFileSync(path.join(LAB, 'foo.httpbin-94fdb8c79-h9zrq.istio-proxy.log'), 'utf8');
const LAB_CLIENT = readFileSync(path.join(LAB, 'foo.sleep-5b597748b4-77kj5.istio-proxy.log'), 'utf8');
const NO_IDLE = pool('http1MaxPendingRequests: 100');
const IDLE_500MS = pool('http1MaxPendingRequests: 100, idleTimeout: 500ms');

ruleTester(keepAliveRace, OPTIONS, {
  valid: [
    { name: "the lab's real lines, idleTimeout 500ms below the 1s keep-alive", input: { yaml: PODS + STRICT + IDLE_500MS, clientLog: LAB_CLIENT, serverLog: LAB_SERVER, appKeepAliveMs: 1000 } },
    { name: "the twin: idleTimeout 500ms below the app's 1s keep-alive", input: { yaml: PODS + STRICT + IDLE_500MS, clientLog: MIXED, appKeepAliveMs: 1000 } },
    { name: "the twin: the client's idleTimeout 500ms below the server sidecar's inbound idle_timeout 30s", input: { yaml: PODS + STRICT + IDLE_500MS, clientLog: MIXED, serverIdleMs: 30_000 } },
    { name: 'every request succeeds', input: { yaml: PODS + STRICT + NO_IDLE, clientLog: OK('2026-12-05T04:34:15.390Z'), appKeepAliveMs: 1000 } },
    { name: 'every request fails with UC (a steady failure such as seed 004, not a race)', input: { yaml: PODS + STRICT + NO_IDLE, clientLog: ONLY_UC, appKeepAliveMs: 1000 } },
  ],
  invalid: [
    {
      name: "the lab's real lines: UC connection_termination on the server's inbound, 503 via_upstream at the client",
      input: { yaml: PODS + STRICT + NO_IDLE, clientLog: LAB_CLIENT, serverLog: LAB_SERVER, appKeepAliveMs: 1000 },
      expect: [{ code: 'MD3009', target: 'DestinationRule foo/httpbin', severity: 'error' }],
    },
    {
      name: "no idleTimeout (Envoy's 1h) above the app's 1s keep-alive: the DestinationRule",
      input: { yaml: PODS + STRICT + NO_IDLE, clientLog: MIXED, appKeepAliveMs: 1000 },
      expect: [{ code: 'MD3009', target: 'DestinationRule foo/httpbin', severity: 'error' }],
    },
    {
      name: 'idleTimeout 500ms above a 200ms keep-alive',
      input: { yaml: PODS + STRICT + IDLE_500MS, clientLog: MIXED, appKeepAliveMs: 200 },
      expect: [{ code: 'MD3009', target: 'DestinationRule foo/httpbin', severity: 'error' }],
    },
    {
      name: "the server sidecar's inbound idle_timeout 30s below the client's 1h: the DestinationRule",
      input: { yaml: PODS + STRICT + NO_IDLE, clientLog: MIXED, serverIdleMs: 30_000 },
      expect: [{ code: 'MD3009', target: 'DestinationRule foo/httpbin', severity: 'error' }],
    },
    {
      name: 'no DestinationRule, keep-alive unknown: a warning on the Service asking for it',
      input: { yaml: PODS + STRICT, clientLog: MIXED },
      expect: [{ code: 'MD3009', target: 'Service foo/httpbin', severity: 'warning' }],
    },
  ],
  skipped: [],
});

describe('MD3009 remediation', () => {
  it("cites the server's UC line and the client's 503 for the same request id", () => {
    const [finding] = check({ yaml: PODS + STRICT + NO_IDLE, clientLog: LAB_CLIENT, serverLog: LAB_SERVER, appKeepAliveMs: 1000 });
    const [server, client] = finding.evidence;
    expect(server.excerpt).to.match(/503 UC upstream_reset_before_response_started\{connection_termination\} .* inbound\|8080\|\| /);
    expect(client.excerpt).to.match(/^\[2026-12-05T10:25:11\.275Z\] "GET \/headers HTTP\/1\.1" 503 - via_upstream .*"e7f92e41-6966-44e6-88c4-15a1b8f259e4"/);
  });

  const check = (input: Input) => keepAliveRace.check(evidence(input), { ...analyse(evidence(input)) });

  it("patches the DestinationRule's idleTimeout to half the app's keep-alive", () => {
    const [finding] = check({ yaml: PODS + STRICT + NO_IDLE, clientLog: MIXED, appKeepAliveMs: 1000 });
    expect(finding.message).to.include("closes idle connections after 1s, the sidecars keep them for 1h (Envoy's default)");
    expect(finding.remediation.patch).to.include('apiVersion: networking.istio.io/v1\n').and.include('idleTimeout: 500ms');
    expect(finding.remediation.command).to.match(/^kubectl patch destinationrule httpbin -n foo --type merge/);
  });

  it("names the server sidecar's inbound idle_timeout as the side that closes first, with its dump excerpt", () => {
    const [finding] = check({ yaml: PODS + STRICT + NO_IDLE, clientLog: MIXED, serverIdleMs: 30_000 });
    expect(finding.message).to.include("the server sidecar of httpbin-1.foo closes idle connections after 30s, the client's sidecar keeps them for 1h (Envoy's default)");
    expect(finding.evidence.map((x) => x.source)).to.include('istioctl proxy-config listeners httpbin-1 -n foo --port 8080 -o json');
    expect(finding.remediation.patch).to.include('idleTimeout: 15s');
    expect(finding.assumes ?? []).to.deep.equal([]);
  });

  it('writes a new DestinationRule in the apiVersion the Istio version serves when none exists', () => {
    const [v1] = check({ yaml: PODS + STRICT, clientLog: MIXED, appKeepAliveMs: 5000, version: '1.22.3' });
    expect(v1.remediation.patch).to.match(/^apiVersion: networking\.istio\.io\/v1\n[\s\S]*host: httpbin\.foo\.svc\.cluster\.local\n[\s\S]*idleTimeout: 2500ms\n$/);
    const [beta] = check({ yaml: PODS + STRICT, clientLog: MIXED, appKeepAliveMs: 5000, version: '1.20.8' });
    expect(beta.remediation.patch).to.match(/^apiVersion: networking\.istio\.io\/v1beta1\n/);
    expect(beta.remediation.command).to.match(/^kubectl apply -f - <<EOF\n/);
  });
});

/**
 * The diagnosis offline on the oracle's snapshots of the lab scenario and its
 * twin (test/scenarios/keepalive-race*: the config Istio generates, so the
 * idle timeout is read from the client's cluster), with the lab's real lines
 * as the sidecars' logs.
 */
describe('why-503 on the keep-alive race (oracle snapshot + the lab\'s real lines)', () => {
  const CLIENT = { namespace: 'foo', name: 'sleep-5b597748b4-77kj5' };
  async function diagnoseScenario(scenario: string, appKeepAliveMs?: number, probe = false) {
    const dir = await mkdtemp(path.join(tmpdir(), 'md3009-'));
    try {
      await cp(path.join(REPO_ROOT, 'test/scenarios', scenario, 'snapshot'), dir, { recursive: true });
      await writeFile(path.join(dir, 'proxies/foo/sleep-5b597748b4-77kj5/istio-proxy.log'), LAB_CLIENT);
      await writeFile(path.join(dir, 'proxies/foo/httpbin-94fdb8c79-h9zrq/istio-proxy.log'), LAB_SERVER);
      if (probe) await cp(path.join(LAB, 'foo.httpbin-94fdb8c79-h9zrq.probe.txt'), path.join(dir, 'proxies/foo/httpbin-94fdb8c79-h9zrq/probes/keep-alive.txt'));
      const source = await SnapshotSource.open(dir);
      try {
        return await diagnoseWhy503(source, new Guide(), {
          client: CLIENT, to: 'httpbin:8000', readOnly: false, ...(appKeepAliveMs !== undefined ? { appKeepAliveMs } : {}), probe,
          capture: { level: 'debug', loggers: ['connection'] },
          announce: () => { throw new Error('nothing may be announced offline'); },
        });
      } finally {
        await source.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('no idleTimeout, keep-alive 1s: MD3009 on the DestinationRule, idle timeout read from the cluster', async () => {
    const report = await diagnoseScenario('keepalive-race', 1000);
    const md3009 = report.findings.filter((f) => f.code === 'MD3009');
    expect(md3009.map((f) => `${f.severity} ${f.target.kind} ${f.target.namespace}/${f.target.name}`)).to.deep.equal(['error DestinationRule foo/httpbin']);
    expect(md3009[0].message).to.contain("the sidecars keep them for 1h (Envoy's default)");
    expect(md3009[0].remediation.patch).to.contain('idleTimeout: 500ms');
  });

  it("the twin (idleTimeout 500ms in the cluster Istio generated): no finding", async () => {
    const report = await diagnoseScenario('keepalive-race-healthy', 1000);
    expect(report.findings.filter((f) => f.code === 'MD3009')).to.deep.equal([]);
  });

  it("keep-alive not given, the server sidecar's inbound idle_timeout 30s under the client's 1h: MD3009 on the DestinationRule", async () => {
    const report = await diagnoseScenario('keepalive-inbound-idle');
    const [md3009] = report.findings.filter((f) => f.code === 'MD3009');
    expect(`${md3009.severity} ${md3009.target.kind} ${md3009.target.namespace}/${md3009.target.name}`).to.equal('error DestinationRule foo/httpbin');
    expect(md3009.message).to.contain('the server sidecar of httpbin-94fdb8c79-h9zrq.foo closes idle connections after 30s');
    expect(md3009.evidence.at(-1)?.excerpt).to.contain('"idle_timeout": "30s"');
  });

  it("the twin: the client's idleTimeout 500ms (cluster) under the server sidecar's 30s: no finding", async () => {
    const report = await diagnoseScenario('keepalive-inbound-idle-healthy');
    expect(report.findings.filter((f) => f.code === 'MD3009')).to.deep.equal([]);
  });

  it("--probe: the app's own Keep-Alive: timeout=1 (the lab's real answer, recorded) makes it MD3009 on the DestinationRule, citing the header", async () => {
    const report = await diagnoseScenario('keepalive-race', undefined, true);
    const [md3009] = report.findings.filter((f) => f.code === 'MD3009');
    expect(`${md3009.severity} ${md3009.target.kind} ${md3009.target.namespace}/${md3009.target.name}`).to.equal('error DestinationRule foo/httpbin');
    const cited = md3009.evidence.find((x) => x.excerpt === '< Keep-Alive: timeout=1');
    expect(cited?.source).to.match(/^kubectl exec httpbin-94fdb8c79-h9zrq -n foo -c istio-proxy -- curl -sv -o \/dev\/null --max-time 5 http:\/\/localhost:8080\/headers/);
    expect(md3009.remediation.patch).to.contain('idleTimeout: 500ms');
  });

  it('--probe on the twin: the header is read, no finding', async () => {
    const report = await diagnoseScenario('keepalive-race-healthy', undefined, true);
    expect(report.findings.filter((f) => f.code === 'MD3009')).to.deep.equal([]);
  });

  it('keep-alive not given: a warning asking for --app-keepalive', async () => {
    const report = await diagnoseScenario('keepalive-race');
    expect(report.findings.filter((f) => f.code === 'MD3009').map((f) => f.severity)).to.deep.equal(['warning']);
  });
});
