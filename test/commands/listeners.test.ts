import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli, SHARED_DATA } from '../support/cli.js';

const REAL_DUMPS = path.join(SHARED_DATA, 'real-config-dumps');
// istioctl's own PrintListenerSummary run on the same dumps (test/model/envoy/fixtures/istioctl-oracle/PROVENANCE.md).
const ISTIOCTL_OUTPUT = path.join(REPO_ROOT, 'test/model/envoy/fixtures/istioctl-oracle');
const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');

const realDumps = [
  { file: 'istio-1.9.1-productpage.config_dump.json', namespace: 'default', pod: 'productpage-v1' },
  { file: 'istio-1.20.8-hello-openshift.config_dump.json', namespace: 'vanilla-playground', pod: 'hello-openshift' },
];

describe('listeners command', () => {
  let work: string;
  before(async () => { work = await mkdtemp(path.join(tmpdir(), 'md-listeners-')); });
  after(async () => { await rm(work, { recursive: true, force: true }); });

  describe('on snapshots made from the real config dumps', () => {
    before(function () {
      if (!existsSync(REAL_DUMPS)) {
        console.log(`    (skipped: ${REAL_DUMPS} is absent; these tests need ../shared/data beside the repository)`);
        this.skip();
      }
    });

    for (const dump of realDumps) {
      it(`prints istioctl's table byte for byte for ${dump.file} (--no-owner)`, async () => {
        const snapshot = path.join(work, dump.pod);
        await mkdir(path.join(snapshot, 'proxies', dump.namespace, dump.pod), { recursive: true });
        await copyFile(path.join(REAL_DUMPS, dump.file), path.join(snapshot, 'proxies', dump.namespace, dump.pod, 'config_dump'));
        const result = await runCli(['listeners', `${dump.pod}.${dump.namespace}`, '--from', snapshot, '--no-owner']);
        expect(result.exitCode, result.stderr).to.equal(0);
        const expected = await readFile(path.join(ISTIOCTL_OUTPUT, `real-${dump.file.replace('.config_dump.json', '')}.txt`), 'utf8');
        expect(result.stdout).to.equal(expected);
      });
    }

    it('filters by --port and reports rows, owners and versions in JSON', async () => {
      const snapshot = path.join(work, 'productpage-v1');
      const json = jsonOf(await runCli(['listeners', 'productpage-v1.default', '--from', snapshot, '--port', '443', '-o', 'json']));
      expect(json.versions.istio).to.equal('1.9.1');
      expect(json.data.rows.map((r: { addresses: string; match: string; destination: string }) => `${r.addresses} ${r.match} ${r.destination}`)).to.deep.equal([
        '10.104.193.173 ALL Cluster: outbound|443||istio-ingressgateway.istio-system.svc.cluster.local',
        '10.104.255.22 ALL Cluster: outbound|443||istio-egressgateway.istio-system.svc.cluster.local',
        '10.105.109.31 ALL Cluster: outbound|443||istiod.istio-system.svc.cluster.local',
      ]);
    });
  });

  it('names the ServiceEntry behind a catch-all chain in the OWNER column', async () => {
    // A listener shaped like seed 003's `0.0.0.0 443 ALL Cluster: outbound|443||traefik.cutom-name`
    // (the seed's quoted istioctl line), with the ServiceEntry the seed describes.
    const snapshot = path.join(work, 'catch-all');
    await mkdir(path.join(snapshot, 'proxies/foo/sleep-1'), { recursive: true });
    await mkdir(path.join(snapshot, 'cluster'), { recursive: true });
    await writeFile(path.join(snapshot, 'cluster/crs'), [
      'apiVersion: networking.istio.io/v1', 'kind: ServiceEntry',
      'metadata: {name: traefik, namespace: infra}',
      'spec: {hosts: [traefik.cutom-name], location: MESH_INTERNAL, resolution: DNS, ports: [{number: 443, name: tcp, protocol: TCP}]}', '',
    ].join('\n'));
    await writeFile(path.join(snapshot, 'proxies/foo/sleep-1/config_dump'), JSON.stringify({
      configs: [{
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        dynamic_listeners: [{ name: '0.0.0.0_443', active_state: { listener: {
          '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
          name: '0.0.0.0_443',
          address: { socket_address: { address: '0.0.0.0', port_value: 443 } },
          filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'outbound|443||traefik.cutom-name', cluster: 'outbound|443||traefik.cutom-name' } }] }],
        } } }],
      }],
    }));
    const result = await runCli(['listeners', 'sleep-1.foo', '--from', snapshot]);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stdout).to.equal([
      'ADDRESSES PORT MATCH DESTINATION                               OWNER',
      '0.0.0.0   443  ALL   Cluster: outbound|443||traefik.cutom-name ServiceEntry infra/traefik',
      '',
    ].join('\n'));
  });

  it('a pod without a sidecar: exit 1, one line', async () => {
    const result = await runCli(['listeners', 'legacy-0.shop', '--from', TWO_PODS]);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.match(/^Error: pod legacy-0\.shop has no istio-proxy container\n/);
  });

  it('a snapshot without the config dump: exit 1 with a next step', async () => {
    const result = await runCli(['listeners', 'cart-5d9f.shop', '--from', TWO_PODS, '--json']);
    expect(result.exitCode).to.equal(1);
    expect(jsonOf(result).error.message).to.match(/no Envoy config dump for cart-5d9f\.shop/);
  });

  it('a corrupt (truncated) config dump: exit 1, a parse error, no stack trace', async () => {
    const snapshot = path.join(work, 'corrupt');
    await cp(TWO_PODS, snapshot, { recursive: true });
    await writeFile(path.join(snapshot, 'proxies/shop/cart-5d9f/config_dump?include_eds'), '{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump","dynamic_listeners":[{"name":"0.0.0.0_443","ac');
    const result = await runCli(['listeners', 'cart-5d9f.shop', '--from', snapshot]);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.match(/^Error: config_dump of cart-5d9f\.shop: /);
    expect(result.stderr).not.to.match(/^\s+at /m);
  });

  it('a missing pod argument without a terminal is a usage error (exit 2)', async () => {
    const result = await runCli(['listeners', '--from', TWO_PODS]);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.match(/^Error: a pod is required\n/);
  });
});
