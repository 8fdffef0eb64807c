/**
 * MD4001 (the app listens only on localhost while the sidecar forwards to the
 * pod IP) and MD4003 (nothing listens on the port).
 *
 * Istio before 1.10 forwarded inbound connections to 127.0.0.1:PORT (a STATIC
 * inbound cluster); from 1.10 to POD_IP:PORT (ORIGINAL_DST, source
 * 127.0.0.6; istio/istio#30226). An app bound to 127.0.0.1 only then refuses
 * the sidecar: `503 UF ... delayed_connect_error:_111 ... inbound|8080||`
 * (istio/istio#51267). `istioctl x precheck` reported it as IST0143 from 1.10
 * until 1.21 (#48449). A Sidecar ingress `defaultEndpoint: 127.0.0.1:PORT`
 * makes the cluster STATIC to 127.0.0.1 again, for that port only.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { inboundForwardsToPodIp, networkingApiVersion } from '../../model/istio/version-behaviour.js';
import { whoListensOn, type ListeningSocket } from '../../model/sockets.js';
import { clusterExcerpt } from './path.js';
import { evidenceOf, outcome, podName, refusedInbound, servedInbound, type InboundFacts, type LoggedAccess, type InboundCheck } from './facts.js';
import { workloadOf } from '../../model/k8s/workload.js';

const ISTIO_PORTS = new Set([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090]);

/** Sockets that belong to the app, not to Envoy or pilot-agent. */
export function appSockets(sockets: readonly ListeningSocket[]): ListeningSocket[] {
  return sockets.filter((s) => !ISTIO_PORTS.has(s.port) && s.process !== 'envoy' && s.process !== 'pilot-agent' && s.uid !== 1337);
}

function socketText(s: ListeningSocket): string {
  return `${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}${s.process ? ` (${s.process})` : ''}`;
}

