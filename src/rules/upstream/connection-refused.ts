/**
 * MD3004: connection refused (`UF`, `delayed_connect_error:_111`, ECONNREFUSED).
 *
 * On the server sidecar's inbound cluster (`inbound|8080||`) it means nothing
 * accepts the connection at POD_IP:PORT: the app is not listening, or —
 * since Istio 1.10 forwards inbound traffic to the pod IP instead of
 * 127.0.0.1 (#30226) — the app is bound to localhost only (#51267). The
 * client then sees the server sidecar's 503 (`503 URX/- via_upstream`), or a
 * `UF` of its own when the server pod refuses the connection outright.
 * The inbound path has its own diagnosis: why-inbound-fails.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { inboundForwardsToPodIp } from '../../model/istio/version-behaviour.js';
import { decodeResponseCodeDetails, decodeTransportFailureReason } from '../../model/logs/response-flags.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import { workloadOf } from '../../model/k8s/workload.js';
import { formatPod } from '../../model/pod.js';
import type { UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { failedRequests, logLines, podTarget, rawLines } from './support.js';

export function refused(entry: AccessLogEntry): boolean {
  const t = entry.upstreamTransportFailureReason ? decodeTransportFailureReason(entry.upstreamTransportFailureReason) : undefined;
  const d = entry.responseCodeDetails ? decodeResponseCodeDetails(entry.responseCodeDetails)?.transportFailure : undefined;
  const f = t ?? d;
  return f?.kind === 'connect-errno' && f.errno === 111;
}

export const connectionRefused: UpstreamRule = {
  id: 'md3004-connection-refused',
  code: 'MD3004',
  description: 'The destination refused the connection (UF, delayed_connect_error:_111)',
  needs: [{ anyOf: ['client:access-log', 'server:access-log'], because: 'no access log of the client or the server sidecar is available' }],
  check(e: UpstreamEvidence, analysis): Finding[] {
    const serverSide = analysis.signals.filter((s) => s.kind === 'connect-refused');
    const clientSide = failedRequests(e).filter(refused);
    if (!serverSide.length && !clientSide.length) return [];
    const serverPod = serverSide[0]?.pod ?? e.servers.find((s) => clientSide.some((c) => c.upstreamHost?.startsWith(`${s.ip}:`)))?.pod ?? e.servers[0]?.pod;
    const server = e.servers.find((s) => serverPod && s.pod.name === serverPod.name && s.pod.namespace === serverPod.namespace);
    const port = server?.port ?? e.destination.servicePort?.port;
    const evidence: EvidenceItem[] = [];
    if (serverSide.length) {
      evidence.push(rawLines(serverSide[0].cited, serverSide.slice(0, 3).map((s) => s.line), `the server sidecar could not connect to its app on port ${port}: ECONNREFUSED`));
    }
    const clientFailures = clientSide.length ? clientSide : failedRequests(e);
    if (clientFailures.length && e.client.accessLog) evidence.push(logLines(e.client.accessLog, clientFailures, clientSide.length ? 'the client\'s connection was refused' : 'what the client saw: the server sidecar\'s 503'));
    const version = inboundForwardsToPodIp(e.istioVersion);
    let why = 'nothing accepts connections there';
    const sockets = server?.sockets;
    if (sockets) {
      const l = sockets.listeners;
      if (l.loopbackOnly) why = `the app listens on ${l.sockets.map((s) => `${s.address}:${s.port}`).join(', ')} only, and the sidecar ${version.applies || !version.known ? 'connects to the pod IP (Istio >= 1.10)' : 'connects to 127.0.0.1'}`;
      else if (l.sockets.length === 0) why = `nothing listens on port ${l.port} in the pod`;
      evidence.push({ source: sockets.source, ...(sockets.file ? { file: sockets.file } : {}), excerpt: l.sockets.map((s) => s.raw).join('\n') || `(no socket listening on port ${l.port})`, note: why });
    }
    // The fix is the server app's bind address: its workload, as MD4001 names it for the same pod (model/k8s/workload.ts).
    const target = serverPod
      ? workloadOf({ ...serverPod, object: e.resources.get('Pod', serverPod.namespace, serverPod.name) })
      : (e.destination.service?.ref ?? podTarget(e.client.pod));
    return [makeFinding('MD3004', {
      message: `Connections to ${serverPod ? formatPod(serverPod) : e.destination.host}${port ? ` port ${port}` : ''} are refused (ECONNREFUSED, delayed_connect_error:_111): ${why}. The 503 comes from the inbound side, not from the client's configuration.`,
      target,
      evidence,
      remediation: {
        text: `Make the app in ${serverPod ? formatPod(serverPod) : 'the server pod'} listen on 0.0.0.0:${port ?? 'PORT'} (or the pod IP), not 127.0.0.1, and check the Service's targetPort; \`why-inbound-fails\` walks the inbound path step by step.`,
        ...(serverPod ? { command: `kubectl mesh-doctor why-inbound-fails ${formatPod(serverPod)}${port ? ` --port ${port}` : ''}` } : {}),
      },
      assumes: [version.because],
    })];
  },
};
