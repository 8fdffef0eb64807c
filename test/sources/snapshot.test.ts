import { expect } from 'chai';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { MeshDoctorError } from '../../src/errors.js';
import { SnapshotSource } from '../../src/sources/snapshot.js';
import { REPO_ROOT } from '../support/cli.js';

const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');

describe('SnapshotSource', () => {
  let work: string;
  beforeEach(async () => { work = await mkdtemp(path.join(tmpdir(), 'md-snap-')); });
  afterEach(async () => { await rm(work, { recursive: true, force: true }); });

  it('reads pods and services from cluster/k8s-resources (a kind: List)', async () => {
    const source = await SnapshotSource.open(TWO_PODS);
    const pods = await source.pods('shop');
    expect(pods.map((p) => [p.name, p.hasSidecar, p.ip])).to.deep.equal([
      ['cart-5d9f', true, '10.244.1.7'],
      ['legacy-0', false, '10.244.1.9'],
    ]);
    expect((await source.resources()).of('Service').map((s) => s.metadata.name)).to.deep.equal(['cart']);
  });

  it('names the command that shows each artifact live, and the file it came from', async () => {
    const source = await SnapshotSource.open(TWO_PODS);
    const logging = await source.proxy({ namespace: 'shop', name: 'cart-5d9f' }, 'logging');
    expect(logging?.file).to.equal('proxies/shop/cart-5d9f/logging');
    expect(logging?.source).to.equal('kubectl exec cart-5d9f -n shop -c istio-proxy -- pilot-agent request POST logging');
    expect(logging?.text).to.contain('http: debug');
  });

  it('says "not available" for missing artifacts instead of failing', async () => {
    const source = await SnapshotSource.open(TWO_PODS);
    expect(await source.proxy({ namespace: 'shop', name: 'cart-5d9f' }, 'config_dump')).to.equal(undefined);
    expect(await source.containerLog({ namespace: 'shop', name: 'legacy-0' }, 'istio-proxy')).to.equal(undefined);
  });

  it('filters container logs like kubectl logs --since-time and --tail', async () => {
    const source = await SnapshotSource.open(TWO_PODS);
    const ref = { namespace: 'shop', name: 'cart-5d9f' };
    const since = await source.containerLog(ref, 'istio-proxy', { sinceTime: '2026-11-20T10:04:00Z' });
    expect(since?.text.split('\n').filter(Boolean)).to.have.length(2);
    expect(since?.source).to.equal('kubectl logs cart-5d9f -n shop -c istio-proxy --since-time=2026-11-20T10:04:00Z');
    const tail = await source.containerLog(ref, 'istio-proxy', { tail: 1 });
    expect(tail?.text).to.equal('2026-11-20T10:06:00.000000Z\twarning\tenvoy main external/envoy/source/server/server.cc:900\ta later line\tthread=14\n');
  });

  it('reads an istioctl bug-report archive: .tar.gz with everything under bug-report/', async () => {
    // istioctl writes its tree under an extra bug-report/ folder (tools/bug-report/pkg/archive/archive.go)
    // and names the dump `config_dump` (tools/bug-report/pkg/common/common.go).
    const tree = path.join(work, 'tree');
    await cp(TWO_PODS, path.join(tree, 'bug-report'), { recursive: true });
    await writeFile(path.join(tree, 'bug-report/proxies/shop/cart-5d9f/config_dump'), '{"configs":[]}');
    const archive = path.join(work, 'bug-report.tar.gz');
    await create({ gzip: true, file: archive, cwd: tree }, ['bug-report']);
    const source = await SnapshotSource.open(archive);
    try {
      expect((await source.pods()).map((p) => p.name)).to.include('cart-5d9f');
      const dump = await source.proxy({ namespace: 'shop', name: 'cart-5d9f' }, 'config_dump');
      expect(dump?.text).to.equal('{"configs":[]}');
      expect(dump?.file).to.equal('proxies/shop/cart-5d9f/config_dump');
    } finally {
      await source.close();
    }
  });

  it('counts a proxy folder without a Pod object as a pod with a sidecar (a bare config dump)', async () => {
    await mkdir(path.join(work, 'proxies/default/productpage-v1'), { recursive: true });
    await writeFile(path.join(work, 'proxies/default/productpage-v1/config_dump'), '{}');
    const source = await SnapshotSource.open(work);
    const pod = await source.pod({ namespace: 'default', name: 'productpage-v1' });
    expect(pod.hasSidecar).to.equal(true);
  });

  const badSnapshots: Array<[string, (dir: string) => Promise<string>, RegExp]> = [
    ['a path that does not exist', async (dir) => path.join(dir, 'nope'), /does not exist/],
    ['a folder with no snapshot in it', async (dir) => dir, /holds no snapshot/],
    ['a file that is not a .tar.gz', async (dir) => { const f = path.join(dir, 'x.tar.gz'); await writeFile(f, 'not an archive'); return f; }, /not a readable \.tar\.gz/],
    ['a truncated archive', async (dir) => {
      const src = path.join(dir, 'src');
      await cp(TWO_PODS, src, { recursive: true });
      const f = path.join(dir, 'full.tar.gz');
      await create({ gzip: true, file: f, cwd: src }, ['.']);
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(f);
      const cut = path.join(dir, 'cut.tar.gz');
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
      return cut;
    }, /not a readable \.tar\.gz/],
  ];
  for (const [name, make, message] of badSnapshots) {
    it(`rejects ${name} with a bad-snapshot error and a next step`, async () => {
      const location = await make(work);
      const error = await SnapshotSource.open(location).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(MeshDoctorError);
      expect((error as MeshDoctorError).kind).to.equal('bad-snapshot');
      expect((error as MeshDoctorError).message).to.match(message);
      expect((error as MeshDoctorError).suggestion).to.be.a('string').and.not.equal('');
    });
  }
});

describe('SnapshotSource.run: recorded probes', () => {
  it('returns a recorded command\'s output, stderr and exit code, matched on the command and container', async () => {
    const source = await SnapshotSource.open(TWO_PODS);
    const ref = { namespace: 'shop', name: 'cart-5d9f' };
    const probe = await source.run(ref, 'cart', ['curl', '-sv', 'http://httpbin.org/ip']);
    expect(probe?.exitCode).to.equal(0);
    expect(probe?.stderr).to.contain('< HTTP/1.1 502 Bad Gateway');
    expect(probe?.file).to.equal('proxies/shop/cart-5d9f/probes/curl-httpbin.txt');
    expect(probe?.source).to.equal('kubectl exec cart-5d9f -n shop -c cart -- curl -sv http://httpbin.org/ip');
    expect(await source.run(ref, 'istio-proxy', ['curl', '-sv', 'http://httpbin.org/ip'])).to.equal(undefined);
    expect(await source.run(ref, 'cart', ['curl', 'http://httpbin.org/ip'])).to.equal(undefined);
  });
});
