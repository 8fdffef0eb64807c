import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

/**
 * why-503 through the real kubectl against the test cluster (test/cluster/):
 * the capture raises Envoy loggers on both sidecars and must put every logger
 * back exactly — after a normal run, after SIGINT and SIGTERM mid-capture,
 * and not at all on a proxy that restarted meanwhile; --read-only sends no POST.
 */
const SNAPSHOT = path.join(REPO_ROOT, 'test/fixtures/why-503/e2e-dr-tls-disable');
const NS = 'foo';
const CLIENT = 'sleep-5b597748b4-77kj5';
const SERVER = 'httpbin-94fdb8c79-h9zrq';
const BASE = ['why-503', `${CLIENT}.${NS}`, '--to', 'httpbin:8000'];

/** What a capture would see: the client's 503 UC and the server's rejection, joined by 172.17.0.13:46846. */
function appendFailure(e2e: E2E): void {
  const now = new Date().toISOString();
  e2e.cluster.appendLog(NS, CLIENT, 'istio-proxy', `[${now}] "GET /get HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 1 - "-" "curl/8.5.0" "e2e-1" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:46846 10.105.235.142:8000 172.17.0.13:52044 - default`);
  e2e.cluster.appendLog(NS, SERVER, 'istio-proxy', `${now}\tdebug\tenvoy conn_handler external/envoy/source/extensions/listener_managers/listener_manager/active_tcp_listener.cc:151\t[Tags: "ConnectionId":"840"] closing connection from 172.17.0.13:46846: no matching filter chain found\tthread=24`);
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => { stdout += String(d); });
  child.stderr?.on('data', (d) => { stderr += String(d); });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('end to end through the real kubectl: why-503', function () {
  this.timeout(120_000);
  let e2e: E2E;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let initial: { client: Record<string, string>; server: Record<string, string> };

  const levels = () => ({ client: e2e.cluster.currentLevels(NS, CLIENT), server: e2e.cluster.currentLevels(NS, SERVER) });
  const raised = () => levels().client.connection === 'debug' && levels().server.connection === 'debug';

  before(async function () {
    requireKubectl(this);
  });

  beforeEach(async () => {
    e2e = await startE2E({ snapshotDir: SNAPSHOT });
    stateDir = await mkdtemp(path.join(tmpdir(), 'md-why503-state-'));
    env = { MESH_DOCTOR_STATE_DIR: stateDir };
    initial = levels();
    // The fixture's levels differ per logger, so "restored" means each one, not one level for all.
    expect(initial.client.http).to.equal('debug');
    expect(initial.server.connection).to.equal('info');
  });

  afterEach(async () => {
    await e2e?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('--reproduce: announces, raises both sidecars, correlates the captured lines, restores every logger exactly', async () => {
    const child = e2e.spawnKubectl([...BASE, '--reproduce', 'curl -sv http://httpbin:8000/get', '--capture-for', '3s', '-o', 'json'], { env });
    const done = finished(child);
    await until('both sidecars raised', raised);
    const whileRaised = levels();
    expect(whileRaised.client.http, 'a logger that was not asked for keeps its level').to.equal('debug');
    expect(whileRaised.server.router).to.equal('debug');
    appendFailure(e2e);
    const result = await done;
    expect(result.code, result.stderr).to.equal(3);
    expect(levels()).to.deep.equal(initial);

    const report = JSON.parse(result.stdout);
    expect(report.findings.map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`)).to.include('MD3001 DestinationRule foo/httpbin');
    expect(report.data.correlations.map((c: any) => c.via)).to.include('address');
    expect(report.data.capture.status).to.equal('done');
    expect(report.data.capture.reproduce.exitCode).to.equal(0);
    expect(report.data.capture.restores.join('\n')).to.match(/sleep-5b597748b4-77kj5\.foo: every logger back to its saved level/);
    expect(report.data.capture.restores.join('\n')).to.match(/httpbin-94fdb8c79-h9zrq\.foo: every logger back to its saved level/);
    // Told before anything changed: the announcement is on stderr, one per pod.
    expect(result.stderr.match(/^Raising Envoy loggers .* to debug on /gm)).to.have.length(2);

    // The only writes were POST /logging, and the last one to each pod put back every saved level.
    const mutations = e2e.cluster.journal.mutations();
    expect(mutations.every((m) => m.logging?.mutation)).to.equal(true);
    for (const pod of [CLIENT, SERVER]) {
      const calls = e2e.cluster.journal.loggingCalls().filter((c) => c.name === pod && c.logging!.mutation);
      expect(calls.length, `${pod}: one raise, one restore`).to.equal(2);
      expect(calls[1].logging!.after).to.deep.equal(pod === CLIENT ? initial.client : initial.server);
    }
    expect(await readdir(path.join(stateDir, 'pending-restores')).catch(() => [])).to.deep.equal([]);
  });

  it('--read-only sends no POST at all (not even the read-only POST /logging) and still gives the verdict from the configuration', async () => {
    const result = await e2e.kubectl([...BASE, '--read-only', '--reproduce', 'curl -sv http://httpbin:8000/get', '-o', 'json'], { env });
    expect(result.exitCode, result.stderr).to.equal(3);
    const posts = e2e.cluster.journal.execs().filter((x) => x.exec!.command.includes('POST'));
    expect(posts).to.deep.equal([]);
    expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
    const report = JSON.parse(result.stdout);
    expect(report.data.capture).to.deep.include({ status: 'skipped' });
    expect(report.data.capture.reason).to.match(/^--read-only forbids changing log levels/);
    expect(report.findings[0].code).to.equal('MD3001');
    expect(levels()).to.deep.equal(initial);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} mid-capture restores every logger on both sidecars, then exits ${signal === 'SIGINT' ? 130 : 143}`, async () => {
      const child = e2e.spawnKubectl([...BASE, '--capture-for', '60s'], { env });
      const done = finished(child);
      await until('both sidecars raised', raised);
      child.kill(signal);
      const result = await done;
      expect(result.code, result.stderr).to.equal(signal === 'SIGINT' ? 130 : 143);
      expect(result.stderr).to.contain(signal === 'SIGINT' ? 'Interrupted: putting things back' : 'Terminated: putting things back');
      expect(levels()).to.deep.equal(initial);
      expect(await readdir(path.join(stateDir, 'pending-restores')).catch(() => [])).to.deep.equal([]);
    });
  }

  it('leaves a proxy that restarted mid-capture alone (its levels are its bootstrap levels) and restores the other', async () => {
    const child = e2e.spawnKubectl([...BASE, '--capture-for', '8s', '-o', 'json'], { env });
    const done = finished(child);
    await until('both sidecars raised', raised);
    // Restart once the proxy has been up a few seconds, so "started again" is unambiguous.
    await until('the server proxy up 4s', () => e2e.cluster.proxyUptimeSeconds(NS, SERVER) >= 4);
    e2e.cluster.restartProxy(NS, SERVER);
    const restartedAt = e2e.cluster.journal.entries.length;
    const result = await done;
    expect(result.code, result.stderr).to.equal(3);
    expect(levels().client).to.deep.equal(initial.client);
    expect(levels().server).to.deep.equal(e2e.cluster.bootstrapLevels(NS, SERVER));
    const afterRestart = e2e.cluster.journal.entries.slice(restartedAt).filter((x) => x.name === SERVER && x.logging?.mutation);
    expect(afterRestart, 'no level written to the restarted proxy').to.deep.equal([]);
    const report = JSON.parse(result.stdout);
    expect(report.data.capture.restores.join('\n')).to.match(/httpbin-94fdb8c79-h9zrq\.foo: Envoy on httpbin-94fdb8c79-h9zrq\.foo restarted/);
  });

  it('when one sidecar cannot be reached (RBAC on its pods/exec), the other is put back and the diagnosis goes on', async () => {
    e2e.cluster.setFaults({ forbidden: [{ verb: 'create', resource: 'pods/exec', namespace: NS, name: SERVER }] });
    const result = await e2e.kubectl([...BASE, '--capture-for', '1s', '-o', 'json'], { env });
    expect(result.exitCode, result.stderr).to.equal(3);
    expect(levels().client).to.deep.equal(initial.client);
    const report = JSON.parse(result.stdout);
    expect(report.data.capture.status).to.equal('failed');
    expect(report.data.capture.reason).to.match(/forbidden/);
    // The server's inbound listener was unreadable too; its PeerAuthentication still says STRICT.
    expect(report.data.servers[0]).to.include({ requires: 'mtls', basis: 'peer-authentication' });
    expect(report.findings[0].code).to.equal('MD3001');
    expect(await readdir(path.join(stateDir, 'pending-restores')).catch(() => [])).to.deep.equal([]);
  });

  it('after a hard kill mid-capture, `logging --restore` finishes the job from the journal', async () => {
    const child = e2e.spawnKubectl([...BASE, '--capture-for', '60s'], { env });
    const done = finished(child);
    await until('both sidecars raised', raised);
    child.kill('SIGKILL');
    await done;
    expect(levels().server.connection).to.equal('debug');
    expect((await readdir(path.join(stateDir, 'pending-restores'))).length).to.equal(2);
    const restore = await e2e.kubectl(['logging', '--restore', '-o', 'json'], { env });
    expect(restore.exitCode, restore.stderr).to.equal(0);
    expect(levels()).to.deep.equal(initial);
    expect(await readdir(path.join(stateDir, 'pending-restores'))).to.deep.equal([]);
  });
});
