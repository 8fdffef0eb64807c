import { Cluster } from '../../../src/model/envoy/clusters.js';
import { destinationRuleFor } from '../../../src/model/istio/destination-rule.js';
import { meshConfigFrom } from '../../../src/model/istio/mesh-config.js';
import { parseIstioVersion } from '../../../src/model/istio/version-behaviour.js';
import { podView } from '../../../src/model/k8s/pods.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { parseAccessLog } from '../../../src/model/logs/access-log.js';
import { parseEnvoyLog } from '../../../src/model/logs/envoy-log.js';
import { clientTls } from '../../../src/rules/upstream/client-tls.js';
import { entryIsFor, isProblem, podsBehind, resolveDestination } from '../../../src/rules/upstream/destination.js';
import type { UpstreamEvidence } from '../../../src/rules/upstream/evidence.js';
import { serverDemand } from '../../../src/rules/upstream/server-mtls.js';
import { analyse, upstreamEvidence, type UpstreamShared } from '../../../src/rules/upstream/index.js';
import type { RuleTesterOptions } from '../../support/rule-tester.js';

/**
 * Rules on small hand-made inputs, for the cases the fixtures do not cover
 * (tls.mode SIMPLE, auto mTLS off without a rule, Istio < 1.5 with the
 * mesh-wide rule, a Service selecting nothing, NR filter_chain_not_found with
 * an mTLS client, an unknown CA, correlation by time). Shapes as in seed 004's
 * scenario (namespace foo, sleep -> httpbin:8000 -> 8080).
 */
export const PODS = `
apiVersion: v1
kind: Pod
metadata: {name: sleep-1, namespace: foo, labels: {app: sleep}}
spec: {nodeName: node-1, containers: [{name: sleep}, {name: istio-proxy}]}
status: {phase: Running, podIP: 172.17.0.13}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-1, namespace: foo, labels: {app: httpbin, version: v1}}
spec: {nodeName: node-1, serviceAccountName: httpbin, containers: [{name: httpbin, ports: [{containerPort: 8080}]}, {name: istio-proxy}]}
status: {phase: Running, podIP: 172.17.0.14}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: foo}
spec: {clusterIP: 10.105.235.142, selector: {app: httpbin}, ports: [{name: http, port: 8000, targetPort: 8080}]}
`;
export const STRICT = `
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
`;
export const rule = (tls?: Record<string, unknown>, name = 'httpbin', ns = 'foo', host = 'httpbin') => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec: {host: '${host}'${tls ? `, trafficPolicy: {tls: ${JSON.stringify(tls)}}` : ''}}
`;
export const AUTO_MTLS_OFF = `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data: {mesh: "enableAutoMtls: false\\n"}
`;

export const ISTIO = (t: string, fields: string) => `[${t}] "GET /get HTTP/1.1" ${fields}`;

export function evidence(o: { yaml: string; clientLog?: string; serverLog?: string; version?: string; to?: string; cluster?: Cluster; appKeepAliveMs?: number; serverIdleMs?: number }): UpstreamEvidence {
  const resources = new ResourceSet(parseKubeObjects(o.yaml, 'test'));
  const mesh = meshConfigFrom(resources);
  const destination = resolveDestination(o.to ?? 'httpbin:8000', 'foo', resources);
  if (isProblem(destination)) throw new Error(destination.problem);
  const istioVersion = parseIstioVersion(o.version ?? '1.22.0');
  const lookup = destinationRuleFor(destination.host, { namespace: 'foo', labels: { app: 'sleep' } }, resources, { mesh });
  const servers = podsBehind(destination, resources.of('Pod').map(podView)).map((p) => {
    const demand = serverDemand({ port: 8080, podIp: p.ip, workload: { namespace: p.namespace, labels: p.labels }, resources, mesh });
    const log = o.serverLog ?? '';
    return {
      pod: { namespace: p.namespace, name: p.name },
      ip: p.ip,
      labels: p.labels,
      hasSidecar: p.hasSidecar,
      port: 8080,
      demand,
      envoyLog: { source: 'kubectl logs httpbin-1 -n foo -c istio-proxy', events: parseEnvoyLog(log).events.filter((e) => e.kind !== 'other') },
      accessLog: { source: 'kubectl logs httpbin-1 -n foo -c istio-proxy', entries: parseAccessLog(log).entries },
      ...(o.serverIdleMs !== undefined ? { inboundIdle: { source: 'istioctl proxy-config listeners httpbin-1 -n foo --port 8080 -o json', ms: o.serverIdleMs, listener: 'virtualInbound', excerpt: `{"common_http_protocol_options": {"idle_timeout": "${o.serverIdleMs / 1000}s"}}` } } : {}),
    };
  });
  const entries = parseAccessLog(o.clientLog ?? '').entries.filter((x) => entryIsFor(destination, x));
  return {
    client: {
      pod: { namespace: 'foo', name: 'sleep-1' },
      labels: { app: 'sleep' },
      accessLog: { source: 'kubectl logs sleep-1 -n foo -c istio-proxy', entries, totalEntries: entries.length },
      tls: clientTls({ cluster: o.cluster, endpointIsIstio: true, lookup, resources, mesh, istioVersion, port: 8000 }),
    },
    destination,
    servers,
    resources,
    mesh,
    ...(istioVersion ? { istioVersion } : {}),
    ruleLookup: lookup,
    ...(o.appKeepAliveMs !== undefined ? { appKeepAlive: { ms: o.appKeepAliveMs, source: `--app-keepalive ${o.appKeepAliveMs}ms` } } : {}),
    now: new Date(),
    captured: true,
  };
}


export type Input = Parameters<typeof evidence>[0];

/** The RuleTester's model for the why-503 rules: the hand-made evidence, with the correlation derived once. */
export const OPTIONS: RuleTesterOptions<Input, UpstreamEvidence, UpstreamShared> = {
  model: (input) => {
    const e = evidence(input);
    const { signals, correlations } = analyse(e);
    return { model: upstreamEvidence(e), shared: { signals, correlations } };
  },
  // Sources are commands a person could run, or the flag the user stated.
  sourcePattern: /^(kubectl|istioctl) |^--app-keepalive /,
};