export function listening(facts: InboundFacts): InboundCheck {
  const { pod, port } = facts;
  const appPort = port.appPort;
  if (appPort === undefined) return outcome([], [], `the app port of ${port.label} is unknown`);
  const mode = facts.forwarding?.value.forwarding?.mode;
  const refused = facts.accessLog ? refusedInbound(facts.accessLog.value, appPort) : [];
  const target = workloadOf(pod);

  if (!facts.sockets) {
    if (refused.length > 0 && (mode === 'original-dst-127.0.0.6' || mode === 'original-dst')) {
      return outcome([
        makeFinding('MD4003', {
          message: `The sidecar of ${podName(pod)} gets "connection refused" from ${pod.ip ?? 'the pod IP'}:${appPort} (${refused.length} access-log line${refused.length > 1 ? 's' : ''}): nothing accepts connections there. The app may listen only on 127.0.0.1 (MD4001); the listening sockets could not be read to tell.`,
          target,
          evidence: [
            evidenceOf(facts.accessLog!, refused.slice(-3).map((e) => e.raw).join('\n'), 'delayed_connect_error:_111 is ECONNREFUSED from the app port'),
            evidenceOf(facts.forwarding!, clusterExcerpt(facts.forwarding!.value.cluster!)),
          ],
          remediation: {
            text: `Check where the app listens (\`kubectl exec ${pod.name} -n ${pod.namespace} -c istio-proxy -- ss -ltn\`); it must accept connections on ${pod.ip ?? 'the pod IP'}:${appPort} or 0.0.0.0:${appPort}.`,
            command: `kubectl exec ${pod.name} -n ${pod.namespace} -c istio-proxy -- ss -ltn`,
          },
          assumes: ['Istio 1.10+ forwards inbound connections to the pod IP (ORIGINAL_DST; istio/istio#30226)'],
        }),
      ], []);
    }
    const served = facts.accessLog ? servedInbound(facts.accessLog.value, appPort) : [];
    // The app answered the sidecar at the pod IP: it listens there. (Forwarding to 127.0.0.1 proves nothing about the pod IP.)
    if (served.length > 0 && (mode === 'original-dst-127.0.0.6' || mode === 'original-dst')) {
      return outcome([], [`port ${appPort}: the app answered ${served.length} request${served.length > 1 ? 's' : ''} the sidecar sent to the pod IP (access log; the sockets were not read)`]);
    }
    return outcome([], [], 'the listening sockets are not available (no ss/netstat in the proxy image, or not in the snapshot)');
  }

  const sockets = facts.sockets.value;
  const who = whoListensOn(sockets, appPort, pod.ip ? { podIp: pod.ip } : {});
  const notes: string[] = [];
  if (who.sockets.length === 0) {
    const others = appSockets(sockets).filter((s) => s.port !== appPort);
    const otherPorts = [...new Set(others.map((s) => s.port))];
    const evidence = [evidenceOf(facts.sockets, sockets.map((s) => s.raw).join('\n') || '(no listening sockets)', `no socket listens on port ${appPort}`)];
    if (refused.length > 0) evidence.push(evidenceOf(facts.accessLog!, refused.slice(-3).map((e) => e.raw).join('\n'), 'the sidecar is refused on the app port'));
    return outcome([
      makeFinding('MD4003', {
        message: `Nothing in pod ${podName(pod)} listens on port ${appPort}${port.service ? ` (${port.label})` : ''}${otherPorts.length ? `; the app listens on ${otherPorts.join(', ')}` : ''}.`,
        target,
        evidence,
        remediation: {
          text: otherPorts.length === 1
            ? `Make the app listen on ${appPort}, or point the Service's targetPort at ${otherPorts[0]}, where it listens.`
            : `Make the app listen on ${appPort} (on 0.0.0.0 or the pod IP), or point the Service's targetPort at the port it listens on. If the app is still starting, wait for readiness.`,
          command: `kubectl logs ${pod.name} -n ${pod.namespace} -c ${pod.containers.find((c) => c !== 'istio-proxy') ?? 'app'}`,
        },
      }),
    ], notes);
  }

  const bound = who.sockets.map(socketText).join(', ');
  if (who.loopbackOnly) {
    return outcome(localhostOnly(facts, who.sockets, refused, target), [`port ${appPort} is bound to ${bound}: loopback only`]);
  }
  if (!who.reachableAtPodIp) {
    return outcome([
      makeFinding('MD4003', {
        message: `Port ${appPort} of pod ${podName(pod)} is bound to ${bound}, not to the pod IP ${pod.ip ?? ''} or 0.0.0.0: connections the sidecar makes to the pod IP are refused.`,
        target,
        evidence: [evidenceOf(facts.sockets, who.sockets.map((s) => s.raw).join('\n'))],
        remediation: { text: `Bind the app to 0.0.0.0:${appPort} or to the pod IP (status.podIP through the downward API).` },
      }),
    ], [`port ${appPort} is bound to ${bound}`]);
  }
  notes.push(`the app listens on ${bound}: reachable at ${who.wildcard ? 'every address' : `the pod IP ${who.podIp}`}`);
  return outcome([], notes);
}

