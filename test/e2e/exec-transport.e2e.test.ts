import { expect } from 'chai';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MeshDoctorError } from '../../src/errors.js';
import { EXEC_USER_AGENT } from '../../src/sources/exec-transport.js';
import { LiveSource } from '../../src/sources/live.js';
import type { PodRef, ProxyArtifact } from '../../src/sources/source.js';
import { startTestCluster, type TestCluster } from '../cluster/server.js';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

const SEED003 = path.join(REPO_ROOT, 'test/fixtures/egress/seed003-istio-1.11-catch-all');
const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');
const SAMPLE: PodRef = { namespace: 'istio-demo', name: 'sample-c59f744df-8kq7m' };
const REVIEWS: PodRef = { namespace: 'bookinfo', name: 'reviews-v1-545db77b95-6xq4l' };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Pids of running processes whose environment points at this kubeconfig (every kubectl a run started inherits it). */
function processesUsing(kubeconfig: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (/\) Z /.test(stat)) continue; // a zombie waiting for its parent is not running
      if (environ.split('\0').includes(`KUBECONFIG=${kubeconfig}`)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

function proxyPid(stderr: string): number {
  const match = /started `kubectl proxy --unix-socket=\S+ .*` \(pid (\d+)\)/.exec(stderr);
  expect(match, `no proxy start line in:\n${stderr}`).to.not.equal(null);
  return Number(match![1]);
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function failure(promise: Promise<unknown>): Promise<MeshDoctorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(MeshDoctorError);
    return error as MeshDoctorError;
  }
  throw new Error('expected a failure');
}

