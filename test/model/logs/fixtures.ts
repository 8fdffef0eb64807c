/**
 * Real log lines, each with where it comes from. "seed NNN" = the incident
 * write-ups in ../shared/seeds/ (quoted verbatim); "reference" =
 * ../shared/reference/envoy-istio.md; "public" = lines quoted in public
 * issues/docs found while checking Envoy's formats; "constructed" = built from
 * the format string because no real sample was at hand (said so explicitly).
 */

// seed 004 (Portuguese write-up, 2018): client sidecar access log, Envoy's old default layout.
export const SEED_004_ACCESS =
  '[2018-08-28T13:06:56.454Z] "GET /get HTTP/1.1" 503 UC 0 57 0 - "-" "curl/7.35.0" "19095d07-320a-9be0-8ba5-e0d08cf58f52" "httpbin:8000" "172.17.0.14:8000"';

// seed 004: server sidecar at level trace (the author cut the time and thread columns).
export const SEED_004_ENVOY_LINES = [
  '[debug][filter] external/envoy/source/extensions/filters/listener/original_dst/original_dst.cc:18] original_dst: New connection accepted',
  '[debug][main] external/envoy/source/server/connection_handler_impl.cc:217] [C31] new connection',
  '[trace][connection] external/envoy/source/common/network/connection_impl.cc:389] [C31] socket event: 2',
  '[trace][connection] external/envoy/source/common/network/connection_impl.cc:457] [C31] write ready',
  '[debug][connection] external/envoy/source/common/ssl/ssl_socket.cc:111] [C31] handshake error: 2',
  '[trace][connection] external/envoy/source/common/network/connection_impl.cc:389] [C31] socket event: 3',
  '[trace][connection] external/envoy/source/common/network/connection_impl.cc:457] [C31] write ready',
  '[debug][connection] external/envoy/source/common/ssl/ssl_socket.cc:111] [C31] handshake error: 1',
  '[debug][connection] external/envoy/source/common/ssl/ssl_socket.cc:139] [C31] SSL error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST',
  '[debug][connection] external/envoy/source/common/network/connection_impl.cc:133] [C31] closing socket: 0',
];

// seed 004: curl -v from the sleep container.
export const SEED_004_CURL_V = `$ kubectl -n foo exec -it -c sleep sleep-5b597748b4-77kj5 -- curl -v http://httpbin:8000/get
* Hostname was NOT found in DNS cache
*   Trying 10.105.235.142...
* Connected to httpbin (10.105.235.142) port 8000 (#0)
> GET /get HTTP/1.1
> User-Agent: curl/7.35.0
> Host: httpbin:8000
> Accept: */*
> 
< HTTP/1.1 503 Service Unavailable
< content-length: 57
< content-type: text/plain
< date: Tue, 28 Aug 2018 12:26:54 GMT
* Server envoy is not blacklisted
< server: envoy
< 
* Connection #0 to host httpbin left intact
upstream connect error or disconnect/reset before headers`;

// seed 000 (Japanese write-up): HTTPS from any app container after a Service port 443 named http.
export const SEED_000_CURL = `$ curl https://www.google.com
curl: (35) error:140770FC:SSL routines:SSL23_GET_SERVER_HELLO:unknown protocol
command terminated with exit code 35`;

// seed 003 (Chinese write-up): a catch-all 0.0.0.0:443 chain sends HTTPS to traefik.
export const SEED_003_MISMATCH = `$ curl https://baidu.com
SSL: certificate subject name '*.example.com' does not match target host name 'baidu.com'`;
export const SEED_003_TRAEFIK = `$ curl -k -vvv https://baidu.com
...
* Server certificate:
* subject: ...=traefik...
...
404 page not found`;

// seed 002 (Japanese write-up): REGISTRY_ONLY, transcript pasted on one line.
export const SEED_002_CURL_ONE_LINE =
  'root@ubuntu-deployment-54bbd6f4ff-q9sdj:/# curl -sv http://httpbin.org/ip * Trying 52.202.2.199... * TCP_NODELAY set * Connected to httpbin.org (52.202.2.199) port 80 (#0) > GET /ip HTTP/1.1 > Host: httpbin.org > User-Agent: curl/7.58.0 > Accept: */* > < HTTP/1.1 502 Bad Gateway < date: Mon, 09 Mar 2020 16:11:01 GMT < server: envoy < content-length: 0 < * Connection #0 to host httpbin.org left intact';

// reference (istio/istio#51267): app bound to localhost after 1.10, server sidecar log excerpt.
export const REF_LOCALHOST_110 =
  '... 503 UF upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111} - "delayed_connect_error:_111" ... inbound|8080|| ...';
// reference (istio/istio#27903): mTLS / filter-chain mismatch on the server listener.
export const REF_NR_FILTER_CHAIN = '"- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - ...';
// reference: REGISTRY_ONLY HTTP.
export const REF_BLOCK_ALL = '502 - direct_response ... block_all';
// reference: TLS error formats.
export const REF_TLS_OLD = 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED';
export const REF_TLS_NEW =
  'remote address:10.0.0.5:443,TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: verify SAN list:TLS_error_end';
export const REF_BODY_TLS =
  'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED';

// public: an Istio tutorial's client sidecar line (DestinationRule TLS toward a plaintext port), Istio >= 1.9 layout,
// newer Envoy's '|' separator inside the details braces.
export const PUBLIC_WRONG_VERSION =
  '[2026-10-08T22:54:14.312Z] "GET /get HTTP/1.1" 503 URX,UF upstream_reset_before_response_started{remote_connection_failure|TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end} - "TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end" 0 121 798 - "-" "curl/8.11.1" "9de07a8b-23d1-4400-a583-2185cac860ee" "httpbin.org" "32.194.118.12:80" outbound|80||httpbin.org - 54.159.186.149:80 10.244.0.6:55130 - default';

