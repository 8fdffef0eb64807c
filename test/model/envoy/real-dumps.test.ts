/**
 * The model against the real sidecar dumps in ../shared/data/real-config-dumps/
 * (see its README for where they come from). They are read in place, never
 * copied into the repository; every test skips, saying why, when they are absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type ConfigDump, formatListenerTable, istioAtLeast, listenerTable, parseConfigDump } from '../../../src/model/envoy/index.js';

const DUMPS = new URL('../../../../shared/data/real-config-dumps/', import.meta.url);
const ISTIOCTL_EXPECTED = new URL('../../real-dumps-expected/', import.meta.url);
const ORACLE = new URL('./fixtures/istioctl-oracle/', import.meta.url);

const V191 = 'istio-1.9.1-productpage.config_dump.json';
const V1208 = 'istio-1.20.8-hello-openshift.config_dump.json';

const cache = new Map<string, ConfigDump>();
function load(ctx: Mocha.Context, file: string): ConfigDump {
  const url = new URL(file, DUMPS);
  if (!existsSync(url)) {
    console.log(`      (skipped: real dump ${fileURLToPath(url)} is absent; it lives in ../shared/data/, outside the repository)`);
    ctx.skip();
  }
  let d = cache.get(file);
  if (!d) {
    d = parseConfigDump(readFileSync(url, 'utf8'), file);
    cache.set(file, d);
  }
  return d;
}

const stem = (file: string) => file.replace(/\.config_dump\.json$/, '');

describe('model/envoy on real config dumps', () => {
  describe(`Istio 1.9.1 (${V191})`, () => {
    it('reads versions and node metadata from the bootstrap', function () {
      const d = load(this, V191);
      expect(d.versions).to.deep.include({ istio: '1.9.1', envoy: '1.17.1', source: 'bootstrap' });
      expect(d.node).to.deep.include({ namespace: 'default', podName: 'productpage-v1-64794f5db4-blnt8', clusterId: 'Kubernetes' });
      expect(d.node!.labels.app).to.equal('productpage');
      expect(istioAtLeast(d.versions!.istio, '1.10.0')).to.equal(false);
    });

    it('counts listeners, clusters, routes and secrets', function () {
      const d = load(this, V191);
      expect(d.listeners).to.have.length(22); // 20 dynamic active + 2 static
      expect(d.listeners.filter((l) => l.state === 'static')).to.have.length(2);
      expect(d.clusters).to.have.length(37); // 5 static + 32 dynamic active
      expect(d.routeConfigs).to.have.length(16);
      expect(d.has('EndpointsConfigDump')).to.equal(false); // captured without ?include_eds
    });

    it('has the pre-1.10 inbound cluster: STATIC to 127.0.0.1:9080, no bind address', function () {
      const c = load(this, V191).cluster('inbound|9080||')!;
      expect(c.type).to.equal('STATIC');
      expect(c.staticEndpoints.map((e) => e.address)).to.deep.equal([{ address: '127.0.0.1', port: 9080 }]);
      expect(c.upstreamBindAddress).to.equal(undefined);
      expect(c.services[0]).to.deep.include({ host: 'productpage.default.svc.cluster.local', name: 'productpage' });
    });

    it('sees auto mTLS on Istio outbound clusters and the DestinationRule behind details', function () {
      const d = load(this, V191);
      expect(d.cluster('outbound|9080||reviews.default.svc.cluster.local')!.tlsMode).to.equal('auto mTLS (istio endpoints)');
      expect(d.cluster('outbound|9080|v1|details.default.svc.cluster.local')!.destinationRule).to.include({ namespace: 'default', name: 'details' });
      expect(d.cluster('outbound|9080|v1|details.default.svc.cluster.local')!.istioName!.subset).to.equal('v1');
      expect(d.cluster('PassthroughCluster')!.type).to.equal('ORIGINAL_DST');
      expect(d.cluster('BlackHoleCluster')!.type).to.equal('STATIC');
      expect(d.cluster('zipkin')!.type).to.equal('STRICT_DNS');
    });

    it('reads virtualOutbound, virtualInbound and the allow_any route', function () {
      const d = load(this, V191);
      const vo = d.listener('virtualOutbound')!;
      expect(vo.useOriginalDst).to.equal(true);
      expect(vo.address).to.deep.equal({ address: '0.0.0.0', port: 15001 });
      expect(vo.filterChains.map((c) => c.tcpProxy?.cluster)).to.deep.equal(['BlackHoleCluster', 'PassthroughCluster']);
      const vi = d.listener('virtualInbound')!;
      expect(vi.trafficDirection).to.equal('INBOUND');
      expect(vi.hasListenerFilter('original_dst') && vi.hasListenerFilter('tls_inspector') && vi.hasListenerFilter('http_inspector')).to.equal(true);
      const allowAny = d.routeConfig('80')!.virtualHosts.find((v) => v.name === 'allow_any')!.routes[0]!;
      expect(allowAny.name).to.equal('allow_any');
      expect(allowAny.action).to.deep.equal({ kind: 'cluster', cluster: 'PassthroughCluster' });
    });

    it('reads the SDS secrets with the key redacted', function () {
      const s = load(this, V191).secrets;
      expect(s.map((x) => [x.name, x.kind, x.hasCertificateChain, x.privateKeyRedacted])).to.deep.equal([
        ['default', 'tls_certificate', true, true],
        ['ROOTCA', 'validation_context', false, false],
      ]);
      expect(s[0]!.pem()).to.match(/^-----BEGIN CERTIFICATE-----/);
    });

    it('lists the port 443 rows and the catch-all rows as istioctl does', function () {
      const d = load(this, V191);
      expect(formatListenerTable(listenerTable(d, { port: 443 }))).to.equal(
        [
          'ADDRESSES      PORT MATCH DESTINATION',
          '10.104.193.173 443  ALL   Cluster: outbound|443||istio-ingressgateway.istio-system.svc.cluster.local',
          '10.104.255.22  443  ALL   Cluster: outbound|443||istio-egressgateway.istio-system.svc.cluster.local',
          '10.105.109.31  443  ALL   Cluster: outbound|443||istiod.istio-system.svc.cluster.local',
          '',
        ].join('\n'),
      );
      const rows = listenerTable(d);
      expect(rows).to.have.length(39);
      const catchAll = rows.filter((r) => r.match === 'ALL' && r.addresses === '0.0.0.0').map((r) => `${r.port} ${r.destination}`);
      expect(catchAll).to.include.members(['15001 PassthroughCluster', '80 PassthroughCluster', '9080 PassthroughCluster', '15021 Inline Route: /healthz/ready*', '15090 Inline Route: /stats/prometheus*']);
      expect(rows.find((r) => r.port === 15006 && r.destination === 'Cluster: inbound|9080||' && r.match.startsWith('Trans: tls'))!.match).to.equal('Trans: tls; App: Istio HTTP Plain; Addr: *:9080');
    });
  });

  describe(`Istio 1.20.8 (${V1208})`, () => {
    it('reads versions and node metadata from the bootstrap (OpenShift Service Mesh build)', function () {
      const d = load(this, V1208);
      expect(d.versions).to.deep.include({ istio: '1.20.8', envoy: '1.28.8' });
      expect(d.versions!.envoyBuild).to.deep.include({ label: 'dev', status: 'OSSM 2.6.7-1', sslLibrary: 'OpenSSL' });
      expect(d.node).to.deep.include({ namespace: 'vanilla-playground', podName: 'hello-openshift-5b7bcb9b6d-kggwf', interceptionMode: 'REDIRECT' });
      expect(istioAtLeast(d.versions!.istio, '1.10.0')).to.equal(true);
    });

    it('counts listeners, clusters and routes', function () {
      const d = load(this, V1208);
      expect(d.listeners).to.have.length(18); // 16 dynamic active + 2 static
      expect(d.clusters).to.have.length(24); // 4 static + 20 dynamic active
      expect(d.routeConfigs).to.have.length(15);
    });

    it('has the 1.10+ inbound cluster: ORIGINAL_DST, CLUSTER_PROVIDED, bound to 127.0.0.6', function () {
      const c = load(this, V1208).cluster('inbound|8080||')!;
      expect(c.type).to.equal('ORIGINAL_DST');
      expect(c.lbPolicy).to.equal('CLUSTER_PROVIDED');
      expect(c.upstreamBindAddress).to.deep.equal({ address: '127.0.0.6', port: 0 });
      expect(c.staticEndpoints).to.deep.equal([]);
    });

    it('names the DestinationRule behind istiod clusters and sees its SIMPLE TLS on 8188', function () {
      const d = load(this, V1208);
      const c = d.cluster('outbound|15012||istiod-basic.istio-system.svc.cluster.local')!;
      expect(c.destinationRule).to.include({ namespace: 'istio-system', name: 'istiod-basic', version: 'v1alpha3' });
      expect(c.tlsMode).to.equal('auto mTLS (istio endpoints)');
      expect(d.cluster('outbound|8188||istiod-basic.istio-system.svc.cluster.local')!.tlsMode).to.equal('SIMPLE');
      expect(d.cluster('xds-grpc')!.staticEndpoints[0]!.address).to.deep.equal({ address: './etc/istio/proxy/XDS', pipe: true });
    });

    it('reads the 1.20 inbound chains (ALPN lists istioctl prints verbatim)', function () {
      const d = load(this, V1208);
      const vi = d.listener('virtualInbound')!;
      expect(vi.filterChains).to.have.length(11);
      expect(vi.defaultFilterChain).to.equal(undefined);
      const rows = listenerTable(d, { port: 15006 });
      expect(rows.map((r) => r.destination)).to.deep.equal([
        'Non-HTTP/Non-TCP',
        ...Array(5).fill('InboundPassthroughClusterIpv4'),
        ...Array(5).fill('Cluster: inbound|8080||'),
      ]);
      expect(rows[1]!.match).to.equal('Trans: tls; App: istio-http/1.0,istio-http/1.1,istio-h2; Addr: 0.0.0.0/0');
      expect(rows[1]!.filterChain.terminatesTls).to.equal(true);
    });

    it('lists the port 443 rows and the catch-all rows as istioctl does', function () {
      const d = load(this, V1208);
      expect(listenerTable(d, { port: 443 }).map((r) => `${r.addresses} ${r.match} ${r.destination}`)).to.deep.equal([
        '172.30.113.243 ALL Cluster: outbound|443||istio-ingressgateway.istio-system.svc.cluster.local',
        '172.30.22.177 ALL Cluster: outbound|443||istio-egressgateway.istio-system.svc.cluster.local',
        '172.30.223.49 ALL Cluster: outbound|443||istiod-basic.istio-system.svc.cluster.local',
      ]);
      const rows = listenerTable(d);
      expect(rows).to.have.length(38);
      expect(rows.filter((r) => r.port === 15001).map((r) => `${r.match} ${r.destination}`)).to.deep.equal(['ALL PassthroughCluster', 'Addr: *:15001 Non-HTTP/Non-TCP']);
    });
  });

  describe('whole listener tables against istioctl', () => {
    for (const file of [V191, V1208]) {
      it(`${stem(file)}: equals istioctl's table printed by its own code (fixtures/istioctl-oracle)`, function () {
        const d = load(this, file);
        const want = readFileSync(new URL(`real-${stem(file)}.txt`, ORACLE), 'utf8');
        expect(formatListenerTable(listenerTable(d))).to.equal(want);
      });

      it(`${stem(file)}: equals test/real-dumps-expected/ (real istioctl output) when present`, function () {
        const candidates = [`${stem(file)}.istioctl-listeners.txt`, `${file.replace(/\.json$/, '')}.istioctl-listeners.txt`].map((n) => new URL(n, ISTIOCTL_EXPECTED));
        const found = candidates.find((u) => existsSync(u));
        if (!found) {
          console.log(`      (skipped: ${candidates.map((u) => fileURLToPath(u)).join(' or ')} not generated yet)`);
          this.skip();
        }
        const d = load(this, file);
        expect(formatListenerTable(listenerTable(d))).to.equal(readFileSync(found, 'utf8'));
      });
    }
  });
});
