import { connectionRefused } from '../../../src/rules/upstream/connection-refused.js';
import { noEndpoints } from '../../../src/rules/upstream/no-endpoints.js';
import { noRoute } from '../../../src/rules/upstream/no-route.js';
import { plaintextToMtls } from '../../../src/rules/upstream/plaintext-to-mtls.js';
import { tlsVerification } from '../../../src/rules/upstream/tls-verification.js';
import { ruleTester } from '../../support/rule-tester.js';
import { AUTO_MTLS_OFF, evidence, ISTIO, PODS, rule, STRICT, OPTIONS, type Input } from './support.js';

/**
 * The why-503 rules one by one through the RuleTester (the table style every
 * rule has): valid inputs give no finding, invalid ones exactly these culprits
 * as finished findings, skipped ones the engine's reason. Inputs are the
 * hand-made shapes of ./support.ts (seed 004's namespace foo, sleep ->
 * httpbin:8000 -> 8080); the lines are Envoy's formats as the lab recorded
 * them (test/fixtures/lab). The diagnosis-level table is scenarios.test.ts.
 */

const NR_AT_SERVER = '[2026-11-21T06:40:01.119Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 172.17.0.14:8080 172.17.0.13:46846 - -';
const UH_NO_HOSTS = ISTIO('2026-11-21T06:40:01.140Z', '503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl/8.5.0" "id" "httpbin:8000" "-" outbound|8000||httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:52080 - default');
const UF_REFUSED = ISTIO('2026-11-21T06:40:01.000Z', '503 UF upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111} - "delayed_connect_error:_111" 0 91 0 - "-" "curl/8.5.0" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:40000 - default');
const OK_200 = ISTIO('2026-11-21T06:40:01.000Z', '200 - via_upstream - "-" 0 612 3 2 "-" "curl/8.5.0" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:40000 10.105.235.142:8000 172.17.0.13:40001 - default');
const UNKNOWN_CA = {
  clientLog: '[2026-11-21T06:40:01.000Z] "GET /get HTTP/1.1" 503 UF,URX "-" "TLS error: 268436504:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA" 0 91 32 - "-" "curl/7.64.0" "id" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local - 10.105.235.142:8000 172.17.0.13:40000 - default',
  serverLog: '2026-11-21T06:40:01.002000Z\tdebug\tenvoy connection external/envoy/source/common/tls/ssl_socket.cc:251\t[C12] TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED\tthread=21',
};

ruleTester(plaintextToMtls, OPTIONS, {
  valid: [
    { name: 'tls.mode DISABLE in front of a PERMISSIVE server', input: { yaml: PODS + rule({ mode: 'DISABLE' }) } },
    { name: 'current Istio: a host rule without tls gets ISTIO_MUTUAL through auto mTLS', input: { yaml: PODS + STRICT + rule(undefined), version: '1.22.0' } },
    { name: 'Istio 1.4 with the mesh-wide *.local ISTIO_MUTUAL rule alone', input: { yaml: PODS + STRICT + rule({ mode: 'ISTIO_MUTUAL' }, 'default', 'istio-system', '*.local'), version: '1.4.6' } },
  ],
  invalid: [
    { name: 'tls.mode SIMPLE in front of STRICT', input: { yaml: PODS + STRICT + rule({ mode: 'SIMPLE' }) }, expect: [{ code: 'MD3001', target: 'DestinationRule foo/httpbin', severity: 'error' }] },
    { name: 'tls.mode DISABLE in front of STRICT', input: { yaml: PODS + STRICT + rule({ mode: 'DISABLE' }), serverLog: NR_AT_SERVER }, expect: [{ code: 'MD3001', target: 'DestinationRule foo/httpbin' }] },
    { name: 'no DestinationRule and auto mTLS off: the mesh config', input: { yaml: PODS + STRICT + AUTO_MTLS_OFF }, expect: [{ code: 'MD3001', target: 'ConfigMap istio-system/istio' }] },
    { name: 'Istio 1.4: a host rule without tls replaces the mesh-wide ISTIO_MUTUAL rule', input: { yaml: PODS + STRICT + rule({ mode: 'ISTIO_MUTUAL' }, 'default', 'istio-system', '*.local') + rule(undefined), version: '1.4.6' }, expect: [{ code: 'MD3001', target: 'DestinationRule foo/httpbin' }] },
  ],
  skipped: [
    { name: 'no server pod behind the Service', input: { yaml: PODS.replace('selector: {app: httpbin}', 'selector: {app: nothing}') + STRICT }, because: /no server pod behind the destination could be examined/ },
  ],
});

ruleTester(noEndpoints, OPTIONS, {
  valid: [{ name: 'the Service selects its pod', input: { yaml: PODS, clientLog: OK_200 } }],
  invalid: [{ name: 'a Service whose selector matches no pod, and UH no_healthy_upstream', input: { yaml: PODS.replace('selector: {app: httpbin}', 'selector: {app: httpbin-v2}'), clientLog: UH_NO_HOSTS }, expect: [{ code: 'MD3006', target: 'Service foo/httpbin' }] }],
});

ruleTester(noRoute, OPTIONS, {
  valid: [{ name: 'no NR anywhere', input: { yaml: PODS + rule({ mode: 'ISTIO_MUTUAL' }), clientLog: OK_200 } }],
  invalid: [{ name: 'NR filter_chain_not_found on the server while the client speaks mTLS', input: { yaml: PODS + rule({ mode: 'ISTIO_MUTUAL' }), serverLog: NR_AT_SERVER }, expect: [{ code: 'MD3007', target: 'Service foo/httpbin' }] }],
});

ruleTester(connectionRefused, OPTIONS, {
  valid: [{ name: 'the upstream answered', input: { yaml: PODS + STRICT, clientLog: OK_200 } }],
  invalid: [{ name: "UF delayed_connect_error:_111: the server pod's app refuses", input: { yaml: PODS + STRICT, clientLog: UF_REFUSED }, expect: [{ code: 'MD3004', target: 'Pod foo/httpbin-1' }] }],
});

ruleTester(tlsVerification, OPTIONS, {
  valid: [{ name: 'no TLS error on either side', input: { yaml: PODS + STRICT, clientLog: OK_200 } }],
  invalid: [
    { name: 'an unknown CA, matched by time', input: { yaml: PODS + STRICT, ...UNKNOWN_CA }, expect: [{ code: 'MD3005', target: 'Pod foo/httpbin-1' }] },
    {
      name: 'an expired certificate in the old TLS error format, server only',
      input: { yaml: PODS + STRICT, serverLog: '[2020-06-01 10:00:00.000][21][debug][connection] [external/envoy/source/extensions/transport_sockets/tls/ssl_socket.cc:215] [C9] TLS error: 268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED' },
      expect: [{ code: 'MD3005', target: 'Pod foo/httpbin-1' }],
    },
  ],
});