// public: Istio layout lines quoted in a GitHub issue (tabs became runs of spaces when pasted).
export const PUBLIC_ISTIO_NEW_CONNECTION =
  '2024-04-24T01:32:42.812279Z     debug   envoy conn_handler external/envoy/source/extensions/listener_managers/listener_manager/active_tcp_listener.cc:159       [Tags: "ConnectionId":"840"] new connection from 10.244.0.1:3032       thread=30';
export const PUBLIC_ISTIO_ADMIN =
  '2024-10-31T22:45:57.528133Z     info    envoy misc external/envoy/source/common/common/logger.cc:220    change all log levels: level=\'info\' thread=25';
// public: plain Envoy layout with Tags (Envoy >= 1.27), a TLS alert from the peer.
export const PUBLIC_ENVOY_UNKNOWN_CA =
  '[2025-03-05 07:22:38.631][15][debug][connection] [source/common/tls/ssl_socket.cc:251] [Tags: "ConnectionId":"1"] remote address:172.20.0.4:443,TLS_error:|268436504:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA:TLS_error_end';
export const PUBLIC_ENVOY_POOL =
  '[2025-07-08 18:59:13.234][34][debug][pool] [external/envoy/source/common/conn_pool/conn_pool_base.cc:254] [Tags: "ConnectionId":"2"] destroying stream: 0 active remaining, readyForStream false, currentUnusedCapacity 1';
// public: a client-side body with retries and the new TLS format.
export const PUBLIC_BODY_RETRIED =
  'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end';

// constructed from Istio's 1.9+ format string: a full TCP entry for the #27903 case.
export const CONSTRUCTED_TCP_NR =
  '[2021-03-01T10:00:00.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.7:8080 10.244.2.9:51234 - -';
// constructed from Istio's 1.9+ format string: REGISTRY_ONLY HTTP (reference: 502 - direct_response, route block_all).
export const CONSTRUCTED_BLOCK_ALL =
  '[2021-03-01T10:00:00.000Z] "GET /ip HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "curl/7.58.0" "0b0f5e2e-0000-0000-0000-000000000000" "httpbin.org" "-" - - 52.202.2.199:80 172.17.0.8:41234 - block_all';
// constructed from Istio 1.3-1.8's EnvoyTextLogFormat13 (istio/istio listener.go).
export const CONSTRUCTED_ISTIO_18 =
  '[2020-06-01T10:00:00.000Z] "GET /headers HTTP/1.1" 503 UF,URX "-" "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" 0 91 32 - "-" "curl/7.64.0" "3f6c7f6a-1111-2222-3333-444444444444" "httpbin:8000" "10.244.0.12:8000" outbound|8000||httpbin.foo.svc.cluster.local - 10.96.10.20:8000 10.244.0.11:40000 - default';
// constructed: Istio JSON access log (keys from the reference).
export const CONSTRUCTED_JSON_ACCESS = JSON.stringify({
  start_time: '2021-03-01T10:00:00.000Z',
  method: 'GET',
  path: '/get',
  protocol: 'HTTP/1.1',
  response_code: 503,
  response_flags: 'UF',
  response_code_details: 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}',
  connection_termination_details: null,
  upstream_transport_failure_reason: 'delayed_connect_error:_111',
  bytes_received: 0,
  bytes_sent: 91,
  duration: 1,
  upstream_service_time: null,
  x_forwarded_for: null,
  user_agent: 'curl/7.74.0',
  request_id: 'abc',
  authority: 'app:8080',
  upstream_host: '10.244.0.5:8080',
  upstream_cluster: 'inbound|8080||',
  upstream_local_address: '127.0.0.6:40123',
  downstream_local_address: '10.244.0.5:8080',
  downstream_remote_address: '10.244.0.9:51234',
  requested_server_name: 'outbound_.8080_._.app.default.svc.cluster.local',
  route_name: 'default',
  team: 'payments',
});
// constructed from Istio's LogAsJSON --log-format (istio/istio pkg/envoy/proxy.go).
export const CONSTRUCTED_JSON_ENVOY = JSON.stringify({
  level: 'debug',
  time: '2024-01-01T00:00:00.000000Z',
  scope: 'envoy connection',
  msg: '[Tags: "ConnectionId":"77"] remote address:10.0.0.9:52000,TLS_error:|268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST:TLS_error_end',
  caller: 'external/envoy/source/common/tls/ssl_socket.cc:251',
  thread: 24,
});
// constructed from the older Istio layout (%Y-%m-%dT%T.%fZ\t%l\tenvoy %n\t%v).
export const CONSTRUCTED_ISTIO_LEGACY =
  '2020-05-01T10:00:00.000000Z\tdebug\tenvoy connection\t[C12] remote address:10.0.0.5:443,TLS error: 268435648:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE';
// constructed from the current Istio layout (%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t).
export const CONSTRUCTED_ISTIO_NO_CHAIN =
  '2024-05-01T10:00:00.000000Z\tdebug\tenvoy conn_handler external/envoy/source/common/listener_manager/active_stream_listener_base.cc:48\tclosing connection from 10.244.0.9:51234: no matching filter chain found\tthread=21';
export const CONSTRUCTED_ROUTER_RESET =
  '2024-05-01T10:00:00.000000Z\tdebug\tenvoy router external/envoy/source/common/router/router.cc:1300\t[Tags: "ConnectionId":"5","StreamId":"123456"] upstream reset: reset reason: remote connection failure, transport failure reason: delayed connect error: 111\tthread=22';
