import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessLines, eventually, realLevels, useLab } from './support.js';

/**
 * Seed 004 on real Envoys: a DestinationRule with tls.mode DISABLE in front of
 * a STRICT server. Real traffic from the sleep pod, then the live diagnosis
 * through the real kubectl, its log-level capture restored exactly on the real
 * Envoys (normal end, SIGINT, SIGTERM, a proxy restart), --read-only, and a
 * snapshot diagnosed offline with the same verdict.
 */
const NS = 'foo';
const CLIENT = 'sleep-5b597748b4-77kj5';
const SERVER = 'httpbin-94fdb8c79-h9zrq';
const BASE = ['why-503', `${CLIENT}.${NS}`, '--to', 'httpbin:8000'];
const CURL = 'curl -sS -v http://httpbin:8000/headers';

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => { stdout += String(d); });
  child.stderr?.on('data', (d) => { stderr += String(d); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const culprits = (report: any) => report.findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

describe('mesh lab: seed 004, DestinationRule tls DISABLE against STRICT (real Envoy)', function () {
  this.timeout(120_000);
  const s = useLab('seed004-dr-tls-disable');
  let stateDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'md-lab-state-'));
    env = { MESH_DOCTOR_STATE_DIR: stateDir };
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('real traffic: 503 UC at the client, NR filter_chain_not_found at the server (no TLS error there)', async () => {
    const client = s.lab.pod(NS, CLIENT);
    const server = s.lab.pod(NS, SERVER);
    const mark = [s.lab.log(client, 'istio-proxy').length, s.lab.log(server, 'istio-proxy').length];
    const curl = await s.lab.exec(client, 'sleep', CURL.split(' '));
    expect(curl.stderr).to.contain('< HTTP/1.1 503 Service Unavailable');
    expect(curl.stdout).to.contain('reset reason: connection termination');
    await eventually('both access-log lines', async () => accessLines(s.lab, client, mark[0]).length > 0 && accessLines(s.lab, server, mark[1]).length > 0);
    expect(accessLines(s.lab, client, mark[0])[0]).to.match(/" 503 UC upstream_reset_before_response_started\{connection_termination\} .* outbound\|8000\|\|httpbin\.foo\.svc\.cluster\.local 172\.17\.0\.13:\d+ 10\.105\.235\.142:8000 /);
    expect(accessLines(s.lab, server, mark[1])[0]).to.match(/"- - -" 0 NR filter_chain_not_found .* 172\.17\.0\.14:8080 172\.17\.0\.13:\d+ - -$/);
  });

  it('live through the real kubectl: MD3001 blames DestinationRule foo/httpbin; every logger restored exactly on both real Envoys', async () => {
    const client = s.lab.pod(NS, CLIENT);
    const server = s.lab.pod(NS, SERVER);
    // Uneven levels first, so "restored" means each logger, not one level for all.
    await s.lab.admin(client, 'POST', 'logging?paths=http:debug,router:info');
    const before = { client: await realLevels(s.lab, client), server: await realLevels(s.lab, server) };
    const result = await s.e2e.kubectl([...BASE, '--reproduce', CURL, '--capture-for', '2s', '-o', 'json'], { env });
    expect(result.exitCode, result.stderr).to.equal(3);
    const report = JSON.parse(result.stdout);
    expect(culprits(report)).to.include('MD3001 DestinationRule foo/httpbin');
    expect(report.data.capture.status).to.equal('done');
    expect(report.data.correlations.length, 'the captured client and server lines were joined').to.be.greaterThan(0);
    // A real sidecar's /stats has no per-cluster counters under Istio's stats matcher: "not collected", never "zero".
    expect(report.steps.flatMap((st: any) => st.saw).join('\n')).to.match(/upstream_rq_pending_overflow.*: absent because Istio's default stats matcher drops per-cluster stats/);
    expect(await realLevels(s.lab, client)).to.deep.equal(before.client);
    expect(await realLevels(s.lab, server)).to.deep.equal(before.server);
    expect(await readdir(path.join(stateDir, 'pending-restores')).catch(() => [])).to.deep.equal([]);
    await s.lab.admin(client, 'POST', 'logging?level=warning');
  });

  it('--read-only changes nothing on the real Envoys and still names the culprit', async () => {
    const client = s.lab.pod(NS, CLIENT);
    const before = await realLevels(s.lab, client);
    s.e2e.cluster.journal.clear();
    const result = await s.e2e.kubectl([...BASE, '--read-only', '--reproduce', CURL, '-o', 'json'], { env });
    expect(result.exitCode, result.stderr).to.equal(3);
    expect(culprits(JSON.parse(result.stdout))).to.include('MD3001 DestinationRule foo/httpbin');
    expect(s.e2e.cluster.journal.execs().filter((x) => x.exec!.command.includes('POST'))).to.deep.equal([]);
    expect(await realLevels(s.lab, client)).to.deep.equal(before);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} mid-capture puts every logger back on both real Envoys`, async () => {
      const client = s.lab.pod(NS, CLIENT);
      const server = s.lab.pod(NS, SERVER);
      const before = { client: await realLevels(s.lab, client), server: await realLevels(s.lab, server) };
      const child = s.e2e.spawnKubectl([...BASE, '--capture-for', '60s'], { env });
      const done = finished(child);
      await eventually('both sidecars raised', async () => (await realLevels(s.lab, client)).connection === 'debug' && (await realLevels(s.lab, server)).connection === 'debug');
      child.kill(signal);
      const result = await done;
      expect(result.code, result.stderr).to.equal(signal === 'SIGINT' ? 130 : 143);
      expect(await realLevels(s.lab, client)).to.deep.equal(before.client);
      expect(await realLevels(s.lab, server)).to.deep.equal(before.server);
    });
  }

  it('a real Envoy restarted mid-capture is left at its bootstrap levels; the other is restored', async () => {
    const client = s.lab.pod(NS, CLIENT);
    const server = s.lab.pod(NS, SERVER);
    const before = await realLevels(s.lab, client);
    const child = s.e2e.spawnKubectl([...BASE, '--capture-for', '6s', '-o', 'json'], { env });
    const done = finished(child);
    await eventually('the server raised', async () => (await realLevels(s.lab, server)).connection === 'debug');
    // Envoy's uptime counts whole seconds: let it pass one, so "started again" is unambiguous.
    await new Promise((r) => setTimeout(r, 1500));
    await s.lab.restartEnvoy(server);
    const fresh = await realLevels(s.lab, server);
    const result = await done;
    expect(result.code, result.stderr).to.equal(3);
    expect(await realLevels(s.lab, client)).to.deep.equal(before);
    expect(await realLevels(s.lab, server), 'nothing written to the restarted Envoy').to.deep.equal(fresh);
    expect(JSON.parse(result.stdout).data.capture.restores.join('\n')).to.match(/restarted/);
  });

  it('snapshot of the lab pods, then the offline diagnosis: the same culprit as live', async () => {
    const out = path.join(stateDir, 'lab.tar.gz');
    const snap = await s.e2e.kubectl(['snapshot', `${CLIENT}.${NS}`, `${SERVER}.${NS}`, '--out', out], { env });
    expect(snap.exitCode, snap.stderr).to.equal(0);
    const offline = await s.e2e.kubectl([...BASE, '--from', out, '-o', 'json'], { env });
    expect(offline.exitCode, offline.stderr).to.equal(3);
    expect(culprits(JSON.parse(offline.stdout))).to.include('MD3001 DestinationRule foo/httpbin');
  });
});

describe('mesh lab: seed 004 healthy twin, ISTIO_MUTUAL (real mutual TLS)', function () {
  this.timeout(120_000);
  const s = useLab('seed004-dr-tls-disable-healthy');

  it('real traffic: 200 over mutual TLS; the server saw the client\'s SPIFFE identity and the app sees 127.0.0.6', async () => {
    const curl = await s.lab.exec(s.lab.pod(NS, CLIENT), 'sleep', CURL.split(' '));
    expect(curl.stderr).to.contain('< HTTP/1.1 200 OK');
    const seen = JSON.parse(curl.stdout);
    expect(seen.headers['x-forwarded-client-cert']).to.match(/^By=spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin;.*URI=spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep$/);
    expect(seen.peer).to.match(/^127\.0\.0\.6:/);
  });

  it('live through the real kubectl: no error finding, exit 0', async () => {
    const result = await s.e2e.kubectl([...BASE, '--reproduce', CURL, '--capture-for', '1s', '-o', 'json']);
    expect(result.exitCode, result.stderr + result.stdout.slice(0, 2000)).to.equal(0);
    expect(culprits(JSON.parse(result.stdout))).to.deep.equal([]);
  });
});