describe('end to end through the real kubectl: execs through one kubectl proxy', function () {
  this.timeout(120_000);
  before(function () {
    requireKubectl(this);
  });

  describe('LiveSource: the proxy transport answers as kubectl exec does', () => {
    let cluster: TestCluster;
    let viaProxy: LiveSource;
    let viaExec: LiveSource;
    const open = (execTransport: 'proxy' | 'kubectl-exec', timeoutMs = 20_000) =>
      LiveSource.open({ kubeconfig: cluster.kubeconfigPath, timeoutMs, concurrency: 4, readOnly: false, execTransport });
    const proxyExecs = () => cluster.journal.execs().filter((e) => e.userAgent === EXEC_USER_AGENT);

    before(async () => {
      cluster = await startTestCluster({ snapshotDir: SEED003 });
      viaProxy = await open('proxy');
      viaExec = await open('kubectl-exec');
    });
    afterEach(() => cluster.setFaults({}));
    after(async () => {
      await viaProxy?.close();
      await viaExec?.close();
      await cluster?.stop();
    });

    it('admin GETs, POST /logging and the sockets: same text, same evidence source', async () => {
      // The snapshot has no `clusters` for this pod: the same failure both ways is part of the answer.
      const outcome = (p: Promise<unknown>) => p.then((value) => ({ value }), (error: MeshDoctorError) => ({ error: [error.kind, error.message] }));
      const artifacts: ProxyArtifact[] = ['config_dump', 'clusters', 'clusters.json', 'listeners', 'server_info', 'certs', 'stats', 'logging', 'netstat'];
      const before = proxyExecs().length;
      for (const artifact of artifacts) {
        const a = await outcome(viaProxy.proxy(SAMPLE, artifact));
        const b = await outcome(viaExec.proxy(SAMPLE, artifact));
        if (artifact === 'server_info') continue; // carries the uptime, which moves between two calls
        expect(a, artifact).to.deep.equal(b);
      }
      expect(proxyExecs().length - before).to.be.at.least(artifacts.length);
      expect((await viaProxy.admin(SAMPLE, 'GET', 'server_info')).source)
        .to.equal("kubectl exec sample-c59f744df-8kq7m -n istio-demo -c istio-proxy -- pilot-agent request GET server_info");
    });

    it('POST /logging?paths= changes levels the same way, and reads them back', async () => {
      const raised = await viaProxy.admin(REVIEWS, 'POST', 'logging?paths=connection:debug');
      expect(raised.text).to.match(/connection: debug/);
      expect(cluster.currentLevels('bookinfo', 'reviews-v1-545db77b95-6xq4l').connection).to.equal('debug');
      const restored = await viaProxy.admin(REVIEWS, 'POST', `logging?paths=connection:${cluster.bootstrapLevels('bookinfo', 'reviews-v1-545db77b95-6xq4l').connection}`);
      expect(restored.text).to.equal((await viaExec.admin(REVIEWS, 'POST', 'logging')).text);
    });

    // check reads every sidecar's access log: one `kubectl logs` process per pod cost
    // more than the exec itself (check -A over 1000 pods at 3.8x the ideal).
    it('container logs: the same text and evidence source as kubectl logs, through the proxy', async () => {
      const options = { tail: 5 };
      const before = cluster.journal.entries.length;
      const a = await viaProxy.containerLog(SAMPLE, 'istio-proxy', options);
      const logReads = cluster.journal.entries.slice(before).filter((e) => e.subresource === 'log');
      expect(logReads.map((e) => e.userAgent)).to.deep.equal([EXEC_USER_AGENT]);
      expect(logReads[0].query.tailLines).to.deep.equal(['5']);
      expect(a).to.deep.equal(await viaExec.containerLog(SAMPLE, 'istio-proxy', options));
      expect(a?.source).to.match(/^kubectl .*logs sample-c59f744df-8kq7m -n istio-demo -c istio-proxy --tail=5$/);
      // An error is kubectl's own: the proxy's answer is not used for it.
      const missing = { namespace: 'istio-demo', name: 'nobody' };
      const errors = await Promise.all([viaProxy, viaExec].map((s) => failure(s.containerLog(missing, 'istio-proxy'))));
      expect(errors[0].message).to.equal(errors[1].message);
    });

    it('a command\'s non-zero exit is the same evidence (stdout, stderr with kubectl\'s line, exit code)', async () => {
      const argv = ['curl', '-sv', 'https://baidu.com'];
      const a = await viaProxy.run(REVIEWS, 'reviews', argv);
      expect(a.exitCode).to.equal(35);
      expect(a.stderr).to.match(/command terminated with exit code 35\n$/);
      expect(a).to.deep.equal(await viaExec.run(REVIEWS, 'reviews', argv));
    });

    it('failures are the same errors: forbidden, pod not found, container not in the pod, missing executable', async () => {
      cluster.setFaults({ forbidden: [{ verb: 'create', resource: 'pods/exec' }] });
      const forbidden = await failure(viaProxy.admin(SAMPLE, 'GET', 'listeners'));
      expect(forbidden.kind).to.equal('forbidden');
      expect(forbidden.message).to.match(/your user may not create pods\/exec in namespace istio-demo/);
      const direct = await failure(viaExec.admin(SAMPLE, 'GET', 'listeners'));
      expect([forbidden.kind, forbidden.message, forbidden.suggestion]).to.deep.equal([direct.kind, direct.message, direct.suggestion]);
      cluster.setFaults({});
      const nope = { namespace: 'istio-demo', name: 'nope' };
      for (const call of [
        (s: LiveSource) => s.admin(nope, 'GET', 'listeners'),
        (s: LiveSource) => s.run(SAMPLE, 'no-such-container', ['true']),
        (s: LiveSource) => s.run(SAMPLE, 'istio-proxy', ['no-such-tool']),
      ]) {
        const a = await failure(call(viaProxy));
        const b = await failure(call(viaExec));
        expect([a.kind, a.message, a.suggestion]).to.deep.equal([b.kind, b.message, b.suggestion]);
      }
      // Still the proxy: answers from the API server are not transport failures.
      expect((viaProxy as unknown as { transport: { active: boolean } }).transport.active).to.equal(true);
    });

    it('an exec that never answers hits the per-call timeout with kubectl\'s words', async () => {
      const quick = await open('proxy', 1500);
      const quickExec = await open('kubectl-exec', 1500);
      try {
        cluster.setFaults({ execHang: [{ match: 'server_info' }] });
        const started = Date.now();
        const a = await failure(quick.admin(SAMPLE, 'GET', 'server_info'));
        expect(Date.now() - started).to.be.below(8000);
        expect(a.kind).to.equal('timeout');
        const b = await failure(quickExec.admin(SAMPLE, 'GET', 'server_info'));
        expect(a.message).to.equal(b.message);
      } finally {
        await quick.close();
        await quickExec.close();
      }
    });

    it('close() stops kubectl proxy and removes its socket directory', async () => {
      const session = await open('proxy');
      await session.admin(SAMPLE, 'GET', 'server_info');
      const transport = (session as unknown as { transport: { pid?: number; dir?: string } }).transport;
      const pid = transport.pid!;
      const dir = transport.dir!;
      expect(alive(pid)).to.equal(true);
      expect(existsSync(path.join(dir, 'kube.sock'))).to.equal(true);
      await session.close();
      expect(alive(pid)).to.equal(false);
      expect(existsSync(dir)).to.equal(false);
    });
  });

  describe('the CLI', () => {
    let e2e: E2E;
    let wrapperDir: string;
    before(async () => {
      e2e = await startE2E({ snapshotDir: TWO_PODS });
      // A kubectl that refuses `proxy` (an old or locked-down kubectl), and the plugin beside it.
      wrapperDir = await mkdtemp(path.join(tmpdir(), 'md-noproxy-'));
      const real = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'kubectl')).find((f) => existsSync(f))!;
      await writeFile(path.join(wrapperDir, 'kubectl'), `#!/bin/sh\nfor a in "$@"; do [ "$a" = proxy ] && { echo 'error: unknown command "proxy" for "kubectl"' >&2; exit 1; }; done\nexec "${real}" "$@"\n`);
      await writeFile(path.join(wrapperDir, 'kubectl-mesh_doctor'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'bin/dev.js')}" "$@"\n`);
      await chmod(path.join(wrapperDir, 'kubectl'), 0o755);
      await chmod(path.join(wrapperDir, 'kubectl-mesh_doctor'), 0o755);
    });
    afterEach(() => e2e.cluster.setFaults({}));
    after(async () => {
      await e2e?.stop();
      if (wrapperDir) await rm(wrapperDir, { recursive: true, force: true });
    });
    const noProxy = () => ({ PATH: `${wrapperDir}${path.delimiter}${process.env.PATH}` });

    it('starts one kubectl proxy, sends the execs through it, and leaves no process behind', async () => {
      const before = e2e.cluster.journal.execs().length;
      const r = await e2e.kubectl(['logging', 'cart-5d9f.shop', '--verbose', '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(0);
      const pid = proxyPid(r.stderr);
      expect(r.stderr).to.contain("$ kubectl exec cart-5d9f -n shop -c istio-proxy -- pilot-agent request POST logging");
      expect(r.stderr).to.contain("'--accept-paths=^/api/v1/namespaces/[^/]+/pods/[^/]+/(exec|log)$' '--reject-paths=^/api/.*/pods/.*/attach'");
      const execs = e2e.cluster.journal.execs().slice(before);
      expect(execs.length).to.be.at.least(1);
      expect(execs.every((e) => e.userAgent === EXEC_USER_AGENT)).to.equal(true);
      expect(alive(pid)).to.equal(false);
      expect(processesUsing(e2e.cluster.kubeconfigPath)).to.deep.equal([]);
      expect(JSON.parse(r.stdout).data.levels).to.deep.include({ logger: 'http', level: 'debug' });
    });

    it('falls back to kubectl exec when kubectl proxy cannot start: same answer, silent unless --verbose', async () => {
      const viaProxy = await e2e.kubectl(['logging', 'cart-5d9f.shop', '-o', 'json']);
      const before = e2e.cluster.journal.execs().length;
      const fallback = await e2e.kubectl(['logging', 'cart-5d9f.shop', '-o', 'json'], { env: noProxy() });
      expect(fallback.exitCode, fallback.stderr).to.equal(0);
      expect(fallback.stderr).to.equal('');
      expect(JSON.parse(fallback.stdout).data).to.deep.equal(JSON.parse(viaProxy.stdout).data);
      const execs = e2e.cluster.journal.execs().slice(before);
      expect(execs.length).to.be.at.least(1);
      expect(execs.some((e) => e.userAgent === EXEC_USER_AGENT)).to.equal(false);
      const verbose = await e2e.kubectl(['logging', 'cart-5d9f.shop', '--verbose'], { env: noProxy() });
      expect(verbose.exitCode, verbose.stderr).to.equal(0);
      expect(verbose.stderr).to.match(/kubectl proxy did not start \(it exited \(code 1\): error: unknown command "proxy".*\); using one `kubectl exec` per call/);
      expect(processesUsing(e2e.cluster.kubeconfigPath)).to.deep.equal([]);
    });

    it('exec forbidden: the same one-line error through the proxy as through kubectl exec', async () => {
      e2e.cluster.setFaults({ forbidden: [{ verb: 'create', resource: 'pods/exec' }] });
      const a = await e2e.kubectl(['logging', 'cart-5d9f.shop']);
      const b = await e2e.kubectl(['logging', 'cart-5d9f.shop'], { env: noProxy() });
      expect(a.exitCode).to.equal(1);
      expect(a.stderr).to.match(/^Error: .*forbidden: your user may not create pods\/exec in namespace shop/);
      expect(a.stderr).to.equal(b.stderr);
      expect(b.exitCode).to.equal(1);
    });

    it('an exec that hangs ends at --timeout, and the proxy is gone', async () => {
      e2e.cluster.setFaults({ execHang: [{}] });
      const started = Date.now();
      const r = await e2e.kubectl(['logging', 'cart-5d9f.shop', '--timeout', '2s', '--verbose']);
      expect(r.exitCode).to.equal(1);
      expect(r.stderr).to.match(/^Error: .*`kubectl exec cart-5d9f -n shop -c istio-proxy -- pilot-agent request POST logging` did not finish within 2s/m);
      expect(Date.now() - started).to.be.below(20_000);
      expect(alive(proxyPid(r.stderr))).to.equal(false);
      expect(processesUsing(e2e.cluster.kubeconfigPath)).to.deep.equal([]);
    });

    it('SIGINT mid-exec: the run stops and kubectl proxy is killed', async () => {
      e2e.cluster.setFaults({ execHang: [{}] });
      const child = e2e.spawnKubectl(['logging', 'cart-5d9f.shop', '--verbose', '--timeout', '60s']);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await until('an exec in flight through the proxy', () => /\(pid \d+\)/.test(stderr) && e2e.cluster.journal.execs().some((e) => e.exec?.outcome === 'hung' && e.userAgent === EXEC_USER_AGENT));
      const pid = proxyPid(stderr);
      expect(alive(pid)).to.equal(true);
      child.kill('SIGINT'); // the plugin's own pid (kubectl execs plugins): our handler, not a terminal's group signal
      expect(await exited).to.equal(130);
      expect(stderr).to.contain('Interrupted: putting things back before exiting...');
      await until('kubectl proxy to exit', () => !alive(pid), 5000);
      expect(processesUsing(e2e.cluster.kubeconfigPath)).to.deep.equal([]);
    });

    it('a hard kill (SIGKILL) of mesh-doctor still takes kubectl proxy and its socket directory with it', async () => {
      e2e.cluster.setFaults({ execHang: [{}] });
      const child = e2e.spawnKubectl(['logging', 'cart-5d9f.shop', '--verbose', '--timeout', '60s']);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await until('an exec in flight through the proxy', () => /\(pid \d+\)/.test(stderr) && e2e.cluster.journal.execs().some((e) => e.exec?.outcome === 'hung' && e.userAgent === EXEC_USER_AGENT));
      const pid = proxyPid(stderr);
      const dir = path.dirname(/--unix-socket=(\S+)/.exec(stderr)![1]);
      expect(existsSync(dir)).to.equal(true);
      child.kill('SIGKILL');
      await exited;
      await until('kubectl proxy to exit', () => !alive(pid), 10_000);
      await until('every process of the run to exit', () => processesUsing(e2e.cluster.kubeconfigPath).length === 0, 10_000);
      await until('the socket directory to go', () => !existsSync(dir), 5000);
    });

    it('--read-only still sends no POST (a snapshot through the proxy)', async () => {
      const out = await mkdtemp(path.join(tmpdir(), 'md-ro-'));
      try {
        const seq = e2e.cluster.journal.entries.length;
        const r = await e2e.kubectl(['snapshot', '-n', 'shop', '--read-only', '--out', path.join(out, 's')]);
        expect(r.exitCode, r.stderr).to.equal(0);
        const execs = e2e.cluster.journal.entries.slice(seq).filter((e) => e.kind === 'exec');
        expect(execs.some((e) => e.userAgent === EXEC_USER_AGENT)).to.equal(true);
        expect(execs.filter((e) => e.exec?.command.includes('POST') || e.logging)).to.deep.equal([]);
        expect(e2e.cluster.journal.mutations().filter((e) => e.seq > seq)).to.deep.equal([]);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  });
});
