/**
 * The lab's scenarios: an oracle scenario (test/scenarios/<oracle>, the config
 * Istio generates) plus what the generator does not describe — which apps run
 * in which pod, pods without a sidecar (servers outside the mesh), extra host
 * names, and what to try. External hosts get addresses from TEST-NET-3
 * (203.0.113.0/24, RFC 5737) inside the lab's own bridge: no lab packet can
 * leave the machine, and none is addressed to a real host.
 */
import { asn1Time, type IssueOptions } from './ca.js';
import type { Shape } from './envoy-config.js';

export interface AppSpec {
  /** The container's name (kubectl exec -c). */
  container: string;
  port: number;
  /** 0.0.0.0 (default) or 127.0.0.1 (an app that listens only on localhost). */
  bind?: string;
  /** Serve HTTPS with a certificate from the lab CA carrying these names. */
  tls?: Pick<IssueOptions, 'dnsNames' | 'commonName'>;
  keepaliveMs?: number;
  /** Answer every request with this status (an ext_authz provider: 403 denies, 200 allows). */
  status?: number;
}

/** A sidecar's certificate as the scenario wants it: the lab CA's issue options, and which root issues it (default the mesh's). */
export type CertOverride = Partial<IssueOptions> & { ca?: string };

export interface PlainPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
}

export interface LabScenario {
  name: string;
  /** The oracle scenario folder under test/scenarios. */
  oracle: string;
  description: string;
  /** Apps by `<namespace>/<app label>`. */
  apps: Record<string, AppSpec[]>;
  plainPods?: PlainPod[];
  /** Earlier Istio shapes applied to the generated config (envoy-config.ts SHAPES). */
  shapes?: Shape[];
  /** Extra /etc/hosts names in every pod. */
  hosts?: Record<string, string>;
  /** Certificate overrides by `<namespace>/<app label>` (another trust domain, past dates, another root: `ca`, ...). */
  certs?: Record<string, CertOverride>;
  /** The scenario's own request: a command (`$CA` stands for the lab CA's root) in a pod's container. */
  traffic: { namespace: string; pod: string; container: string; argv: string[]; timeoutMs?: number };
  /** Commands to try, shown by `npm run lab`. */
  try: string[];
}

const seed004Traffic = { namespace: 'foo', pod: 'sleep-5b597748b4-77kj5', container: 'sleep', argv: ['curl', '-sS', '-v', 'http://httpbin:8000/headers'] };
const seed004Apps = {
  'foo/sleep': [{ container: 'sleep', port: 80 }],
  'foo/httpbin': [{ container: 'httpbin', port: 8080 }],
};

export const SCENARIOS: LabScenario[] = [
  {
    name: 'seed004-dr-tls-disable',
    oracle: 'seed004-dr-tls-disable',
    description: 'DestinationRule httpbin with tls.mode DISABLE in front of a STRICT server: sleep gets 503 UC.',
    apps: seed004Apps,
    traffic: seed004Traffic,
    try: [
      'kubectl exec sleep-5b597748b4-77kj5 -n foo -c sleep -- curl -sv http://httpbin:8000/headers',
      "kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000 --reproduce 'curl -sv http://httpbin:8000/headers'",
    ],
  },
  {
    name: 'seed004-dr-tls-disable-healthy',
    oracle: 'seed004-dr-tls-disable-healthy',
    description: 'The healthy twin: ISTIO_MUTUAL, real mutual TLS between the sidecars, 200.',
    apps: seed004Apps,
    traffic: seed004Traffic,
    try: [
      'kubectl exec sleep-5b597748b4-77kj5 -n foo -c sleep -- curl -sv http://httpbin:8000/headers',
      'kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000',
    ],
  },
  {
    name: 'seed004-dr-no-tls-automtls-off',
    oracle: 'seed004-dr-no-tls-automtls-off',
    description: 'Auto mTLS off and a DestinationRule without tls: plaintext to a STRICT server, 503 UC.',
    apps: seed004Apps,
    traffic: seed004Traffic,
    try: ["kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000 --reproduce 'curl -sv http://httpbin:8000/headers'"],
  },
  {
    name: 'seed004-dr-no-tls-automtls-off-healthy',
    oracle: 'seed004-dr-no-tls-automtls-off-healthy',
    description: 'The twin: the DestinationRule sets ISTIO_MUTUAL.',
    apps: seed004Apps,
    traffic: seed004Traffic,
    try: ['kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000'],
  },
];

