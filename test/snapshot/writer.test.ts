import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { list as listTar } from 'tar';
import { MeshDoctorError } from '../../src/errors.js';
import { runCleanups } from '../../src/lifecycle.js';
import { parseKubeObjects } from '../../src/model/k8s/resources.js';
import { takeSnapshot, type SnapshotResult, type TakeSnapshotOptions } from '../../src/snapshot/index.js';
import { resolveTarget } from '../../src/snapshot/writer.js';
import { SnapshotSource, writtenName } from '../../src/sources/snapshot.js';
import { PROXY_ARTIFACTS } from '../../src/sources/source.js';
import { allArtifacts, FakeSource, JWT, pod, PRIVATE_KEY, type FakeOptions } from './fake-source.js';

const PEM_MARKER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

function objects() {
  return [
    pod('foo', 'sleep-1'),
    pod('foo', 'httpbin-1', { init: false }),
    pod('bar', 'web-1'),
    pod('foo', 'nosidecar-1', { sidecar: false }),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin', namespace: 'foo' }, spec: { ports: [{ port: 8000 }] } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'accessLogFile: /dev/stdout' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'foo' }, data: { 'kubeconfig': 'users:\n- name: u\n  user:\n    token: sha256~s3cr3t\n' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: 'other' }, data: { x: 'y' } },
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'ext', namespace: 'foo' }, spec: { hosts: ['example.com'] } },
    { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'istio-system' }, spec: { mtls: { mode: 'STRICT' } } },
  ];
}

function fakeOptions(extra: Partial<FakeOptions> = {}): FakeOptions {
  return {
    objects: objects(),
    artifacts: {
      'foo/sleep-1': allArtifacts('sleep-1', { config_dump: JSON.stringify({ configs: [{ private_key: { inline_string: PRIVATE_KEY } }] }, null, 2) }),
      'foo/httpbin-1': allArtifacts('httpbin-1', { netstat: undefined }),
      'bar/web-1': allArtifacts('web-1'),
    },
    logs: {
      'foo/sleep-1': { 'istio-proxy': `[2026-01-01T00:00:00.000Z] "GET / HTTP/1.1" 200 authorization: Bearer ${JWT}\n`, 'istio-init': 'iptables -t nat -A ISTIO_OUTPUT\n' },
      'foo/httpbin-1': { 'istio-proxy': 'log line\n' },
      'bar/web-1': { 'istio-proxy': 'web log\n', 'istio-init': 'init\n' },
    },
    ...extra,
  };
}

const environment = { tool: { name: 'mesh-doctor', version: '0.1.0-test' }, kube: { context: 'fake', cluster: 'fake', user: 'me' }, kubectl: { client: 'v1.32.4', server: 'v1.32.4' }, flags: { namespace: 'foo' } };

function options(out: string, extra: Partial<TakeSnapshotOptions> = {}): TakeSnapshotOptions {
  return { target: resolveTarget(out), force: false, selection: { pods: [], namespaces: ['foo'] }, readOnly: false, environment, ...extra };
}

/** Every path under dir, relative, with its mode. */
function walk(dir: string, prefix = ''): Array<{ file: string; mode: number; dir: boolean }> {
  const out: Array<{ file: string; mode: number; dir: boolean }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push({ file: rel, mode: statSync(full).mode & 0o777, dir: entry.isDirectory() });
    if (entry.isDirectory()) out.push(...walk(full, rel));
  }
  return out;
}