function localhostOnly(facts: InboundFacts, bound: readonly ListeningSocket[], refused: LoggedAccess[], target: ReturnType<typeof workloadOf>): Finding[] {
  const { pod, port } = facts;
  const appPort = port.appPort!;
  const fw = facts.forwarding?.value;
  const mode = fw?.forwarding?.mode;
  const version = inboundForwardsToPodIp(facts.istioVersion);
  const addr = bound.map(socketText).join(', ');
  const evidence = [evidenceOf(facts.sockets!, bound.map((s) => s.raw).join('\n'), `bound to ${addr} only`)];
  if (fw?.cluster) evidence.push(evidenceOf(facts.forwarding!, clusterExcerpt(fw.cluster), fw.forwarding?.explanation));
  if (refused.length > 0) evidence.push(evidenceOf(facts.accessLog!, refused.slice(-3).map((e) => e.raw).join('\n'), 'delayed_connect_error:_111 = connection refused: the sidecar dialed the pod IP'));

  const loop = bound.some((s) => s.family === 'ipv6') ? '[::1]' : '127.0.0.1';
  const remediation = {
    text: `Bind the app to 0.0.0.0:${appPort} (or the pod IP) instead of ${loop}:${appPort} — in Go \`http.ListenAndServe(":${appPort}", h)\`. If it must stay on localhost (an admin port that other pods should not reach), keep it out of every Service; or, to keep the pre-1.10 behaviour for this port only, add a Sidecar whose ingress sends it to 127.0.0.1 (a workload-selected Sidecar replaces the namespace default for this workload, so copy its egress too).`,
    patch: sidecarPatch(facts, appPort),
  };
  if (mode === 'static-localhost') {
    // 1.10+ yet STATIC to 127.0.0.1: a Sidecar ingress defaultEndpoint (the documented fix) ...
    if (facts.ingressDefaultEndpoint && /^127\.|^\[?::1\]?:/.test(facts.ingressDefaultEndpoint.endpoint)) return [];
    if (version.known && version.applies) {
      // ... or istiod running with PILOT_ENABLE_INBOUND_PASSTHROUGH=false, which later releases removed (istio/istio#48718).
      return [makeFinding('MD4001', {
        severity: 'warning',
        message: `The app in ${podName(pod)} listens only on ${addr}. It works because this Istio ${facts.istioVersion} sidecar still forwards to 127.0.0.1:${appPort} (STATIC inbound cluster) and no Sidecar ingress defaultEndpoint asks for it: istiod runs with PILOT_ENABLE_INBOUND_PASSTHROUGH=false, which was removed in later releases; then every request fails with 503 UF.`,
        target,
        evidence,
        remediation,
        assumes: ['STATIC-to-127.0.0.1 inbound clusters on Istio 1.10+ come from a Sidecar defaultEndpoint or PILOT_ENABLE_INBOUND_PASSTHROUGH=false (removed, istio/istio#48718)'],
      })];
    }
    return [makeFinding('MD4001', {
      severity: 'warning',
      message: `The app in ${podName(pod)} listens only on ${addr}. It works today because this sidecar forwards to 127.0.0.1:${appPort} (STATIC inbound cluster, Istio before 1.10); from Istio 1.10 the sidecar forwards to the pod IP and every request will fail with 503 UF (connection refused).`,
      target,
      evidence,
      remediation,
      assumes: ['Istio 1.10+ forwards inbound connections to the pod IP instead of 127.0.0.1 (istio/istio#30226); istioctl x precheck reported this as IST0143 from 1.10 to 1.20'],
    })];
  }
  const forwardsToPodIp = mode === 'original-dst-127.0.0.6' || mode === 'original-dst' || (mode === undefined && version.applies);
  return [makeFinding('MD4001', {
    ...(forwardsToPodIp ? {} : { severity: 'warning' as const }),
    message: `The app in ${podName(pod)} listens only on ${addr}, but ${fw?.cluster ? `the sidecar's inbound cluster ${fw.cluster.name} is ORIGINAL_DST: it forwards` : 'from Istio 1.10 the sidecar forwards'} to the pod IP ${pod.ip ?? ''}:${appPort}${fw?.forwarding?.sourceAddress ? ` from ${fw.forwarding.sourceAddress}` : ''}, where nothing accepts the connection${refused.length ? ` (${refused.length} × 503 UF in its access log)` : ''}.`,
    target,
    evidence,
    remediation,
    assumes: [
      mode ? `the inbound cluster's shape in the config dump (${fw?.forwarding?.explanation})` : version.because,
      'Istio 1.10+ forwards inbound connections to the pod IP (istio/istio#30226)',
    ],
  })];
}

function sidecarPatch(facts: InboundFacts, appPort: number): string {
  const { pod, port } = facts;
  const selector = port.service?.selector ?? pod.labels;
  const protocol = port.servicePort?.protocol?.protocol;
  const name = port.servicePort?.name ?? `tcp-${appPort}`;
  const labels = Object.entries(selector).slice(0, 3).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`);
  return [
    `apiVersion: ${networkingApiVersion(facts.istioVersion)}`,
    'kind: Sidecar',
    'metadata:',
    `  name: ${workloadOf(pod).name}-localhost-${appPort}`,
    `  namespace: ${pod.namespace}`,
    'spec:',
    '  workloadSelector:',
    '    labels:',
    ...labels,
    '  ingress:',
    '  - port:',
    `      number: ${appPort}`,
    `      protocol: ${protocol ?? 'TCP'}`,
    `      name: ${name}`,
    `    defaultEndpoint: 127.0.0.1:${appPort}`,
  ].join('\n');
}