/** An external HTTPS host outside the mesh: a pod without a sidecar serving its name's certificate. */
function externalHttps(name: string, app: string, ip: string) {
  return {
    apps: { [`external/${app}`]: [{ container: 'web', port: 443, tls: { dnsNames: [name], commonName: name } }] },
    pod: { namespace: 'external', name: app, ip, labels: { app } },
  };
}

/** Seed 003's client and the catch-all's backend (traefik, serving *.example.com). */
const seed003Mesh = {
  apps: {
    'istio-demo/sample': [{ container: 'sample', port: 8080 }],
    'abc/traefik': [{ container: 'traefik', port: 443, tls: { dnsNames: ['*.example.com'], commonName: '*.example.com' } }],
  },
  traefik: { namespace: 'abc', name: 'traefik-7d9c4b8f6-ztq2x', ip: '10.244.2.50', labels: { app: 'traefik' } },
};
const baidu = externalHttps('baidu.com', 'baidu', '203.0.113.20');

/** Seed 003's hosts: the catch-all's backend (traefik) and an unrelated external HTTPS host. */
const seed003 = {
  apps: { ...seed003Mesh.apps, ...baidu.apps },
  plainPods: [seed003Mesh.traefik, baidu.pod],
  hosts: { 'traefik.cutom-name': '10.244.2.50', 'traefik.abc.svc.cluster.local': '10.244.2.50', 'baidu.com': '203.0.113.20' },
  traffic: { namespace: 'istio-demo', pod: 'sample-c59f744df-8kq7m', container: 'sample', argv: ['curl', '-sS', '-v', '--cacert', '$CA', 'https://baidu.com/'] },
};
const seed003Try = [
  'kubectl exec sample-c59f744df-8kq7m -n istio-demo -c sample -- curl -sv --cacert $LAB_CA https://baidu.com/',
  'kubectl mesh-doctor why-https-fails sample-c59f744df-8kq7m.istio-demo --host baidu.com --probe',
  'kubectl mesh-doctor who-owns-443 -A',
];

/** Seed 002's external hosts (the ServiceEntry of the healthy twin resolves both by DNS). */
const seed002 = {
  apps: { 'default/ubuntu': [{ container: 'ubuntu', port: 8080 }], 'external/httpbin-org': [{ container: 'web', port: 80 }] },
  plainPods: [{ namespace: 'external', name: 'httpbin-org', ip: '203.0.113.10', labels: { app: 'httpbin-org' } }],
  hosts: { 'httpbin.org': '203.0.113.10', 'www.google.com': '203.0.113.11' },
  traffic: { namespace: 'default', pod: 'ubuntu-deployment-54bbd6f4ff-q9sdj', container: 'ubuntu', argv: ['curl', '-sS', '-v', 'http://httpbin.org/headers'] },
};
const seed002Try = [
  'kubectl exec ubuntu-deployment-54bbd6f4ff-q9sdj -c ubuntu -- curl -sv http://httpbin.org/headers',
  'kubectl mesh-doctor why-502 ubuntu-deployment-54bbd6f4ff-q9sdj.default --host httpbin.org',
];