describe('snapshot writer (fake source)', () => {
  let parent: string;

  beforeEach(() => {
    parent = mkdtempSync(path.join(tmpdir(), 'md-snap-test-'));
  });
  afterEach(() => {
    rmSync(parent, { recursive: true, force: true });
  });

  describe('a directory snapshot', () => {
    let out: string;
    let result: SnapshotResult;
    let fake: FakeSource;

    beforeEach(async () => {
      out = path.join(parent, 'snap');
      fake = new FakeSource(fakeOptions());
      result = await takeSnapshot(fake, options(out));
    });

    it('writes the snapshot layout, with the reader\'s first file names', () => {
      const files = walk(out).filter((f) => !f.dir).map((f) => f.file).sort();
      const podFiles = (ns: string, name: string, init: boolean, netstat = true) => [
        'certs', 'clusters', 'clusters.json', 'config_dump', 'istio-proxy.log', ...(init ? ['istio-init.log'] : []), 'listeners', 'logging', 'memory',
        ...(netstat ? ['netstat'] : []), 'runtime', 'server_info', 'stats/prometheus',
      ].map((f) => `proxies/${ns}/${name}/${f}`);
      expect(files).to.deep.equal([
        'cluster/crs', 'cluster/k8s-resources', 'meta.json',
        ...podFiles('foo', 'httpbin-1', false, false), ...podFiles('foo', 'sleep-1', true),
        'versions',
      ].sort());
      expect(result.files).to.deep.equal(files);
      // -n foo: the pod in bar and the pod without a sidecar are not captured.
      expect(fake.calls.some((c) => c.includes('bar/web-1') || c.includes('nosidecar'))).to.equal(false);
    });

    it('makes every file 0600 and every folder 0700', () => {
      expect(statSync(out).mode & 0o777).to.equal(0o700);
      for (const entry of walk(out)) expect(entry.mode, entry.file).to.equal(entry.dir ? 0o700 : 0o600);
    });

    it('leaves no staging folder behind', () => {
      expect(readdirSync(parent)).to.deep.equal(['snap']);
    });

    it('redacts secrets before they reach disk, and counts them', () => {
      for (const entry of walk(out).filter((f) => !f.dir)) {
        const text = readFileSync(path.join(out, entry.file), 'utf8');
        expect(text, entry.file).not.to.match(PEM_MARKER);
        expect(text, entry.file).not.to.contain(JWT);
        expect(text, entry.file).not.to.contain('sha256~s3cr3t');
        expect(text, entry.file).not.to.contain('hunter2');
      }
      expect(result.redactions).to.deep.equal({ 'private-key': 1, 'bearer-token': 1, 'token-field': 1, 'env-secret': 4 });
    });

    it('splits Kubernetes and Istio objects into k8s-resources and crs, readable as before', () => {
      const k8s = parseKubeObjects(readFileSync(path.join(out, 'cluster/k8s-resources'), 'utf8'), 'k8s');
      const crs = parseKubeObjects(readFileSync(path.join(out, 'cluster/crs'), 'utf8'), 'crs');
      expect(crs.map((o) => o.kind).sort()).to.deep.equal(['PeerAuthentication', 'ServiceEntry']);
      expect(k8s.filter((o) => o.kind === 'Pod').map((o) => o.metadata.name).sort()).to.deep.equal(['httpbin-1', 'nosidecar-1', 'sleep-1', 'web-1']);
      // ConfigMaps: the namespace in scope and Istio's, not unrelated namespaces.
      expect(k8s.filter((o) => o.kind === 'ConfigMap').map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).to.deep.equal(['foo/app-config', 'istio-system/istio']);
      expect(result.cluster.files).to.deep.equal({ 'cluster/k8s-resources': 8, 'cluster/crs': 2 });
    });

    it('writes meta.json: who, when, how, per-pod status, redactions', () => {
      const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
      expect(meta.schema).to.equal('mesh-doctor.snapshot/v1');
      expect(meta.tool).to.deep.equal({ name: 'mesh-doctor', version: '0.1.0-test' });
      expect(Date.parse(meta.capturedAt)).to.be.a('number').and.not.NaN;
      expect(meta.capturedBy.user).to.be.a('string');
      expect(meta.source).to.include({ mode: 'live', context: 'fake', user: 'me' });
      expect(meta.kubectl).to.deep.equal({ client: 'v1.32.4', server: 'v1.32.4' });
      expect(meta.flags).to.deep.equal({ namespace: 'foo' });
      expect(meta.selection).to.deep.equal({ namespaces: ['foo'] });
      expect(meta.summary).to.deep.equal({ selected: 2, ok: 2, partial: 0, failed: 0 });
      const httpbin = meta.pods.find((p: { name: string }) => p.name === 'httpbin-1');
      expect(httpbin.status).to.equal('ok');
      expect(httpbin.unavailable).to.deep.equal([{ file: 'netstat', reason: 'the proxy image has neither ss nor netstat' }]);
      expect(httpbin.versions).to.deep.equal({ istio: '1.24.1', envoy: '1.32.3' });
      expect(meta.redactions.total).to.deep.equal(result.redactions);
      expect(meta.redactions.files['proxies/foo/sleep-1/config_dump']).to.deep.equal({ 'private-key': 1 });
      expect(meta.redactions.files['proxies/foo/sleep-1/istio-proxy.log']).to.deep.equal({ 'bearer-token': 1 });
    });

    it('writes versions: kubectl and each proxy', () => {
      const text = readFileSync(path.join(out, 'versions'), 'utf8');
      expect(text).to.contain('kubectl client version: v1.32.4');
      expect(text).to.contain('kubernetes server version: v1.32.4');
      expect(text).to.contain('data plane version: 1.24.1 (2 proxies)');
      expect(text).to.contain('proxy foo/sleep-1: istio 1.24.1, envoy 1.32.3');
    });

    it('round-trips through SnapshotSource: same pods, same artifacts, same logs', async () => {
      const snapshot = await SnapshotSource.open(out);
      try {
        const names = (await snapshot.pods()).map((p) => `${p.namespace}/${p.name}/${p.hasSidecar}`).sort();
        const live = (await fake.pods()).map((p) => `${p.namespace}/${p.name}/${p.hasSidecar}`).sort();
        expect(names).to.deep.equal(live);
        for (const ref of [{ namespace: 'foo', name: 'sleep-1' }, { namespace: 'foo', name: 'httpbin-1' }]) {
          for (const artifact of PROXY_ARTIFACTS) {
            const original = await fake.proxy(ref, artifact);
            const read = await snapshot.proxy(ref, artifact);
            if (original === undefined) {
              expect(read, artifact).to.equal(undefined);
              continue;
            }
            expect(read?.file).to.equal(`proxies/${ref.namespace}/${ref.name}/${writtenName(artifact)}`);
            if (artifact === 'config_dump' && ref.name === 'sleep-1') expect(read?.text).to.contain('[redacted]');
            else expect(read?.text, artifact).to.equal(original.text);
          }
          const log = await snapshot.containerLog(ref, 'istio-proxy');
          expect(log?.text).to.be.a('string');
        }
        expect((await snapshot.containerLog({ namespace: 'foo', name: 'sleep-1' }, 'istio-init'))?.text).to.equal('iptables -t nat -A ISTIO_OUTPUT\n');
        expect((await snapshot.resources()).of('ServiceEntry')).to.have.length(1);
        expect((await snapshot.versions())?.text).to.contain('proxy foo/sleep-1');
      } finally {
        await snapshot.close();
      }
    });
  });

  it('writes a .tar.gz (0600) that SnapshotSource reads, and nothing else', async () => {
    const out = path.join(parent, 'incident.tar.gz');
    await takeSnapshot(new FakeSource(fakeOptions()), options(out, { selection: { pods: [], namespaces: 'all' } }));
    expect(readdirSync(parent)).to.deep.equal(['incident.tar.gz']);
    expect(statSync(out).mode & 0o777).to.equal(0o600);
    const entries: Array<{ path: string; mode: number; type: string }> = [];
    await listTar({ file: out, onReadEntry: (e) => { entries.push({ path: e.path, mode: (e.mode ?? 0) & 0o777, type: e.type }); } });
    expect(entries.map((e) => e.path)).to.include.members(['incident/', 'incident/meta.json', 'incident/proxies/bar/web-1/stats/prometheus']);
    for (const e of entries) expect(e.mode, e.path).to.equal(e.type === 'Directory' ? 0o700 : 0o600);
    const snapshot = await SnapshotSource.open(out);
    try {
      expect((await snapshot.pods()).filter((p) => p.hasSidecar).map((p) => p.name).sort()).to.deep.equal(['httpbin-1', 'sleep-1', 'web-1']);
      expect((await snapshot.proxy({ namespace: 'bar', name: 'web-1' }, 'clusters'))?.text).to.equal('outbound|80||web-1::observability_name::web-1\n');
    } finally {
      await snapshot.close();
    }
  });

  it('selects pods by name and by label selector', async () => {
    const web = { namespace: 'bar', name: 'web-1' };
    const named = await takeSnapshot(new FakeSource(fakeOptions()), options(path.join(parent, 'a'), { selection: { pods: [web, { ...web }], namespaces: ['foo'] } }));
    expect(named.pods.map((p) => p.name)).to.deep.equal(['web-1']);
    const labelled = await takeSnapshot(new FakeSource(fakeOptions()), options(path.join(parent, 'b'), { selection: { pods: [], namespaces: 'all', selector: 'app in (sleep,web)' } }));
    expect(labelled.pods.map((p) => p.name)).to.deep.equal(['web-1', 'sleep-1']);
  });

  it('records a pod whose exec is forbidden, still takes its logs, and captures the others', async () => {
    const forbidden = new MeshDoctorError('forbidden', 'GET server_info on sleep-1.foo: forbidden: your user may not create pods/exec');
    const fake = new FakeSource(fakeOptions({ proxyFailures: { 'foo/sleep-1': forbidden } }));
    const out = path.join(parent, 'snap');
    const result = await takeSnapshot(fake, options(out));
    const sleep = result.pods.find((p) => p.name === 'sleep-1')!;
    // Its logs are evidence (pods/log is another permission): partial, not failed.
    expect(sleep.status).to.equal('partial');
    expect(sleep.error).to.equal(forbidden.message);
    expect(sleep.files).to.deep.equal(['istio-proxy.log', 'istio-init.log']);
    expect(sleep.missing.map((m) => m.file)).to.include.members(['server_info', 'config_dump', 'clusters', 'logging', 'netstat']);
    // server_info failed with "forbidden": no other admin call was made for that pod.
    expect(fake.calls.filter((c) => c.startsWith('proxy foo/sleep-1'))).to.deep.equal(['proxy foo/sleep-1 server_info']);
    expect(result.pods.find((p) => p.name === 'httpbin-1')!.status).to.equal('ok');
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
    expect(meta.summary).to.deep.equal({ selected: 2, ok: 1, partial: 1, failed: 0 });
    expect(meta.pods.find((p: { name: string }) => p.name === 'sleep-1').error).to.equal(forbidden.message);
  });

  it('marks a pod partial when one artifact fails', async () => {
    const timeout = new MeshDoctorError('timeout', '`kubectl exec ... config_dump` did not finish within 30s');
    const result = await takeSnapshot(new FakeSource(fakeOptions({ proxyFailures: { 'foo/httpbin-1': { config_dump: timeout } } })), options(path.join(parent, 'snap')));
    const httpbin = result.pods.find((p) => p.name === 'httpbin-1')!;
    expect(httpbin.status).to.equal('partial');
    expect(httpbin.missing).to.deep.equal([{ file: 'config_dump', reason: timeout.message }]);
    expect(httpbin.files).to.include('clusters');
  });

  it('with --read-only never asks for logging, and says so', async () => {
    const fake = new FakeSource(fakeOptions());
    const result = await takeSnapshot(fake, options(path.join(parent, 'snap'), { readOnly: true }));
    expect(fake.calls.some((c) => c.endsWith(' logging'))).to.equal(false);
    expect(result.pods[0]!.unavailable).to.deep.include({ file: 'logging', reason: 'not asked: --read-only sends no POST /logging' });
    expect(existsSync(path.join(parent, 'snap/proxies/foo/sleep-1/logging'))).to.equal(false);
  });

  it('records a kind that cannot be listed and keeps the rest', async () => {
    const result = await takeSnapshot(
      new FakeSource(fakeOptions({ kindFailures: { configmaps: new MeshDoctorError('forbidden', 'listing configmaps: forbidden') } })),
      options(path.join(parent, 'snap')),
    );
    expect(result.cluster.failed).to.deep.equal([{ kind: 'configmaps', error: 'listing configmaps: forbidden' }]);
    expect(result.warnings).to.deep.equal(['could not list configmaps: listing configmaps: forbidden']);
    expect(result.pods.every((p) => p.status === 'ok')).to.equal(true);
  });

  it('writes a snapshot with a warning when no pod matches', async () => {
    const result = await takeSnapshot(new FakeSource(fakeOptions()), options(path.join(parent, 'snap'), { selection: { pods: [], namespaces: ['empty'] } }));
    expect(result.pods).to.deep.equal([]);
    expect(result.warnings).to.deep.equal(['no pods with an istio-proxy container in namespace empty']);
    expect(existsSync(path.join(parent, 'snap/cluster/k8s-resources'))).to.equal(true);
  });

  describe('all or nothing', () => {
    it('writes nothing and fails (exit 1) when every selected pod failed', async () => {
      const gone = new MeshDoctorError('not-found', 'pod sleep-1.foo not found');
      const fake = new FakeSource(fakeOptions({ proxyFailures: { 'foo/sleep-1': gone } }));
      const error = await takeSnapshot(fake, options(path.join(parent, 'snap'), { selection: { pods: [{ namespace: 'foo', name: 'sleep-1' }, { namespace: 'foo', name: 'nosidecar-1' }], namespaces: ['foo'] } }))
        .then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(MeshDoctorError);
      expect((error as MeshDoctorError).exitCode).to.equal(1);
      expect((error as MeshDoctorError).message).to.equal('nothing could be captured: pod sleep-1.foo not found (and 1 more pod)');
      expect(readdirSync(parent)).to.deep.equal([]);
      // the pod is gone: not even its logs were asked for
      expect(fake.calls.filter((c) => c.startsWith('log'))).to.deep.equal([]);
    });

    it('writes nothing when the pods cannot be listed', async () => {
      const unreachable = new MeshDoctorError('unreachable', 'listing pods: the cluster does not answer');
      const kindFailures = Object.fromEntries(['pods', 'services', 'endpoints', 'namespaces', 'configmaps'].map((k) => [k, unreachable]));
      const error = await takeSnapshot(new FakeSource(fakeOptions({ kindFailures })), options(path.join(parent, 'snap'))).then(() => undefined, (e: unknown) => e);
      expect((error as MeshDoctorError).message).to.equal('nothing could be captured: listing pods: the cluster does not answer');
      expect(readdirSync(parent)).to.deep.equal([]);
    });

    it('leaves no partial output after an unexpected failure half-way', async () => {
      let proxied = 0;
      const fake = new FakeSource(fakeOptions({
        onProxy: async (ref) => {
          proxied++;
          if (ref.name === 'httpbin-1' && proxied > 8) throw new Error('injected failure');
        },
      }));
      const out = path.join(parent, 'snap');
      const error = await takeSnapshot(fake, options(out)).then(() => undefined, (e: unknown) => e);
      expect((error as Error).message).to.equal('injected failure');
      expect(readdirSync(parent)).to.deep.equal([]);
    });

    it('stages next to the target (0700) and renames into place only at the end', async () => {
      const out = path.join(parent, 'snap');
      let seen: string[] = [];
      let mode = 0;
      const fake = new FakeSource(fakeOptions({
        onProxy: (ref, artifact) => {
          if (ref.name === 'sleep-1' && artifact === 'runtime') {
            seen = readdirSync(parent);
            mode = statSync(path.join(parent, seen[0]!)).mode & 0o777;
          }
        },
      }));
      await takeSnapshot(fake, options(out));
      expect(seen).to.have.length(1);
      expect(seen[0]).to.match(/^\.snap\.partial-/);
      expect(mode).to.equal(0o700);
      expect(readdirSync(parent)).to.deep.equal(['snap']);
    });

    it('removes the work in progress when interrupted (the Ctrl-C cleanup)', async () => {
      const out = path.join(parent, 'incident.tar.gz');
      const fake = new FakeSource(fakeOptions({
        onProxy: async (ref, artifact) => {
          // What the SIGINT handler does (src/lifecycle.ts), minus process.exit.
          if (ref.name === 'sleep-1' && artifact === 'clusters') await runCleanups();
        },
      }));
      const error = await takeSnapshot(fake, options(out)).then(() => undefined, (e: unknown) => e);
      expect((error as MeshDoctorError).kind).to.equal('interrupted');
      expect(readdirSync(parent)).to.deep.equal([]);
    });
  });

  describe('an existing target', () => {
    it('is refused when not empty, without --force (usage error, exit 2), and left alone', async () => {
      const out = path.join(parent, 'snap');
      mkdirSync(out);
      writeFileSync(path.join(out, 'keep'), 'x');
      const error = await takeSnapshot(new FakeSource(fakeOptions()), options(out)).then(() => undefined, (e: unknown) => e);
      expect((error as MeshDoctorError).exitCode).to.equal(2);
      expect(readdirSync(out)).to.deep.equal(['keep']);
      expect(readdirSync(parent)).to.deep.equal(['snap']);
    });

    it('is refused for an existing archive without --force', async () => {
      const out = path.join(parent, 'x.tar.gz');
      writeFileSync(out, 'old');
      const error = await takeSnapshot(new FakeSource(fakeOptions()), options(out)).then(() => undefined, (e: unknown) => e);
      expect((error as MeshDoctorError).exitCode).to.equal(2);
      expect(readFileSync(out, 'utf8')).to.equal('old');
    });

    it('is used when it is an empty directory', async () => {
      const out = path.join(parent, 'snap');
      mkdirSync(out);
      await takeSnapshot(new FakeSource(fakeOptions()), options(out));
      expect(readdirSync(out)).to.include('meta.json');
      expect(statSync(out).mode & 0o777).to.equal(0o700);
    });

    it('is not replaced, even with --force, when it is not a previous snapshot or holds the working directory', async () => {
      const out = path.join(parent, 'photos');
      mkdirSync(out);
      writeFileSync(path.join(out, 'holiday.jpg'), 'x');
      const error = await takeSnapshot(new FakeSource(fakeOptions()), options(out, { force: true })).then(() => undefined, (e: unknown) => e);
      expect((error as MeshDoctorError).exitCode).to.equal(2);
      expect((error as MeshDoctorError).message).to.match(/is not a snapshot/);
      expect(readdirSync(out)).to.deep.equal(['holiday.jpg']);
      const cwd = await takeSnapshot(new FakeSource(fakeOptions()), options(process.cwd(), { force: true })).then(() => undefined, (e: unknown) => e);
      expect((cwd as MeshDoctorError).message).to.match(/holds the current directory/);
      expect(readdirSync(parent)).to.deep.equal(['photos']);
    });

    it('is replaced with --force', async () => {
      const out = path.join(parent, 'snap');
      mkdirSync(out);
      writeFileSync(path.join(out, 'meta.json'), '{}');
      writeFileSync(path.join(out, 'old'), 'x');
      await takeSnapshot(new FakeSource(fakeOptions()), options(out, { force: true }));
      expect(readdirSync(out)).not.to.include('old');
      expect(readdirSync(out)).to.include('meta.json');
      expect(readdirSync(parent)).to.deep.equal(['snap']);
      const archive = path.join(parent, 'y.tar.gz');
      writeFileSync(archive, 'old');
      await takeSnapshot(new FakeSource(fakeOptions()), options(archive, { force: true }));
      expect(statSync(archive).size).to.be.greaterThan(100);
      expect(readdirSync(parent).sort()).to.deep.equal(['snap', 'y.tar.gz']);
    });
  });
});
