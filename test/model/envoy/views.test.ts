import { expect } from 'chai';
import { ParseError } from '../../../src/errors.js';
import {
  Cluster,
  compareVersions,
  istioAtLeast,
  parseConfigDump,
  parseEnvoyVersionString,
  parseIstioClusterName,
  parseServerInfo,
} from '../../../src/model/envoy/index.js';
import { clusters, fullDump } from './fixtures.js';

const dump = () => parseConfigDump(JSON.stringify(fullDump()), 'fixture');

describe('model/envoy views', () => {
  describe('listeners and filter chains', () => {
    it('reads address, direction, original_dst and listener filters', () => {
      const d = dump();
      const vo = d.listener('virtualOutbound')!;
      expect(vo.address).to.deep.equal({ address: '0.0.0.0', port: 15001 });
      expect(vo.useOriginalDst).to.equal(true);
      expect(vo.trafficDirection).to.equal('OUTBOUND');
      const vi = d.listener('virtualInbound')!;
      expect(vi.trafficDirection).to.equal('INBOUND');
      expect(vi.useOriginalDst).to.equal(false);
      expect(vi.hasListenerFilter('original_dst')).to.equal(true);
      expect(vi.hasListenerFilter('tls_inspector')).to.equal(false);
      const h = d.listener('0.0.0.0_80')!;
      expect(h.listenerFilters.map((f) => f.name)).to.deep.equal(['envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector']);
      expect(h.bindToPort).to.equal(false);
      expect(vo.bindToPort).to.equal(true);
    });

    it('keeps the default filter chain apart and lists it last', () => {
      const h = dump().listener('0.0.0.0_80')!;
      expect(h.filterChains).to.have.length(1);
      expect(h.defaultFilterChain!.isDefault).to.equal(true);
      expect(h.defaultFilterChain!.name).to.equal('PassthroughFilterChain');
      expect(h.allFilterChains.map((c) => c.name)).to.deep.equal(['0.0.0.0_80', 'PassthroughFilterChain']);
      expect(h.defaultFilterChain!.tcpProxy!.cluster).to.equal('PassthroughCluster');
      expect(h.filterChains[0]!.match.isEmpty).to.equal(false);
      expect(h.defaultFilterChain!.match.isEmpty).to.equal(true);
    });

    it('reads every filter_chain_match criterion, including the ones istioctl does not print', () => {
      const vi = dump().listener('virtualInbound')!;
      const [tls, passthrough] = vi.filterChains;
      expect(tls!.match).to.include({ destinationPort: 9080, transportProtocol: 'tls' });
      expect(tls!.match.applicationProtocols).to.deep.equal(['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']);
      expect(passthrough!.match.prefixRanges).to.deep.equal([{ addressPrefix: '0.0.0.0', prefixLen: 0 }]);
      expect(passthrough!.match.sourceType).to.equal('SAME_IP_OR_LOOPBACK');
      expect(passthrough!.match.sourcePorts).to.deep.equal([1234]);
      const sni = dump().listener('0.0.0.0_443')!.filterChains[0]!;
      expect(sni.match.serverNames).to.deep.equal(['music.baidu.com']);
    });

    it('reads the downstream TLS context (mTLS required, ALPN, SDS names)', () => {
      const tls = dump().listener('virtualInbound')!.filterChains[0]!;
      expect(tls.terminatesTls).to.equal(true);
      const ctx = tls.transportSocket!.tls!;
      expect(ctx.kind).to.equal('downstream');
      expect(ctx.requireClientCertificate).to.equal(true);
      expect(ctx.alpnProtocols).to.deep.equal(['h2', 'http/1.1']);
      expect(ctx.certificateSdsNames).to.deep.equal(['default']);
      expect(ctx.validationSdsName).to.equal('ROOTCA');
      expect(dump().listener('0.0.0.0_80')!.filterChains[0]!.terminatesTls).to.equal(false);
    });

    it('classifies network filters and reads tcp_proxy / HCM configs', () => {
      const tls = dump().listener('virtualInbound')!.filterChains[0]!;
      expect(tls.filters.map((f) => f.kind)).to.deep.equal(['metadata_exchange', 'rbac', 'http_connection_manager']);
      const hcm = tls.httpConnectionManager!;
      expect(hcm.rdsRouteConfigName).to.equal(undefined);
      expect(hcm.inlineRouteConfig!.name).to.equal('inbound|9080||');
      expect(hcm.inlineRouteConfig!.clusterNames()).to.deep.equal(['inbound|9080||']);
      expect(hcm.httpFilters).to.deep.equal(['istio.metadata_exchange', 'envoy.filters.http.router']);
      expect(tls.terminalFilter!.kind).to.equal('http_connection_manager');
      const h80 = dump().listener('0.0.0.0_80')!.filterChains[0]!;
      expect(h80.httpConnectionManager!.rdsRouteConfigName).to.equal('80');
      expect(h80.tcpProxy).to.equal(undefined);
      const sni = dump().listener('0.0.0.0_443')!.filterChains[0]!;
      expect(sni.tcpProxy).to.deep.equal({ statPrefix: 'outbound|443||music.baidu.com', cluster: 'outbound|443||music.baidu.com', weightedClusters: [] });
    });
  });

  describe('clusters', () => {
    it('parses Istio cluster names', () => {
      expect(parseIstioClusterName('outbound|9080|v1|reviews.default.svc.cluster.local')).to.deep.equal({ direction: 'outbound', port: 9080, subset: 'v1', host: 'reviews.default.svc.cluster.local' });
      expect(parseIstioClusterName('inbound|8080||')).to.deep.equal({ direction: 'inbound', port: 8080, subset: '', host: '' });
      expect(parseIstioClusterName('PassthroughCluster')).to.equal(undefined);
      expect(parseIstioClusterName('outbound|http|x|y')).to.equal(undefined);
    });

    it('pre-1.10 inbound: STATIC to 127.0.0.1; 1.10+: ORIGINAL_DST bound to 127.0.0.6', () => {
      const d = dump();
      const old = d.cluster('inbound|9080||')!;
      expect(old.type).to.equal('STATIC');
      expect(old.lbPolicy).to.equal('ROUND_ROBIN');
      expect(old.staticEndpoints).to.deep.equal([{ address: { address: '127.0.0.1', port: 9080 }, priority: 0 }]);
      expect(old.upstreamBindAddress).to.equal(undefined);
      expect(old.services).to.deep.equal([{ host: 'productpage.default.svc.cluster.local', namespace: 'default', name: 'productpage' }]);
      expect(old.connectTimeoutSeconds).to.equal(10);
      const now = d.cluster('inbound|8080||')!;
      expect(now.type).to.equal('ORIGINAL_DST');
      expect(now.lbPolicy).to.equal('CLUSTER_PROVIDED');
      expect(now.upstreamBindAddress).to.deep.equal({ address: '127.0.0.6', port: 0 });
      expect(now.staticEndpoints).to.deep.equal([]);
    });

    it('says the TLS mode in DestinationRule words', () => {
      const mode = (raw: object) => new Cluster(raw as never, 'bare').tlsMode;
      expect(mode(clusters.autoMtls)).to.equal('auto mTLS (istio endpoints)');
      expect(mode(clusters.istioMutual)).to.equal('ISTIO_MUTUAL');
      expect(mode(clusters.simple)).to.equal('SIMPLE');
      expect(mode(clusters.mutual)).to.equal('MUTUAL');
      expect(mode(clusters.plaintext)).to.equal('plaintext');
      expect(mode({ name: 'x', transport_socket: { name: 'envoy.transport_sockets.raw_buffer' } })).to.equal('plaintext');
      // DestinationRule ISTIO_MUTUAL with auto mTLS on: every transport_socket_matches entry is TLS.
      const both = { ...clusters.autoMtls, transport_socket_matches: [clusters.autoMtls.transport_socket_matches[0], { name: 'default', match: {}, transport_socket: clusters.istioMutual.transport_socket }] };
      expect(mode(both)).to.equal('ISTIO_MUTUAL');
      expect(new Cluster(clusters.autoMtls as never, 'bare').sni).to.equal('outbound_.8000_._.httpbin.foo.svc.cluster.local');
    });

    it('reads circuit breakers, outlier detection and the DestinationRule that shaped the cluster', () => {
      const c = dump().cluster('outbound|8000||httpbin.foo.svc.cluster.local')!;
      expect(c.circuitBreakers).to.deep.equal([{ priority: 'DEFAULT', maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 4294967295 }]);
      expect(c.maxRequestsPerConnection).to.equal(1);
      const od = c.outlierDetection!;
      expect(od).to.include({ consecutive5xx: 1, intervalSeconds: 1, baseEjectionTimeSeconds: 180, maxEjectionPercent: 100 });
      expect(c.destinationRule).to.include({ namespace: 'foo', name: 'httpbin', kind: 'destination-rule' });
      expect(c.services[0]).to.deep.equal({ host: 'httpbin.foo.svc.cluster.local', name: 'httpbin', namespace: 'foo' });
      expect(c.istioName).to.deep.equal({ direction: 'outbound', port: 8000, subset: '', host: 'httpbin.foo.svc.cluster.local' });
      expect(dump().cluster('outbound|80||legacy.default.svc.cluster.local')!.destinationRule).to.equal(undefined);
    });

    it('names a cluster_type extension and defaults type to STATIC', () => {
      const d = dump();
      expect(d.cluster('outbound|80||agg')!.type).to.equal('envoy.clusters.aggregate');
      expect(d.cluster('outbound|80||agg')!.customClusterType).to.equal('envoy.clusters.aggregate');
      expect(new Cluster({ name: 'x' }, 'bare').type).to.equal('STATIC');
    });
  });

  describe('routes', () => {
    it('reads virtual hosts, domains, matches and every action kind', () => {
      const d = dump();
      const r80 = d.routeConfig('80')!;
      expect(r80.virtualHosts.map((v) => v.name)).to.deep.equal(['reviews.default.svc.cluster.local:80', 'allow_any']);
      expect(r80.virtualHosts[0]!.domains).to.include('reviews:80');
      const vs = r80.virtualHosts[0]!.routes[0]!;
      expect(vs.name).to.equal('reviews-v2');
      expect(vs.match.prefix).to.equal('/');
      expect(vs.action).to.deep.equal({
        kind: 'weighted_clusters',
        clusters: [
          { name: 'outbound|80|v1|reviews.default.svc.cluster.local', weight: 90 },
          { name: 'outbound|80|v2|reviews.default.svc.cluster.local', weight: 10 },
        ],
      });
      expect(vs.virtualService).to.include({ namespace: 'default', name: 'reviews' });
      const allowAny = r80.virtualHosts[1]!.routes[0]!;
      expect(allowAny.name).to.equal('allow_any');
      expect(allowAny.action).to.deep.equal({ kind: 'cluster', cluster: 'PassthroughCluster' });
      expect(allowAny.virtualService).to.equal(undefined);
      expect(r80.clusterNames()).to.have.members(['outbound|80|v1|reviews.default.svc.cluster.local', 'outbound|80|v2|reviews.default.svc.cluster.local', 'PassthroughCluster']);
      const r8080 = d.routeConfig('8080')!;
      const blockAll = r8080.virtualHosts[0]!.routes[0]!;
      expect(blockAll.name).to.equal('block_all');
      expect(blockAll.action).to.deep.equal({ kind: 'direct_response', status: 502 });
      const redirect = r8080.virtualHosts[1]!.routes[0]!;
      expect(redirect.action.kind).to.equal('redirect');
      expect(redirect.match.path).to.equal('/x');
    });
  });

  describe('endpoints and secrets', () => {
    it('reads EDS endpoints with health, locality and the tlsMode label', () => {
      const [cla] = dump().endpoints;
      expect(cla!.clusterName).to.equal('outbound|8000||httpbin.foo.svc.cluster.local');
      const [ep] = cla!.endpoints;
      expect(ep).to.deep.include({ address: { address: '172.17.0.14', port: 8000 }, healthStatus: 'HEALTHY', priority: 0, weight: 1, tlsMode: 'istio' });
      expect(ep!.locality).to.deep.equal({ region: 'eu-west-1', zone: 'eu-west-1c', subZone: undefined });
    });

    it('reads secret names, chain presence and the redacted key', () => {
      const [cert, root] = dump().secrets;
      expect(cert).to.deep.include({ name: 'default', state: 'active', kind: 'tls_certificate', hasCertificateChain: true, hasPrivateKey: true, privateKeyRedacted: true, hasTrustedCa: false });
      expect(cert!.pem()).to.match(/^-----BEGIN CERTIFICATE-----/);
      expect(root).to.deep.include({ name: 'ROOTCA', kind: 'validation_context', hasTrustedCa: true, hasCertificateChain: false });
      expect(root!.pem()).to.contain('ROOT');
    });
  });

  describe('versions', () => {
    it('reads Istio and Envoy versions and node metadata from the bootstrap', () => {
      const d = dump();
      expect(d.versions).to.deep.include({ istio: '1.9.1', envoy: '1.17.1', source: 'bootstrap' });
      expect(d.versions!.envoyBuild).to.deep.include({ revision: '8787f0f6', status: 'Clean', sslLibrary: 'BoringSSL' });
      const n = d.node!;
      expect(n).to.include({ namespace: 'default', podName: 'productpage-v1-6b746f74dc-9stvs', clusterId: 'Kubernetes', istioVersion: '1.9.1', interceptionMode: 'REDIRECT' });
      expect(n.labels.app).to.equal('productpage');
    });

    it('parses server_info (shape: Envoy admin ServerInfo proto, version string as Istio proxies print it)', () => {
      const text = JSON.stringify({
        version: '6f0c4bd2e9a4bd2a2d3fda3e0f6b8d0ba3f6f6cd/1.27.3/Clean/RELEASE/BoringSSL',
        state: 'LIVE',
        hot_restart_version: 'disabled',
        command_line_options: { base_id: '0', concurrency: 2, log_level: 'warning', component_log_level: 'misc:error', service_cluster: 'sleep.foo' },
        node: { id: 'sidecar~10.1.1.1~sleep-7f.foo~foo.svc.cluster.local', metadata: { ISTIO_VERSION: '1.19.3', NAMESPACE: 'foo', NAME: 'sleep-7f' } },
        uptime_current_epoch: '3600s',
        uptime_all_epochs: '7200s',
      });
      const si = parseServerInfo(text, 'server_info of sleep-7f.foo');
      expect(si.envoy).to.deep.include({ version: '1.27.3', revision: '6f0c4bd2e9a4bd2a2d3fda3e0f6b8d0ba3f6f6cd', status: 'Clean', buildType: 'RELEASE', sslLibrary: 'BoringSSL' });
      expect(si.state).to.equal('LIVE');
      expect(si.uptimeCurrentEpochSeconds).to.equal(3600);
      expect(si.uptimeAllEpochsSeconds).to.equal(7200);
      expect(si.commandLineOptions.component_log_level).to.equal('misc:error');
      expect(si.versions).to.deep.equal({ istio: '1.19.3', envoy: '1.27.3', envoyBuild: si.envoy, source: 'server_info' });
      expect(si.node.podName).to.equal('sleep-7f');
    });

    it('rejects server_info text that is not server_info', () => {
      for (const bad of ['', 'pilot-agent: error', '{"configs":[]}', '[1]', '{"version":']) {
        expect(() => parseServerInfo(bad, 'server_info')).to.throw(ParseError);
      }
    });

    it('parses dev and vendor version strings', () => {
      expect(parseEnvoyVersionString('c6160ecc/1.28.8-dev/OSSM 2.6.7-1/RELEASE/OpenSSL')).to.deep.include({ version: '1.28.8', label: 'dev', status: 'OSSM 2.6.7-1', sslLibrary: 'OpenSSL' });
      expect(parseEnvoyVersionString('garbage')).to.equal(undefined);
    });

    it('compares Istio versions with semver, tolerating vendor suffixes', () => {
      expect(istioAtLeast('1.9.1', '1.10.0')).to.equal(false);
      expect(istioAtLeast('1.10.0', '1.10.0')).to.equal(true);
      expect(istioAtLeast('1.20.8', '1.10')).to.equal(true);
      expect(istioAtLeast('1.9.1-asm.1', '1.10.0')).to.equal(false);
      expect(istioAtLeast('1.28.0-dev', '1.28.0')).to.equal(true);
      expect(istioAtLeast(undefined, '1.10.0')).to.equal(undefined);
      expect(istioAtLeast('unknown', '1.10.0')).to.equal(undefined);
      expect(compareVersions('1.9.1', '1.10.0')).to.equal(-1);
    });
  });
});