/** Seed 001: a client outside the mesh calls the app's pod IP; the inbound cluster is ORIGINAL_DST from 127.0.0.6. */
function seed001(bind: string) {
  return {
    apps: { 'default/app': [{ container: 'app', port: 8080, bind }], 'default/client': [{ container: 'client', port: 9090 }] },
    plainPods: [{ namespace: 'default', name: 'client', ip: '10.244.1.60', labels: { app: 'client' } }],
    traffic: { namespace: 'default', pod: 'client', container: 'client', argv: ['curl', '-sS', '-v', 'http://10.244.1.50:8080/headers'] },
  };
}
const seed001Try = [
  'kubectl exec client -c client -- curl -sv http://10.244.1.50:8080/headers',
  'kubectl mesh-doctor why-inbound-fails app-5f7b9c6d8-q7w2e.default --port 8080',
];

/** Seed 000: every pod's HTTPS to an external host on 443, against a Service port 443 named http. */
const google = externalHttps('www.google.com', 'google', '203.0.113.30');
const seed000 = {
  apps: { 'team-b/web': [{ container: 'web', port: 8080 }], 'default/my-app': [{ container: 'my-app', port: 5000 }], ...google.apps },
  plainPods: [google.pod],
  hosts: { 'www.google.com': '203.0.113.30' },
  traffic: { namespace: 'team-b', pod: 'web-6d4cf56db6-x2pnq', container: 'web', argv: ['curl', '-sS', '-v', '--cacert', '$CA', 'https://www.google.com/'] },
  try: [
    'kubectl exec web-6d4cf56db6-x2pnq -n team-b -c web -- curl -sv --cacert $LAB_CA https://www.google.com/',
    'kubectl mesh-doctor why-https-fails web-6d4cf56db6-x2pnq.team-b --host www.google.com --probe',
  ],
};

/** Seed 003 after the Sidecar (egress ./*): the MESH_EXTERNAL workaround entries for the baidu hosts are hidden. */
const wwwBaidu = externalHttps('www.baidu.com', 'www-baidu', '203.0.113.21');
const seed003Sidecar = {
  apps: { ...seed003Mesh.apps, ...wwwBaidu.apps },
  plainPods: [seed003Mesh.traefik, wwwBaidu.pod],
  // Every host of the workaround entries resolves (DNS clusters that cannot resolve hold Envoy in PRE_INITIALIZING).
  hosts: {
    ...seed003.hosts, 'www.baidu.com': '203.0.113.21', 'baike.baidu.com': '203.0.113.22', 'music.baidu.com': '203.0.113.23',
    'dict.baidu.com': '203.0.113.24', 'api.spotify.com': '203.0.113.25',
  },
  traffic: { namespace: 'istio-demo', pod: 'sample-c59f744df-8kq7m', container: 'sample', argv: ['curl', '-sS', '-v', '--cacert', '$CA', 'https://www.baidu.com/'] },
  try: ['kubectl mesh-doctor why-https-fails sample-c59f744df-8kq7m.istio-demo --host www.baidu.com --probe'],
};

