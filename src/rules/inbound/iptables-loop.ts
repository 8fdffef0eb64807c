/**
 * MD4005: the pod's nat table sends the proxy's own connection back to the
 * proxy. Walks the packet Envoy sends to the app (seed 001's three cases):
 *
 * - STATIC to 127.0.0.1 (before 1.10): src 127.0.0.1 dst 127.0.0.1:PORT, uid
 *   1337 -> `-m owner --uid-owner 1337 -j RETURN`;
 * - ORIGINAL_DST from 127.0.0.6 (1.10+): src 127.0.0.6 dst POD_IP:PORT on lo
 *   -> `-o lo -s 127.0.0.6/32 -j RETURN`;
 * - the same without that rule (or without the 127.0.0.6 bind): uid 1337 to a
 *   non-localhost address on lo -> ISTIO_IN_REDIRECT -> 15006: a loop.
 */
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import { formatWalk, walkPacket, type Packet, type PacketWalk } from '../../model/iptables/walk.js';
import type { NatTable } from '../../model/iptables/types.js';
import type { InboundForwarding } from '../../model/inbound.js';
import type { PodView } from '../../model/k8s/pods.js';
import { workloadOf } from '../../model/k8s/workload.js';
import { evidenceOf, outcome, type InboundFacts, type InboundCheck, type Sourced } from './facts.js';

/** A peer in another pod (TEST-NET-1: any non-local address walks the same). */
export const PEER_ADDRESS = '192.0.2.10';

/** The connection a peer opens to the app port: arrives on eth0, walks PREROUTING. */
export function inboundPacket(podIp: string, appPort: number): Packet {
  return { src: PEER_ADDRESS, dst: podIp, dport: appPort, proto: 'tcp', inInterface: 'eth0' };
}

/** The connection Envoy opens to the app for a forwarding mode: walks OUTPUT as uid 1337 on lo. */
export function proxyToAppPacket(forwarding: InboundForwarding, podIp: string, appPort: number): Packet {
  if (forwarding.mode === 'static-localhost') {
    const to = forwarding.targetAddress ?? '127.0.0.1';
    return { src: to.includes(':') ? '::1' : '127.0.0.1', dst: to, dport: appPort, proto: 'tcp', uid: 1337, gid: 1337, outInterface: 'lo' };
  }
  // ORIGINAL_DST: to the address the client dialed, the pod IP; a local destination leaves through lo.
  return { src: forwarding.sourceAddress ?? podIp, dst: podIp, dport: appPort, proto: 'tcp', uid: 1337, gid: 1337, outInterface: 'lo' };
}

export function walkExcerpt(walk: PacketWalk): string {
  return formatWalk(walk).trimEnd();
}

/** MD4005 for one walk that loops. */
export function loopFinding(pod: PodView, nat: Sourced<NatTable>, walk: PacketWalk, why: string): Finding {
  const v = walk.verdict;
  const rule = v.kind === 'REDIRECT' ? `${v.chain} rule ${v.position}` : 'a REDIRECT rule';
  const hasReturn = nat.value.chains.get('ISTIO_OUTPUT')?.rules.some((r) => r.target === 'RETURN' && r.source?.cidr === '127.0.0.6/32');
  return makeFinding('MD4005', {
    message: `In pod ${pod.name}.${pod.namespace}, ${why} is redirected back to Envoy on ${v.kind === 'REDIRECT' ? v.port : '?'} by ${rule}: the connection never reaches the app (an iptables loop).${hasReturn ? '' : ' ISTIO_OUTPUT has no `-o lo -s 127.0.0.6/32 -j RETURN` rule.'}`,
    // Every replica got the same rules from the same istio-init or istio-cni: blame the workload (model/k8s/workload.ts).
    target: workloadOf(pod),
    evidence: [evidenceOf(nat, walkExcerpt(walk), 'the walk of the packet through the nat table, rule by rule')],
    remediation: {
      text: hasReturn
        ? 'The proxy sends from an address the nat table does not exempt. Make the proxy and the iptables rules the same Istio release (istio-init image or istio-cni DaemonSet), then restart the pod so its rules are written again.'
        : 'The nat table was written by an istio-init or istio-cni older than the proxy (or edited): Istio 1.10+ needs `-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN` first in ISTIO_OUTPUT. Upgrade the istio-cni DaemonSet / injector so the rules match the proxy, then restart the pod.',
      command: `kubectl logs ${pod.name} -n ${pod.namespace} -c istio-init`,
    },
    assumes: ['Envoy runs as uid 1337 (istio-iptables -u 1337) and Istio 1.10+ binds inbound connections to 127.0.0.6 (istio/istio#30226)'],
  });
}

