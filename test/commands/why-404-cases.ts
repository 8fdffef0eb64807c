// The gateway mismatches of issue 16 as oracle scenarios (test/scenarios/gw-*, each with a
// -healthy twin), with what why-404 must say about each: run offline (why-404.test.ts) and
// through the real kubectl against the test cluster (test/e2e/why-404.e2e.test.ts).
export const GATEWAY = 'istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system';
const gw = (name: string) => ({ kind: 'Gateway', namespace: 'default', name });
const vs = { kind: 'VirtualService', namespace: 'default', name: 'httpbin' };

export const WHY_404_CASES: Array<{ name: string; https?: boolean; code: string; target: object; exit: number; ending: string }> = [
  { name: 'gw-selector-no-pod', code: 'MD8001', target: gw('httpbin-gateway'), exit: 3, ending: 'no-listener' },
  { name: 'gw-port-mismatch', code: 'MD8002', target: gw('httpbin-gateway'), exit: 3, ending: 'no-listener' },
  { name: 'gw-protocol-mismatch', https: true, code: 'MD8003', target: gw('httpbin-gateway'), exit: 3, ending: 'tls-into-http' },
  { name: 'gw-vs-exportto-hidden', code: 'MD8004', target: vs, exit: 3, ending: 'no-route' },
  { name: 'gw-vs-wrong-gateway-namespace', code: 'MD8005', target: vs, exit: 3, ending: 'no-route' },
  { name: 'gw-host-not-in-gateway', code: 'MD8006', target: gw('httpbin-gateway'), exit: 3, ending: 'no-route' },
  { name: 'gw-host-not-in-gateway', https: true, code: 'MD8006', target: gw('httpbin-gateway'), exit: 3, ending: 'no-chain' },
  { name: 'gw-duplicate-tls-host', https: true, code: 'MD8007', target: gw('aaa-gateway'), exit: 3, ending: 'no-route' },
  { name: 'gw-no-virtualservice', code: 'MD8008', target: gw('httpbin-gateway'), exit: 3, ending: 'no-route' },
  { name: 'gw-route-to-missing-service', code: 'MD8009', target: vs, exit: 3, ending: 'no-cluster' },
  { name: 'gw-credential-missing', https: true, code: 'MD8011', target: gw('httpbin-gateway'), exit: 3, ending: 'warming' },
  // A warning: exit 0 at the default --fail-on error.
  { name: 'gw-https-redirect', code: 'MD8010', target: gw('httpbin-gateway'), exit: 0, ending: 'redirect' },
];