SCENARIOS.push(
  { name: 'seed003-sidecar-hides-external-se', oracle: 'seed003-sidecar-hides-external-se', description: 'A Sidecar (egress ./*) hides the workaround ServiceEntries: HTTPS to www.baidu.com falls into the catch-all again.', ...seed003Sidecar },
  { name: 'seed003-sidecar-hides-external-se-healthy', oracle: 'seed003-sidecar-hides-external-se-healthy', description: 'The twin of the Sidecar variant.', ...seed003Sidecar },
  { name: 'seed000-http-on-443-pre-1.8', oracle: 'seed000-port-443-named-http', description: 'Istio < 1.8 shape: the outbound 443 listener is an HTTP connection manager; HTTPS from every pod fails.', shapes: ['pre-1.8-http-on-443'], ...seed000 },
  { name: 'seed000-http-on-443-current', oracle: 'seed000-port-443-named-http', description: 'The same Service on current Istio: TLS on 443 passes through.', ...seed000 },
  { name: 'seed003-se-no-addresses-tcp', oracle: 'seed003-se-no-addresses-tcp', description: 'A ServiceEntry (443/TCP, no addresses) owns 0.0.0.0:443: HTTPS to baidu.com reaches traefik and its *.example.com certificate.', ...seed003, try: seed003Try },
  { name: 'seed003-se-no-addresses-tcp-healthy', oracle: 'seed003-se-no-addresses-tcp-healthy', description: 'The twin: the ServiceEntry has an address; HTTPS to baidu.com passes through to baidu.com.', ...seed003, try: seed003Try },
  { name: 'seed002-registry-only-unregistered', oracle: 'seed002-registry-only-unregistered', description: 'REGISTRY_ONLY and no ServiceEntry for httpbin.org: 502 from block_all.', ...seed002, try: seed002Try },
  { name: 'seed002-registry-only-se-exportto-hidden', oracle: 'seed002-registry-only-se-exportto-hidden', description: 'REGISTRY_ONLY; a ServiceEntry for httpbin.org exists but its exportTo hides it from the client namespace: 502 from block_all.', ...seed002, try: seed002Try },
  { name: 'seed002-registry-only-unregistered-healthy', oracle: 'seed002-registry-only-unregistered-healthy', description: 'The twin: a ServiceEntry registers httpbin.org.', ...seed002, try: seed002Try },
  { name: 'seed001-app-on-localhost', oracle: 'seed001-inbound-original-dst', description: 'The app listens on 127.0.0.1:8080 only; the inbound cluster (ORIGINAL_DST, from 127.0.0.6) sends to the pod IP: 503 URX,UF.', ...seed001('127.0.0.1'), try: seed001Try },
  { name: 'seed001-app-on-localhost-pre-1.10', oracle: 'seed001-inbound-original-dst', description: 'Before Istio 1.10 (STATIC inbound cluster to 127.0.0.1): the same app on 127.0.0.1 works and sees peer 127.0.0.1.', shapes: ['pre-1.10-inbound'], ...seed001('127.0.0.1'), try: seed001Try },
  { name: 'seed001-app-on-all-interfaces', oracle: 'seed001-inbound-original-dst', description: 'The twin: the app listens on 0.0.0.0:8080 and sees peer 127.0.0.6.', ...seed001('0.0.0.0'), try: seed001Try },
);

/** Issue 12: AuthorizationPolicies on httpbin (seed 004's pods), a broken scenario beside its healthy twin. */
const why403Try = [
  'kubectl exec sleep-5b597748b4-77kj5 -n foo -c sleep -- curl -sv http://httpbin:8000/headers',
  'kubectl mesh-doctor why-403 sleep-5b597748b4-77kj5.foo --to httpbin:8000',
];
const authz = (name: string, description: string): LabScenario => ({ name, oracle: name, description, apps: seed004Apps, traffic: seed004Traffic, try: why403Try });
SCENARIOS.push(
  authz('authz-deny-before-allow', 'A DENY policy (rule 1: GET /headers) beside an ALLOW policy for sleep: DENY wins, 403 naming the DENY rule.'),
  authz('authz-deny-before-allow-healthy', 'The twin: the DENY rule names /debug; sleep gets 200.'),
  authz('authz-principals-plaintext', 'An ALLOW policy for principal cluster.local/ns/foo/sa/sleep; the DestinationRule sends plaintext to the PERMISSIVE port: 403, matched policy none.'),
  authz('authz-principals-plaintext-healthy', 'The twin: auto mTLS, the server sees sleep\'s identity; 200.'),
  customProvider('authz-custom-provider-denies', 403, 'A CUSTOM policy sends /headers to the ext_authz provider (behind its own sidecar), which answers 403: 403 UAEX ext_authz_denied.'),
  authz('authz-tcp-deny', 'The httpbin port is TCP: the network RBAC filter closes sleep\'s connection (DENY from namespace foo to port 8080); no HTTP 403, the details name the policy.'),
  authz('authz-tcp-deny-healthy', 'The twin: the DENY rule names namespace bar; sleep gets 200 through the TCP proxy.'),
  customProvider('authz-custom-provider-denies-healthy', 200, 'The twin: the same config, the provider answers 200; sleep gets 200.'),
);