/** The walks of one port's connections through the nat table, and what they show (one line each, for the transcript). */
export interface InboundWalks {
  /** A peer's connection to the app port, through PREROUTING. */
  capture?: PacketWalk;
  /** Envoy's connection to the app, through OUTPUT (known once the inbound cluster is). */
  forward?: PacketWalk;
  notes: string[];
}

/** Why the connections of this port cannot be walked, when they cannot. */
export function walkUnmet(facts: InboundFacts): string | undefined {
  if (!facts.nat) return 'the nat table is not available (no istio-init log, no istio-cni log for the pod, iptables-save not permitted)';
  if (!facts.pod.ip) return 'the pod has no IP in its status';
  if (facts.port.appPort === undefined) return `the app port of ${facts.port.label} is unknown`;
  if (!facts.forwarding?.value.forwarding) return 'the inbound cluster is not known, so the packet Envoy sends to the app is not known';
  return undefined;
}

/** The inbound path through iptables for one port: capture (PREROUTING) and the proxy's forward (OUTPUT). */
export function inboundWalks(facts: InboundFacts): InboundWalks {
  const { pod, port } = facts;
  if (!facts.nat || !pod.ip || port.appPort === undefined) return { notes: [] };
  const table = facts.nat.value;
  const capture = walkPacket(table, inboundPacket(pod.ip, port.appPort), { hook: 'PREROUTING' });
  const cv = capture.verdict;
  const notes = [cv.kind === 'REDIRECT'
    ? `a connection from another pod to ${pod.ip}:${port.appPort} is redirected to Envoy on ${cv.port} (${cv.chain} rule ${cv.position})`
    : `a connection from another pod to ${pod.ip}:${port.appPort} is NOT captured by the sidecar (${cv.kind}): it goes straight to the app`];
  const fw = facts.forwarding?.value.forwarding;
  if (!fw) return { capture, notes };
  const forward = walkPacket(table, proxyToAppPacket(fw, pod.ip, port.appPort), { hook: 'OUTPUT' });
  if (!forward.loop) {
    const p = forward.packet;
    const v = forward.verdict;
    notes.push(`Envoy's connection ${p.src} -> ${p.dst}:${p.dport} (uid 1337) ${v.kind === 'RETURN' ? `is let through by ${v.returnedBy.chain} rule ${v.returnedBy.position}` : v.kind === 'REDIRECT' ? `is redirected to ${v.port}` : `ends with ${v.kind}`}`);
  }
  return { capture, forward, notes };
}

/** MD4005 when Envoy's connection to the app loops back into Envoy. */
export function iptablesLoopFindings(facts: InboundFacts): Finding[] {
  return loopFindings(facts, inboundWalks(facts).forward);
}

function loopFindings(facts: InboundFacts, forward: PacketWalk | undefined): Finding[] {
  if (!forward?.loop || !facts.nat) return [];
  const p = forward.packet;
  return [loopFinding(facts.pod, facts.nat, forward, `Envoy's connection to the app (${p.src} -> ${p.dst}:${p.dport}, uid 1337)`)];
}

/** The walks and MD4005 as one inbound check (the walks' notes, the finding, or why it could not run). */
export function iptablesPath(facts: InboundFacts): InboundCheck & { capture?: PacketWalk; forward?: PacketWalk } {
  const { capture, forward, notes } = inboundWalks(facts);
  const because = walkUnmet(facts);
  const walks = { ...(capture ? { capture } : {}), ...(forward ? { forward } : {}) };
  if (because !== undefined) return { ...outcome([], notes, because), ...walks };
  return { ...outcome(loopFindings(facts, forward), notes), ...walks };
}
