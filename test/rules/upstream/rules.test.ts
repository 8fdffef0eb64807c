import { expect } from 'chai';
import { Cluster } from '../../../src/model/envoy/clusters.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { parseAccessLog } from '../../../src/model/logs/access-log.js';
import { entryIsFor, isProblem, resolveDestination, splitHostPort } from '../../../src/rules/upstream/destination.js';
import type { UpstreamEvidence } from '../../../src/rules/upstream/evidence.js';
import { runRules, UPSTREAM_RULES } from '../../../src/rules/upstream/index.js';
import { failed } from '../../../src/rules/upstream/support.js';
import { AUTO_MTLS_OFF, evidence, ISTIO, PODS, rule, STRICT } from './support.js';

const found = (e: UpstreamEvidence) => runRules(e, UPSTREAM_RULES).findings.map((f) => `${f.code} ${f.target.kind} ${f.target.namespace ?? ''}/${f.target.name}`);

describe('why-503 rules on hand-made inputs', () => {
  describe('MD3001 plaintext (or no client certificate) to an mTLS server', () => {
    it('tls.mode SIMPLE in front of STRICT: TLS without a client certificate, PEER_DID_NOT_RETURN_A_CERTIFICATE matched by address', () => {
      const e = evidence({
        yaml: PODS + STRICT + rule({ mode: 'SIMPLE' }),
        clientLog: ISTIO('2026-11-21T06:40:01.118Z', '503 UF upstream_reset_before_response_started{remote_connection_failure|TLS_error:|268436572:SSL_routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED:TLS_error_end} - "-" 0 95 1 - "-" "curl/8.5.0" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:46900 10.105.235.142:8000 172.17.0.13:52044 - default'),
        serverLog: '2026-11-21T06:40:01.119000Z\tdebug\tenvoy connection external/envoy/source/common/tls/ssl_socket.cc:251\t[Tags: "ConnectionId":"7"] remote address:172.17.0.13:46900,TLS_error:|268435648:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE:TLS_error_end\tthread=21',
      });
      const run = runRules(e, UPSTREAM_RULES);
      expect(run.findings.map((f) => f.code)).to.deep.equal(['MD3001']);
      expect(run.findings[0].message).to.contain('sends TLS without a client certificate (SIMPLE)');
      expect(run.findings[0].message).to.contain('sets tls.mode SIMPLE');
      expect(run.analysis.correlations.map((c) => [c.via, c.server.reason])).to.deep.equal([['address', 'PEER_DID_NOT_RETURN_A_CERTIFICATE']]);
    });

    it('healthy twin: tls.mode DISABLE in front of a PERMISSIVE server is no mismatch', () => {
      expect(found(evidence({ yaml: PODS + rule({ mode: 'DISABLE' }) }))).to.deep.equal([]);
    });

    it('no DestinationRule and auto mTLS off: the mesh config is the culprit', () => {
      expect(found(evidence({ yaml: PODS + STRICT + AUTO_MTLS_OFF }))).to.deep.equal(['MD3001 ConfigMap istio-system/istio']);
    });

    it('Istio 1.4 (before auto mTLS): the mesh-wide *.local ISTIO_MUTUAL rule keeps mTLS; a host rule without tls replaces it', () => {
      const meshWide = rule({ mode: 'ISTIO_MUTUAL' }, 'default', 'istio-system', '*.local');
      expect(found(evidence({ yaml: PODS + STRICT + meshWide, version: '1.4.6' }))).to.deep.equal([]);
      const e = evidence({ yaml: PODS + STRICT + meshWide + rule(undefined), version: '1.4.6' });
      const run = runRules(e, UPSTREAM_RULES);
      expect(run.findings.map((f) => `${f.code} ${f.target.namespace}/${f.target.name}`)).to.deep.equal(['MD3001 foo/httpbin']);
      expect(run.findings[0].message).to.contain('it replaces istio-system/default (host *.local, ISTIO_MUTUAL)');
      expect(run.findings[0].assumes).to.deep.equal(['Istio 1.4.6 predates auto mTLS by default (1.5): a DestinationRule without tls sends plaintext']);
    });

    it('current Istio: a host rule without tls still gets ISTIO_MUTUAL through auto mTLS (healthy)', () => {
      expect(found(evidence({ yaml: PODS + STRICT + rule(undefined), version: '1.22.0' }))).to.deep.equal([]);
    });
  });

  describe('client TLS: config dump against resources', () => {
    const cluster = (metadata: Record<string, unknown>, plaintext: boolean) => new Cluster({
      name: 'outbound|8000||httpbin.foo.svc.cluster.local',
      ...(plaintext ? {} : { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default' }], combined_validation_context: { validation_context_sds_secret_config: { name: 'ROOTCA' } } } } } }),
      metadata: { filter_metadata: { istio: metadata } },
    }, 'active');

    it('believes the cluster when it names the rule that shaped it', () => {
      const e = evidence({ yaml: PODS + rule({ mode: 'ISTIO_MUTUAL' }), cluster: cluster({ config: '/apis/networking.istio.io/v1/namespaces/foo/destination-rule/httpbin' }, true) });
      expect(e.client.tls).to.deep.include({ transport: 'plaintext', basis: 'config', predicted: 'istio-mtls', ruleFrom: 'cluster-metadata' });
      expect(e.client.tls!.disagreement).to.match(/the verdict follows what Envoy is configured with$/);
    });

    it('believes the rule when the cluster names none (the rule has not reached the sidecar)', () => {
      const e = evidence({ yaml: PODS + STRICT + rule({ mode: 'DISABLE' }), cluster: cluster({}, false) });
      expect(e.client.tls).to.deep.include({ transport: 'plaintext', basis: 'resources', configMode: 'ISTIO_MUTUAL' });
      expect(e.client.tls!.disagreement).to.match(/names no DestinationRule .* the verdict follows the rule$/);
      expect(found(e)).to.deep.equal(['MD3001 DestinationRule foo/httpbin']);
    });
  });

  it('MD3006: a Service whose selector matches no pod', () => {
    const yaml = PODS.replace('selector: {app: httpbin}', 'selector: {app: httpbin-v2}');
    const e = evidence({ yaml, clientLog: ISTIO('2026-11-21T06:40:01.140Z', '503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl/8.5.0" "id" "httpbin:8000" "-" outbound|8000||httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:52080 - default') });
    const run = runRules(e, UPSTREAM_RULES);
    expect(run.findings.map((f) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`)).to.deep.equal(['MD3006 Service foo/httpbin']);
    expect(run.findings[0].message).to.contain('selects no pod');
  });

  it('MD3007: NR filter_chain_not_found on the server while the client speaks mTLS (a port without a chain)', () => {
    const e = evidence({ yaml: PODS + rule({ mode: 'ISTIO_MUTUAL' }), serverLog: '[2026-11-21T06:40:01.119Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 172.17.0.14:8080 172.17.0.13:46846 - -' });
    expect(found(e)).to.deep.equal(['MD3007 Service foo/httpbin']);
  });

  it('MD3007 stands down when MD3001 explains the NR (plaintext to STRICT)', () => {
    const e = evidence({ yaml: PODS + STRICT + rule({ mode: 'DISABLE' }), serverLog: '[2026-11-21T06:40:01.119Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 172.17.0.14:8080 172.17.0.13:46846 - -' });
    expect(found(e)).to.deep.equal(['MD3001 DestinationRule foo/httpbin']);
  });

  it('MD3005: an unknown CA blames the server pod, matched by time when the client line has no local address', () => {
    const e = evidence({
      yaml: PODS + STRICT,
      clientLog: '[2026-11-21T06:40:01.000Z] "GET /get HTTP/1.1" 503 UF,URX "-" "TLS error: 268436504:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA" 0 91 32 - "-" "curl/7.64.0" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:40000 - default',
      serverLog: '2026-11-21T06:40:01.002000Z\tdebug\tenvoy connection external/envoy/source/common/tls/ssl_socket.cc:251\t[C12] TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED\tthread=21',
    });
    const run = runRules(e, UPSTREAM_RULES);
    expect(run.findings.map((f) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`)).to.deep.equal(['MD3005 Pod foo/httpbin-1']);
    expect(run.findings[0].message).to.contain('TLSV1_ALERT_UNKNOWN_CA');
    expect(run.analysis.correlations.map((c) => c.via)).to.deep.equal(['time']);
  });

  it('MD3005: an expired certificate (old TLS error format on the server only) blames the server pod and points at its secret', () => {
    const e = evidence({
      yaml: PODS + STRICT,
      serverLog: '[2020-06-01 10:00:00.000][21][debug][connection] [external/envoy/source/extensions/transport_sockets/tls/ssl_socket.cc:215] [C9] TLS error: 268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED',
    });
    const run = runRules(e, UPSTREAM_RULES);
    expect(run.findings.map((f) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`)).to.deep.equal(['MD3005 Pod foo/httpbin-1']);
    expect(run.findings[0].message).to.contain('a certificate in the handshake has expired');
    expect(run.findings[0].remediation.command).to.equal('istioctl proxy-config secret httpbin-1.foo');
  });

  it('MD3002 does not fire on seed 004\'s zero overflow; MD3004 fires on the client\'s own ECONNREFUSED', () => {
    const e = evidence({
      yaml: PODS + STRICT,
      clientLog: ISTIO('2026-11-21T06:40:01.000Z', '503 UF upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111} - "delayed_connect_error:_111" 0 91 0 - "-" "curl/8.5.0" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:40000 - default'),
    });
    expect(found(e)).to.deep.equal(['MD3004 Pod foo/httpbin-1']);
  });
});

describe('what counts as a failed request', () => {
  it('a 5xx, a flag, an HTTP request reset before its response (0); not a TCP entry\'s 0 without a flag', () => {
    const lines = [
      ISTIO('2026-11-21T06:40:01.000Z', '503 - via_upstream - "-" 0 0 1 1 "-" "curl" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:1 10.105.235.142:8000 172.17.0.13:2 - default'),
      ISTIO('2026-11-21T06:40:01.000Z', '404 NR route_not_found - "-" 0 0 0 - "-" "curl" "id" "httpbin:8000" "-" - - 10.105.235.142:8000 172.17.0.13:2 - -'),
      ISTIO('2026-11-21T06:40:01.000Z', '0 DC downstream_remote_disconnect - "-" 0 0 1 - "-" "curl" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:1 10.105.235.142:8000 172.17.0.13:2 - default'),
      ISTIO('2026-11-21T06:40:01.000Z', '200 - via_upstream - "-" 0 10 1 1 "-" "curl" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:1 10.105.235.142:8000 172.17.0.13:2 - default'),
      '[2026-11-21T06:40:01.000Z] "- - -" 0 - - - "-" 120 340 5002 - "-" "-" "-" "-" "172.17.0.14:3306" outbound|3306||db.foo.svc.cluster.local 172.17.0.13:1 10.105.1.1:3306 172.17.0.13:2 - -',
    ];
    expect(parseAccessLog(lines.join('\n')).entries.map(failed)).to.deep.equal([true, true, true, false, false]);
  });
});

describe('destination resolution', () => {
  const resources = new ResourceSet(parseKubeObjects(PODS, 'test'));
  it('splits host, port and scheme', () => {
    expect(splitHostPort('http://httpbin.foo:8000/get?x=1')).to.deep.equal({ host: 'httpbin.foo', port: 8000, scheme: 'http' });
    expect(splitHostPort('https://example.com')).to.deep.equal({ host: 'example.com', port: 443, scheme: 'https' });
    expect(splitHostPort('[fd00::1]:80')).to.deep.equal({ host: 'fd00::1', port: 80 });
  });
  for (const input of ['httpbin', 'httpbin:8000', 'httpbin.foo:8000', 'httpbin.foo.svc.cluster.local:8000', 'http://httpbin:8000/get', '10.105.235.142:8000']) {
    it(`resolves ${input} to the Service and its cluster`, () => {
      const d = resolveDestination(input, 'foo', resources);
      expect(isProblem(d) ? d.problem : { host: d.host, port: d.port, cluster: d.clusterName }).to.deep.equal({ host: 'httpbin.foo.svc.cluster.local', port: 8000, cluster: 'outbound|8000||httpbin.foo.svc.cluster.local' });
    });
  }
  it('matches access-log entries by cluster (any subset) or, in old formats, by authority', () => {
    const d = resolveDestination('httpbin:8000', 'foo', resources);
    if (isProblem(d)) throw new Error(d.problem);
    const lines = [
      '[2018-08-28T13:06:56.454Z] "GET /get HTTP/1.1" 503 UC 0 57 0 - "-" "curl/7.35.0" "id" "httpbin:8000" "172.17.0.14:8000"',
      ISTIO('2026-11-21T06:40:01.140Z', '503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl/8.5.0" "id" "other:8000" "-" outbound|8000|v2|httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:52080 - default'),
      ISTIO('2026-11-21T06:40:01.140Z', '200 - via_upstream - "-" 0 19 0 - "-" "curl/8.5.0" "id" "httpbin:8000" "-" outbound|9000||other.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:52080 - default'),
    ];
    const json = JSON.stringify({ start_time: '2026-11-21T06:40:01.000Z', method: 'GET', path: '/get', protocol: 'HTTP/1.1', response_code: 503, response_flags: 'UC', authority: 'httpbin:8000', upstream_cluster: 'outbound|8000||httpbin.foo.svc.cluster.local' });
    expect(parseAccessLog([...lines, json].join('\n')).entries.map((x) => entryIsFor(d, x))).to.deep.equal([true, true, false, true]);
  });

  it('resolves a ServiceEntry host, and refuses a name nothing declares', () => {
    const withEntry = new ResourceSet(parseKubeObjects(`${PODS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: foo}
spec: {hosts: [api.payments.example], location: MESH_EXTERNAL, resolution: DNS, ports: [{number: 443, name: tls, protocol: TLS}]}
`, 'test'));
    const d = resolveDestination('api.payments.example', 'foo', withEntry);
    expect(isProblem(d) ? d.problem : { host: d.host, port: d.port, cluster: d.clusterName, entry: d.serviceEntry?.name }).to.deep.equal({ host: 'api.payments.example', port: 443, cluster: 'outbound|443||api.payments.example', entry: 'payments' });
    const missing = resolveDestination('nothing.example:80', 'foo', withEntry);
    expect(isProblem(missing) && missing.problem).to.equal('no Service or ServiceEntry matches "nothing.example:80" from namespace foo');
  });
});
