// `mesh-doctor snapshot` run as a subprocess (node bin/dev.js), for its exit
// codes and what it leaves on disk; end to end through the real kubectl
// against the test cluster (test/cluster) when kubectl is on PATH.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LiveSource } from '../../src/sources/live.js';
import { SnapshotSource } from '../../src/sources/snapshot.js';
import { PROXY_ARTIFACTS, type EvidenceSource } from '../../src/sources/source.js';
import { redactText } from '../../src/snapshot/redact.js';
import { startTestCluster, type TestCluster } from '../cluster/server.js';
import { kubectlAvailable } from '../cluster/kubectl.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..', '..');
const BIN = path.join(ROOT, 'bin', 'dev.js');
const FIXTURE = path.join(ROOT, 'test', 'cluster', 'fixtures', 'basic');
const REAL_DUMP = path.join(ROOT, '..', 'shared', 'data', 'real-config-dumps', 'istio-1.20.8-hello-openshift.config_dump.json');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { env?: Record<string, string>; cwd?: string; onSpawn?: (child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'snapshot', ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

function expectNoStack(r: Run): void {
  expect(r.stderr).not.to.match(/^\s+at /m);
  expect(r.stdout).not.to.match(/^\s+at /m);
}

describe('mesh-doctor snapshot (subprocess)', function () {
  this.timeout(60_000);
  let parent: string;

  beforeEach(() => {
    parent = mkdtempSync(path.join(tmpdir(), 'md-snap-cmd-'));
  });
  afterEach(() => {
    rmSync(parent, { recursive: true, force: true });
  });

  it('refuses an existing non-empty --out without --force: exit 2, nothing touched', async () => {
    const out = path.join(parent, 'existing');
    mkdirSync(out);
    writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const r = await run(['--from', FIXTURE, '-A', '--out', out]);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr.split('\n')[0]).to.equal(`Error: ${out} already exists and is not empty`);
    expectNoStack(r);
    expect(readdirSync(out)).to.deep.equal(['keep.txt']);
    expect(readdirSync(parent)).to.deep.equal(['existing']);
  });

  it('says the same with --json, on stdout, exit 2', async () => {
    const out = path.join(parent, 'x.tar.gz');
    writeFileSync(out, 'old');
    const r = await run(['--from', FIXTURE, '--out', out, '--json']);
    expect(r.code).to.equal(2);
    const json = JSON.parse(r.stdout);
    expect(json.error).to.include({ kind: 'usage', exitCode: 2 });
    expect(readFileSync(out, 'utf8')).to.equal('old');
  });

  it('refuses a label selector it cannot read: exit 2', async () => {
    const r = await run(['--from', FIXTURE, '-l', 'app in x', '--out', path.join(parent, 's')]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^Error: cannot read the label selector/);
    expect(readdirSync(parent)).to.deep.equal([]);
  });

  it('fails with exit 1 and one error line when the cluster does not answer, leaving nothing behind', async () => {
    const kubeconfig = path.join(parent, 'kubeconfig');
    // A port nobody listens on: connection refused at once.
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: closed',
      'clusters: [{name: closed, cluster: {server: "https://127.0.0.1:9"}}]',
      'contexts: [{name: closed, context: {cluster: closed, user: u, namespace: foo}}]',
      'users: [{name: u, user: {token: not-a-real-token}}]', '',
    ].join('\n'));
    const outDir = path.join(parent, 'out');
    mkdirSync(outDir);
    const r = await run(['--kubeconfig', kubeconfig, '--out', path.join(outDir, 'snap.tar.gz')], { env: { KUBECACHEDIR: path.join(parent, 'cache') } });
    expect(r.code, r.stderr).to.equal(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^Error: nothing could be captured: .*the cluster does not answer/);
    expectNoStack(r);
    expect(r.stdout).to.equal('');
    expect(readdirSync(outDir)).to.deep.equal([]);
  });

  it('re-writes a snapshot offline (--from), redacted, and reports it with -o json', async () => {
    const out = path.join(parent, 'copy');
    const r = await run(['--from', FIXTURE, '-A', '--out', out, '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report).to.include({ schema: 'mesh-doctor.report/v1', command: 'snapshot' });
    expect(report.data.out).to.equal(out);
    expect(report.data.format).to.equal('directory');
    expect(report.data.pods.map((p: { name: string }) => p.name)).to.include('sleep-7f9c8d6b5-x2k4p');
    expect(report.verdict.summary).to.match(/^snapshot written to /);
    // -o json on a pipe: no progress lines
    expect(r.stderr).not.to.match(/^\[\d+\/\d+\]/m);
    await expectSameEvidence(await SnapshotSource.open(FIXTURE), await SnapshotSource.open(out));
  });
});

/** Pods and every proxy artifact and log of the pods with a sidecar are the same (after redaction). */
async function expectSameEvidence(original: EvidenceSource, copy: EvidenceSource, options: { skip?: string[] } = {}): Promise<void> {
  try {
    const key = (p: { namespace: string; name: string; hasSidecar: boolean }) => `${p.namespace}/${p.name}/${p.hasSidecar}`;
    const pods = (await original.pods()).map(key).sort();
    expect((await copy.pods()).map(key).sort()).to.deep.equal(pods);
    for (const pod of (await original.pods()).filter((p) => p.hasSidecar)) {
      for (const artifact of PROXY_ARTIFACTS) {
        if (options.skip?.includes(artifact)) continue;
        const a = await original.proxy(pod, artifact).catch(() => undefined);
        const b = await copy.proxy(pod, artifact);
        expect(b?.text, `${pod.name} ${artifact}`).to.equal(a === undefined ? undefined : redactText(a.text).text);
      }
      for (const container of ['istio-proxy', ...pod.initContainers.filter((c) => c === 'istio-init')]) {
        const a = await original.containerLog(pod, container).catch(() => undefined);
        const b = await copy.containerLog(pod, container);
        expect(b?.text, `${pod.name} ${container}.log`).to.equal(a === undefined ? undefined : redactText(a.text).text);
      }
    }
  } finally {
    await original.close();
    await copy.close();
  }
}

describe('mesh-doctor snapshot end to end (real kubectl, test cluster)', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let parent: string;

  before(function () {
    if (!kubectlAvailable()) {
      // eslint-disable-next-line no-console
      console.log('    kubectl is not on PATH: skipping the end-to-end snapshot tests');
      this.skip();
    }
  });
  beforeEach(() => {
    parent = mkdtempSync(path.join(tmpdir(), 'md-snap-e2e-'));
  });
  afterEach(async () => {
    await cluster?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  const args = () => ['--kubeconfig', cluster.kubeconfigPath];
  const env = () => cluster.env;

  it('snapshots every sidecar through kubectl into a .tar.gz that reads back as the cluster, changing nothing', async () => {
    cluster = await startTestCluster({ snapshotDir: FIXTURE });
    const out = path.join(parent, 'incident.tar.gz');
    const r = await run([...args(), '-A', '--out', out], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/snapshot written to .*incident\.tar\.gz: 2 of 2 pods captured/);
    expect(r.stderr).to.match(/^\[1\/2\] /m); // plain progress lines when stderr is not a terminal
    expect(readdirSync(parent)).to.deep.equal(['incident.tar.gz']);
    expect(statSync(out).mode & 0o777).to.equal(0o600);
    // Read-only: the only admin POST is /logging without a query, which changes nothing.
    expect(cluster.journal.mutations()).to.deep.equal([]);
    expect(cluster.journal.loggingCalls().every((e) => e.logging?.query === '' && !e.logging.mutation)).to.equal(true);

    const live = await LiveSource.open({ kubeconfig: cluster.kubeconfigPath, timeoutMs: 20_000, concurrency: 4, readOnly: false });
    // server_info carries the uptime, which moves between two calls.
    await expectSameEvidence(live, await SnapshotSource.open(out), { skip: ['server_info'] });

    const snapshot = await SnapshotSource.open(out);
    try {
      const meta = JSON.parse((await snapshot.read('meta.json'))!);
      expect(meta.source).to.include({ mode: 'live', context: cluster.contextName });
      expect(meta.kubectl.server).to.equal('v1.32.4');
      expect(meta.pods.map((p: { name: string; files: string[] }) => [p.name, p.files.includes('server_info')])).to.deep.equal([
        ['httpbin-6d8f7c5b9-abcde', true], ['sleep-7f9c8d6b5-x2k4p', true],
      ]);
      expect((await snapshot.versions())?.text).to.contain('kubernetes server version: v1.32.4');
    } finally {
      await snapshot.close();
    }
  });

  it('with --read-only sends no POST /logging at all', async () => {
    cluster = await startTestCluster({ snapshotDir: FIXTURE });
    const r = await run([...args(), '-n', 'foo', '--read-only', '--out', path.join(parent, 's')], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    expect(cluster.journal.loggingCalls()).to.deep.equal([]);
    expect(existsSync(path.join(parent, 's', 'proxies', 'foo', 'sleep-7f9c8d6b5-x2k4p', 'logging'))).to.equal(false);
  });

  it('records pods whose exec is forbidden, keeps their logs, exit 0', async () => {
    cluster = await startTestCluster({ snapshotDir: FIXTURE, faults: { forbidden: [{ verb: 'create', resource: 'pods/exec', namespace: 'foo', name: 'sleep-7f9c8d6b5-x2k4p' }] } });
    const out = path.join(parent, 's');
    const r = await run([...args(), '-n', 'foo', '--out', out, '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    const sleep = report.data.pods.find((p: { name: string }) => p.name === 'sleep-7f9c8d6b5-x2k4p');
    expect(sleep.status).to.equal('partial');
    expect(sleep.error).to.match(/forbidden/i);
    expect(sleep.files).to.deep.equal(['istio-proxy.log', 'istio-init.log']);
    expect(report.data.pods.find((p: { name: string }) => p.name === 'httpbin-6d8f7c5b9-abcde').files).to.include('server_info');
    expect(r.stderr).to.match(/^warning: \d of 2 pods not fully captured \(.*sleep-7f9c8d6b5-x2k4p\.foo partial.*\); the reasons are in meta\.json$/m);
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    expect(meta.pods.find((p: { name: string }) => p.name === 'sleep-7f9c8d6b5-x2k4p').error).to.equal(sleep.error);
  });

  it('exits 1 and writes nothing when no selected pod can be captured', async () => {
    cluster = await startTestCluster({ snapshotDir: FIXTURE });
    const out = path.join(parent, 's.tar.gz');
    const r = await run([...args(), 'no-such-pod.foo', '--out', out], { env: env() });
    expect(r.code, r.stderr).to.equal(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^Error: nothing could be captured: .*no-such-pod/);
    expectNoStack(r);
    expect(readdirSync(parent)).to.deep.equal([]);
  });

  it('carries a real config dump (with its secrets section) through kubectl exec unchanged', async function () {
    if (!existsSync(REAL_DUMP)) {
      // eslint-disable-next-line no-console
      console.log('    ../shared/data/real-config-dumps is absent: skipping');
      this.skip();
    }
    const served = path.join(parent, 'served');
    cpSync(FIXTURE, served, { recursive: true });
    const dump = readFileSync(REAL_DUMP, 'utf8');
    writeFileSync(path.join(served, 'proxies', 'foo', 'sleep-7f9c8d6b5-x2k4p', 'config_dump?include_eds'), dump);
    cluster = await startTestCluster({ snapshotDir: served });
    const out = path.join(parent, 'out');
    const r = await run([...args(), 'sleep-7f9c8d6b5-x2k4p.foo', '--out', out, '--json'], { env: env() });
    expect(r.code, r.stderr).to.equal(0);
    const written = readFileSync(path.join(out, 'proxies', 'foo', 'sleep-7f9c8d6b5-x2k4p', 'config_dump'), 'utf8');
    // What kubectl hands over (the emulator re-serialises the JSON), byte for byte...
    const live = await LiveSource.open({ kubeconfig: cluster.kubeconfigPath, timeoutMs: 20_000, concurrency: 2, readOnly: true });
    try {
      expect(written).to.equal((await live.proxy({ namespace: 'foo', name: 'sleep-7f9c8d6b5-x2k4p' }, 'config_dump'))?.text);
    } finally {
      await live.close();
    }
    // ...and the same document: Envoy redacted its private keys already, so nothing was redacted.
    expect(JSON.parse(written)).to.deep.equal(JSON.parse(dump));
    expect(JSON.parse(r.stdout).data.redactions).to.deep.equal({});
  });

  it('leaves nothing behind when interrupted with Ctrl-C (exit 130)', async () => {
    cluster = await startTestCluster({ snapshotDir: FIXTURE, faults: { execLatencyMs: 1500 } });
    const out = path.join(parent, 's.tar.gz');
    const r = await run([...args(), '-A', '--out', out], {
      env: env(),
      onSpawn: (child) => {
        const timer = setInterval(() => {
          // Interrupt once the first exec reached the cluster: the staging folder exists by then.
          if (cluster.journal.execs().length > 0 && readdirSync(parent).length > 0) {
            clearInterval(timer);
            child.kill('SIGINT');
          }
        }, 50);
        child.on('close', () => clearInterval(timer));
      },
    });
    expect(r.code, r.stderr).to.equal(130);
    expect(r.stderr).to.match(/Interrupted/);
    expect(readdirSync(parent)).to.deep.equal([]);
  });
});