/** The CUSTOM policy's provider: the Service ext-authz's pod (with its own sidecar), whose app answers every check with `status`. */
function customProvider(name: string, status: number, description: string): LabScenario {
  return {
    ...authz(name, description),
    oracle: name,
    apps: { ...seed004Apps, 'foo/ext-authz': [{ container: 'ext-authz', port: 8000, status }] },
  };
}

/**
 * The keep-alive race (istio#55138, #45802): httpbin's app is Node 20 with keepAliveTimeout 1 s (it sends
 * `Keep-Alive: timeout=1`, and Node 20 closes the idle socket about 1 s after that, ~2 s after the response). sleep runs
 * 20 loops at once, each request followed by a pause swept over 1.700-1.850 s, so pooled connections are reused just
 * as the app closes them. On the lab's local paths the window is a fraction of a millisecond: 3 of 1000 requests
 * were reset in the recorded run (test/fixtures/lab/keepalive-race), 0 of 1000 in the twin.
 */
const RACE_LOOPS = 20;
const RACE_REQUESTS = 50;
const raceLoop = `for i in $(seq 0 ${RACE_REQUESTS - 1}); do curl -sS -o /dev/null -w '%{http_code}\\n' http://httpbin:8000/headers; ms=$((1700 + (i * 7 + $1 * 13) % 151)); sleep $((ms / 1000)).$(printf '%03d' $((ms % 1000))); done`;
const keepaliveRace = {
  apps: { 'foo/sleep': [{ container: 'sleep', port: 80 }], 'foo/httpbin': [{ container: 'httpbin', port: 8080, keepaliveMs: 1000 }] },
  traffic: {
    namespace: 'foo', pod: 'sleep-5b597748b4-77kj5', container: 'sleep', timeoutMs: RACE_REQUESTS * 3_000,
    argv: ['sh', '-c', `for l in $(seq 0 ${RACE_LOOPS - 1}); do sh -c "$0" race $l & done; wait`, raceLoop],
  },
  try: [
    "kubectl exec sleep-5b597748b4-77kj5 -n foo -c sleep -- sh -c 'for i in $(seq 50); do curl -s -o /dev/null -w \"%{http_code}\\n\" http://httpbin:8000/headers; sleep 1.8; done'",
    'kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000 --app-keepalive 1s',
  ],
};
SCENARIOS.push(
  { name: 'keepalive-race', oracle: 'keepalive-race', description: "The app's keep-alive is 1 s, the DestinationRule leaves idleTimeout at Envoy's 1h: a few requests on reused connections get 503 (UC on the server's inbound).", ...keepaliveRace },
  { name: 'keepalive-race-healthy', oracle: 'keepalive-race-healthy', description: 'The twin: idleTimeout 500ms, below the app keep-alive; every request succeeds.', ...keepaliveRace },
);

/**
 * Issue 12 (why-mtls-fails): the handshake between sleep and httpbin broken
 * one way at a time, with real certificates from the lab's CAs and Istio's
 * generated clusters; seed004-dr-tls-disable-healthy is the healthy twin of
 * the certificate variants, each DestinationRule scenario has its own.
 */
