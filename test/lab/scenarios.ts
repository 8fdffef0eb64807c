/**
 * The lab's scenarios: an oracle scenario (test/scenarios/<oracle>, the config
 * Istio generates) plus what the generator does not describe — which apps run
 * in which pod, pods without a sidecar (servers outside the mesh), extra host
 * names, and what to try. External hosts get addresses from TEST-NET-3
 * (203.0.113.0/24, RFC 5737) inside the lab's own bridge: no lab packet can
 * leave the machine, and none is addressed to a real host.
 */
import type { IssueOptions } from './ca.js';

export interface AppSpec {
  /** The container's name (kubectl exec -c). */
  container: string;
  port: number;
  /** 0.0.0.0 (default) or 127.0.0.1 (an app that listens only on localhost). */
  bind?: string;
  /** Serve HTTPS with a certificate from the lab CA carrying these names. */
  tls?: Pick<IssueOptions, 'dnsNames' | 'commonName'>;
  keepaliveMs?: number;
}

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
  /** Extra /etc/hosts names in every pod. */
  hosts?: Record<string, string>;
  /** Certificate overrides by `<namespace>/<app label>` (another trust domain, past dates, ...). */
  certs?: Record<string, Partial<IssueOptions>>;
  /** Commands to try, shown by `npm run lab`. */
  try: string[];
}

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
    try: [
      'kubectl exec sleep-5b597748b4-77kj5 -n foo -c sleep -- curl -sv http://httpbin:8000/headers',
      'kubectl mesh-doctor why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000',
    ],
  },
];

export function findScenario(name: string): LabScenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
