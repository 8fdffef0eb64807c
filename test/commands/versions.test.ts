import { expect } from 'chai';
import { cp, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * One version, from every source (issue: a snapshot whose versions file says
 * 1.7.4 got "Istio version unknown" from who-owns-443 and why-https-fails, so a
 * mesh-wide outage was a warning). The fixture is seed 000's Istio 1.7 replica
 * (test/fixtures/egress, a hand-written replica of the seed's shape); each variant
 * removes the proxy's own ISTIO_VERSION so the next source must answer.
 */
const SEED000_17 = path.join(REPO_ROOT, 'test/fixtures/egress/seed000-istio-1.7-http-on-443');
const DUMP = 'proxies/team-b/web-6d4cf56db6-x2pnq/config_dump?include_eds';
const POD = 'web-6d4cf56db6-x2pnq.team-b';
// `istioctl version` as Istio 1.7 prints it (and bug-report writes to `versions`).
const ISTIOCTL_VERSION = 'client version: 1.7.4\ncontrol plane version: 1.7.4\ndata plane version: 1.7.4 (2 proxies)\n';
const ISTIOD = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod
  namespace: istio-system
  labels: {app: istiod}
spec:
  template:
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.7.2
`;

async function variant(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-versions-'));
  await cp(SEED000_17, dir, { recursive: true });
  // The proxy's own version gone (an Envoy whose node metadata lacks ISTIO_VERSION).
  const dump = JSON.parse(await readFile(path.join(dir, DUMP), 'utf8'));
  delete dump.configs[0].bootstrap.node.metadata.ISTIO_VERSION;
  await writeFile(path.join(dir, DUMP), JSON.stringify(dump));
  await unlink(path.join(dir, 'versions'));
  await edit(dir);
  return dir;
}

async function imagesToDigests(dir: string): Promise<void> {
  const file = path.join(dir, 'cluster/k8s-resources');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replaceAll('docker.io/istio/proxyv2:1.7.3', 'docker.io/istio/proxyv2@sha256:0b8f2d'));
}

const CASES: Array<{ source: string; istio: string; edit: (dir: string) => Promise<void> }> = [
  { source: 'versions-file', istio: '1.7.4', edit: async (d) => writeFile(path.join(d, 'versions'), ISTIOCTL_VERSION) },
  { source: 'proxy-image', istio: '1.7.3', edit: async () => undefined },
  { source: 'istiod-image', istio: '1.7.2', edit: async (d) => { await imagesToDigests(d); await writeFile(path.join(d, 'cluster/k8s-resources'), (await readFile(path.join(d, 'cluster/k8s-resources'), 'utf8')) + ISTIOD); } },
];

describe('one version from every source, used by every diagnosis', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.source}: who-owns-443 and why-https-fails assume Istio ${c.istio}, say where it came from, and MD1004 is the pre-1.8 error`, async () => {
      const dir = await variant(c.edit);
      dirs.push(dir);
      for (const args of [['who-owns-443', '-A'], ['why-https-fails', POD, '--host', 'www.google.com']]) {
        const result = await runCli([...args, '--from', dir, '-o', 'json']);
        const report = jsonOf(result);
        expect(report.versions, args[0]).to.deep.include({ istio: c.istio, source: c.source });
        expect(report.findings.find((f: any) => f.code === 'MD1004')?.severity, args[0]).to.equal('error');
        expect(result.exitCode).to.equal(3);
      }
    });
  }

  it('no source at all: the report says the version is unknown (source unknown), and the pre-1.8 bug is not asserted', async () => {
    const dir = await variant(imagesToDigests);
    dirs.push(dir);
    const report = jsonOf(await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']));
    expect(report.versions).to.deep.include({ source: 'unknown' });
    expect(report.versions.istio).to.equal(undefined);
  });

  it('the proxy and istiod disagree: the report names both (skew)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'md-versions-'));
    dirs.push(dir);
    await cp(SEED000_17, dir, { recursive: true });
    await writeFile(path.join(dir, 'cluster/k8s-resources'), (await readFile(path.join(dir, 'cluster/k8s-resources'), 'utf8')) + ISTIOD.replace('1.7.2', '1.8.6'));
    const report = jsonOf(await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']));
    expect(report.versions).to.deep.include({ istio: '1.7.3', source: 'proxy', controlPlane: '1.8.6' });
    expect(report.versions.skew).to.contain('1.8.6');
  });
});