const mtlsTry = [
  'kubectl exec sleep-5b597748b4-77kj5 -n foo -c sleep -- curl -sv http://httpbin:8000/headers',
  "kubectl mesh-doctor why-mtls-fails sleep-5b597748b4-77kj5.foo --to httpbin:8000 --reproduce 'curl -sv http://httpbin:8000/headers'",
];
const hoursFromNow = (h: number) => asn1Time(new Date(Date.now() + h * 3600_000));
const mtls = (name: string, oracle: string, description: string, httpbinCert?: CertOverride): LabScenario => ({
  name, oracle, description, apps: seed004Apps, traffic: seed004Traffic, try: mtlsTry, ...(httpbinCert ? { certs: { 'foo/httpbin': httpbinCert } } : {}),
});
SCENARIOS.push(
  mtls('mtls-wrong-service-account', 'seed004-dr-tls-disable-healthy', "httpbin's certificate says service account other (the pod runs as httpbin): sleep refuses it (SAN), 503 UF.", { serviceAccount: 'other' }),
  mtls('mtls-foreign-trust-domain', 'seed004-dr-tls-disable-healthy', "httpbin's certificate is from trust domain east.example: sleep accepts only cluster.local, 503 UF.", { trustDomain: 'east.example' }),
  mtls('mtls-second-root', 'seed004-dr-tls-disable-healthy', "httpbin's certificate and root come from a second CA (a cacerts change without restarts): neither side trusts the other, 503 UF.", { ca: 'second' }),
  mtls('mtls-expired-certificate', 'seed004-dr-tls-disable-healthy', "httpbin's certificate expired two days ago: sleep refuses it, 503 UF.", { notBefore: hoursFromNow(-72), notAfter: hoursFromNow(-48) }),
  mtls('mtls-dr-wrong-san', 'mtls-dr-wrong-san', 'The DestinationRule httpbin names subjectAltNames .../sa/httpbin-v2; httpbin presents .../sa/httpbin: 503 UF.'),
  mtls('mtls-dr-wrong-san-healthy', 'mtls-dr-wrong-san-healthy', 'The twin: subjectAltNames name .../sa/httpbin; 200.'),
  mtls('mtls-double-tls', 'mtls-double-tls', "The DestinationRule httpbin sets tls.mode SIMPLE toward a sidecar'd PERMISSIVE server: the client sidecar's TLS passes through to the plaintext app."),
  mtls('mtls-double-tls-healthy', 'mtls-double-tls-healthy', 'The twin: ISTIO_MUTUAL; 200.'),
);

/**
 * Issue 16: the ingress gateway as a real Envoy (the oracle generates its
 * router config from the Gateway and VirtualService), httpbin behind it with
 * its sidecar, and a client outside the mesh calling the gateway pod on its
 * HTTP port (8080, the Service's targetPort for 80: the lab has no kube-proxy).
 */
const gatewayTraffic = {
  apps: { 'default/httpbin': [{ container: 'httpbin', port: 8080 }], 'default/client': [{ container: 'client', port: 9090 }] },
  plainPods: [{ namespace: 'default', name: 'client', ip: '10.244.1.60', labels: { app: 'client' } }],
  traffic: { namespace: 'default', pod: 'client', container: 'client', argv: ['curl', '-sS', '-v', '-H', 'Host: httpbin.example.com', 'http://10.244.0.10:8080/status/200'] },
  try: [
    "kubectl exec client -c client -- curl -sv -H 'Host: httpbin.example.com' http://10.244.0.10:8080/status/200",
    'kubectl mesh-doctor why-404 istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system --host httpbin.example.com --path /status/200',
  ],
};
SCENARIOS.push(
  { name: 'gw-host-not-in-gateway', oracle: 'gw-host-not-in-gateway', description: 'The Gateway lists only bookinfo.example.com; the VirtualService for httpbin.example.com is dropped: the gateway answers 404.', ...gatewayTraffic },
  { name: 'gw-credential-missing', oracle: 'gw-credential-missing', description: "The HTTPS server's credentialName names a Secret that does not exist: the gateway's 8443 listener waits for it (warming); HTTP still works.", ...gatewayTraffic },
  { name: 'gw-ingress-healthy', oracle: 'gw-ingress-healthy', description: 'The twin: Gateway and VirtualService meet; 200 from httpbin through the gateway.', ...gatewayTraffic },
);

export function findScenario(name: string): LabScenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
