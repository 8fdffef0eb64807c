/**
 * What the inbound rules read, for one port of one pod. Each piece of evidence
 * keeps the command that shows it (and the snapshot file offline), so a rule
 * can quote it. A piece that could not be had is undefined, and the rules that
 * need it say they were skipped and why.
 */
import type { NatTable } from '../../model/iptables/types.js';
import type { Provenance } from '../../model/provenance.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { ListeningSocket } from '../../model/sockets.js';
import type { Finding } from '../../findings/finding.js';
import type { ObjectRef } from '../../model/k8s/resources.js';
import type { InboundPort, PortForwarding } from './path.js';

/** A piece of evidence with where it came from (the one provenance type). */
export type Sourced<T> = Provenance & { value: T };

export type LoggedAccess = AccessLogEntry & { lineNumber: number };

export interface InboundFacts {
  pod: PodView;
  port: InboundPort;
  /** From the config dump (`istioctl proxy-config cluster POD --port P -o json`). */
  forwarding?: Sourced<PortForwarding>;
  /** The pod's listening sockets (ss/netstat//proc/net/tcp from the istio-proxy container: same network namespace as the app). */
  sockets?: Sourced<ListeningSocket[]>;
  /** Access-log lines of the pod's own sidecar. */
  accessLog?: Sourced<LoggedAccess[]>;
  /** The pod's nat table (istio-init log, istio-cni log, or iptables-save). */
  nat?: Sourced<NatTable>;
  /**
   * The mTLS mode the PeerAuthentications give this port (model/istio/peer-authentication.ts):
   * a prediction of what the inbound listener demands, which only the config dump confirms.
   */
  mtls?: { mode: string; because: string };
  /** Istio version of the proxy (node metadata), when known. */
  istioVersion?: string;
  /** A Sidecar whose ingress sends this port to `defaultEndpoint` (127.0.0.1:PORT keeps the pre-1.10 forwarding). */
  ingressDefaultEndpoint?: { sidecar: ObjectRef; endpoint: string };
}

/** What an inbound check returns: its findings, the lines it saw for the transcript, and why it could not run. */
export interface InboundCheck {
  findings: Finding[];
  /** Set when the rule could not run: why. */
  skipped?: string;
  /** What the rule saw, one line each, for the transcript. */
  notes: string[];
}

export function outcome(findings: Finding[] = [], notes: string[] = [], skipped?: string): InboundCheck {
  return { findings, notes, ...(skipped !== undefined ? { skipped } : {}) };
}

/** The evidence item for a piece of sourced evidence. */
export function evidenceOf<T>(s: Sourced<T>, excerpt: string, note?: string) {
  return { source: s.source, excerpt, ...(s.file ? { file: s.file } : {}), ...(note ? { note } : {}) };
}

export function podRef(pod: PodView) {
  return { kind: 'Pod', namespace: pod.namespace, name: pod.name };
}

/** `pod.ns` as istioctl writes it. */
export function podName(pod: PodView): string {
  return `${pod.name}.${pod.namespace}`;
}

/**
 * Access-log lines where the sidecar could not connect to the app on this
 * port: `503 UF ... delayed_connect_error:_111 ... inbound|8080||` (Istio 1.10+
 * with an app bound to localhost, istio/istio#51267), or any UF/URX on the
 * port's inbound cluster.
 */
export function refusedInbound(entries: readonly LoggedAccess[], appPort: number): LoggedAccess[] {
  return entries.filter((e) => {
    if (!onInboundPort(e, appPort)) return false;
    const text = `${e.responseCodeDetails ?? ''} ${e.upstreamTransportFailureReason ?? ''}`;
    return e.responseFlags.includes('UF') || /delayed_connect_error:_?111|connection_refused|Connection refused/i.test(text);
  });
}

/** Access-log lines the app answered on this port (no response flag, `via_upstream` or a TCP session): it accepts where the sidecar dials. */
export function servedInbound(entries: readonly LoggedAccess[], appPort: number): LoggedAccess[] {
  return entries.filter((e) => onInboundPort(e, appPort) && e.responseFlags.length === 0 && (e.tcp || e.responseCodeDetails === 'via_upstream'));
}

function onInboundPort(e: LoggedAccess, appPort: number): boolean {
  return (e.upstreamCluster ?? '').startsWith(`inbound|${appPort}|`) || (e.direction === 'inbound' && (e.upstreamHost ?? '').endsWith(`:${appPort}`));
}

/**
 * The ingress listener of a Sidecar for one port: `ingress[].port.number` and
 * its `defaultEndpoint` (`127.0.0.1:PORT`, `0.0.0.0:PORT`, `unix://...`).
 */
export function ingressDefaultEndpoint(sidecarSpec: unknown, appPort: number): string | undefined {
  const ingress = (sidecarSpec as { ingress?: unknown } | undefined)?.ingress;
  if (!Array.isArray(ingress)) return undefined;
  for (const entry of ingress) {
    const e = entry as { port?: { number?: unknown }; defaultEndpoint?: unknown };
    if (Number(e?.port?.number) === appPort && typeof e.defaultEndpoint === 'string') return e.defaultEndpoint;
  }
  return undefined;
}