/**
 * Fix suggestions follow the version: YAML with an apiVersion the cluster serves
 * (networking.istio.io/v1 only from 1.22, v1beta1 from 1.5, v1alpha3 before) and
 * fields that version has (consecutiveErrors before 1.5, consecutive5xxErrors after,
 * with a merge patch that removes the deprecated field instead of leaving it in place).
 */
describe('fixes follow the version the run assumes', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** A copy of a snapshot whose proxies say they run `istio` (node metadata ISTIO_VERSION). */
  async function atVersion(from: string, istio: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'md-fix-version-'));
    dirs.push(dir);
    await cp(from, dir, { recursive: true });
    for (const ns of await readdir(path.join(dir, 'proxies'))) {
      for (const pod of await readdir(path.join(dir, 'proxies', ns))) {
        const file = path.join(dir, 'proxies', ns, pod, 'config_dump?include_eds');
        const text = await readFile(file, 'utf8').catch(() => undefined);
        if (text) await writeFile(file, text.replace(/"ISTIO_VERSION": ?"[^"]*"/, `"ISTIO_VERSION": "${istio}"`));
      }
    }
    return dir;
  }

  const SEED004_10 = path.join(REPO_ROOT, 'test/fixtures/why-503/seed004-istio-1.0-replica');
  const why503 = (dir: string) => runCli(['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--from', dir, '-o', 'json']);

  it('seed 004 on Istio 1.0: the outlier fix uses consecutiveErrors (1.0 has no consecutive5xxErrors)', async () => {
    const md3008 = jsonOf(await why503(SEED004_10)).findings.find((f: any) => f.code === 'MD3008');
    expect(md3008.remediation.patch).to.contain('consecutiveErrors: 5');
    expect(md3008.remediation.patch).to.not.contain('consecutive5xxErrors');
    expect(md3008.remediation.patch).to.contain('apiVersion: networking.istio.io/v1alpha3');
  });

  it('the same rule on Istio 1.20: consecutive5xxErrors, and the merge patch removes consecutiveErrors', async () => {
    const md3008 = jsonOf(await why503(await atVersion(SEED004_10, '1.20.8'))).findings.find((f: any) => f.code === 'MD3008');
    expect(md3008.remediation.patch).to.contain('consecutive5xxErrors: 5');
    expect(md3008.remediation.command).to.contain('"consecutiveErrors":null');
  });

  it('MD2001\'s ServiceEntry: networking.istio.io/v1 on 1.31, v1beta1 on 1.20', async () => {
    const seed002 = path.join(REPO_ROOT, 'test/scenarios/seed002-registry-only-unregistered/snapshot');
    const patchOf = async (dir: string) => jsonOf(await runCli(['why-502', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--host', 'httpbin.org', '--from', dir, '-o', 'json']))
      .findings.find((f: any) => f.code === 'MD2001').remediation.patch as string;
    expect(await patchOf(seed002)).to.contain('apiVersion: networking.istio.io/v1\n');
    expect(await patchOf(await atVersion(seed002, '1.20.8'))).to.contain('apiVersion: networking.istio.io/v1beta1\n');
  });

  it('MD4001\'s Sidecar on Istio 1.20: v1beta1, named after the workload, not the pod', async () => {
    const report = jsonOf(await runCli(['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default', '--from', path.join(REPO_ROOT, 'test/fixtures/inbound/localhost-1.20'), '-o', 'json']));
    const patch = report.findings.find((f: any) => f.code === 'MD4001').remediation.patch as string;
    expect(patch).to.contain('apiVersion: networking.istio.io/v1beta1');
    expect(patch).to.match(/name: app-localhost-8080/);
    expect(patch).to.not.contain('5f7b9c6d8');
  });
});
