/**
 * The inbound rules on the one engine: each is a rule over one port's facts
 * (InboundFacts), declaring the evidence it reads. why-inbound-fails runs all
 * five, `check` the first two. The rule's work is its inbound check
 * (listening.ts, target-port.ts, iptables-loop.ts, peer-address.ts); where
 * that check says it could not run, the engine reports the rule skipped with
 * the same reason, and what the check saw goes to the transcript (`note`).
 *
 *   md4001-app-not-on-pod-ip   MD4001 / MD4003  the app refuses the sidecar on the pod IP (localhost only, or nothing listens)
 *   md4004-target-port         MD4004           the Service's targetPort matches no container port
 *   md4005-iptables-loop       MD4005           the nat table sends Envoy's connection to the app back into Envoy
 *   md4002-peer-address        MD4002           the app sees requests through the sidecar from 127.0.0.6
 *   md3007-no-filter-chain-logged MD3007        the sidecar's own log shows connections closed with no matching filter chain
 *
 * and, for the iptables command's own packets (any it walked, the ones this
 * proxy really sends marked):
 *
 *   md4005-walked-packet-loops MD4005           a packet the proxy really sends is redirected back into it
 */
import type { EvidenceKind, EvidenceModel, Need, Rule } from '../rule.js';
import { anyOf } from '../rule.js';
import type { InboundCheck, InboundFacts } from './facts.js';
import type { NatTable } from '../../model/iptables/types.js';
import type { Packet, PacketWalk } from '../../model/iptables/walk.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { Sourced } from './facts.js';
import { iptablesLoopFindings, loopFinding, walkUnmet } from './iptables-loop.js';
import { listening } from './listening.js';
import { noFilterChainLogged } from './logged-failures.js';
import { peerAddress } from './peer-address.js';
import { targetPortMismatch } from './target-port.js';

export type InboundRule = Rule<InboundFacts>;

function fromInboundCheck(id: string, code: InboundRule['code'], description: string, needs: InboundRule['needs'], run: (facts: InboundFacts) => InboundCheck): InboundRule {
  return {
    id, code, description, needs,
    unmet: (facts) => run(facts).skipped,
    check: (facts, { note }) => {
      const checked = run(facts);
      for (const line of checked.notes) note(line);
      return checked.findings;
    },
  };
}

const socketsOrLog: Need = anyOf('sockets', 'access-log');

/**
 * One analysis of where the app listens (./listening.ts) answers two rules,
 * each reporting its own code; what it saw is noted once, by the first.
 */
function onlyCode(code: 'MD4001' | 'MD4003', notes: boolean): (facts: InboundFacts) => InboundCheck {
  return (facts) => {
    const checked = listening(facts);
    // Refusals without the sockets show MD4003's symptom, not which cause: an app on localhost only is not ruled out.
    if (code === 'MD4001' && !facts.sockets && checked.findings.length > 0) {
      return { findings: [], notes: [], skipped: 'the sidecar is refused on the app port, but the listening sockets could not be read to tell an app on localhost only from nothing listening (MD4003)' };
    }
    return { ...checked, findings: checked.findings.filter((f) => f.code === code), notes: notes ? checked.notes : [] };
  };
}

export const appNotOnPodIp = fromInboundCheck(
  'md4001-app-not-on-pod-ip', 'MD4001',
  'The app listens only on localhost while the sidecar forwards to the pod IP (Istio >= 1.10)',
  [socketsOrLog], onlyCode('MD4001', true),
);

export const nothingListens = fromInboundCheck(
  'md4003-nothing-listens', 'MD4003',
  'Nothing accepts the sidecar\'s connections on the app port at the pod IP',
  [socketsOrLog], onlyCode('MD4003', false),
);

export const targetPort = fromInboundCheck(
  'md4004-target-port', 'MD4004',
  "The Service's targetPort matches no container port (a named one gets no endpoint; a number nothing listens on)",
  [anyOf('Service')], targetPortMismatch,
);

export const iptablesLoop: InboundRule = {
  id: 'md4005-iptables-loop',
  code: 'MD4005',
  description: "The pod's nat table redirects the sidecar's own connection to the app back into the sidecar (an iptables loop)",
  needs: [{ anyOf: ['nat-table'], because: 'the nat table is not available (no istio-init log, no istio-cni log for the pod, iptables-save not permitted)' }],
  unmet: walkUnmet,
  check: iptablesLoopFindings,
};

export const peerAddressRule = fromInboundCheck(
  'md4002-peer-address', 'MD4002',
  'The app sees requests through the sidecar as coming from 127.0.0.6, not 127.0.0.1 (Istio >= 1.10)',
  [{ anyOf: ['config-dump'], because: 'the inbound cluster is not known (no config dump)' }], peerAddress,
);

export const noFilterChainRule = fromInboundCheck(
  'md3007-no-filter-chain-logged', 'MD3007',
  "The sidecar's inbound listener closes connections to the port with no matching filter chain (NR filter_chain_not_found in its own access log)",
  [{ anyOf: ['access-log'], because: 'the istio-proxy log is not available' }], noFilterChainLogged,
);

/** What `check` runs for every proxy's inbound ports. */
export const INBOUND_RULES: readonly InboundRule[] = [appNotOnPodIp, nothingListens, targetPort];

/** The evidence model over one port's facts: which pieces were collected. */
export function inboundEvidence(facts: InboundFacts): EvidenceModel<InboundFacts> {
  const held: Partial<Record<EvidenceKind, boolean>> = {
    sockets: facts.sockets !== undefined,
    'access-log': facts.accessLog !== undefined,
    'config-dump': facts.forwarding !== undefined,
    'nat-table': facts.nat !== undefined,
    Service: facts.port.service !== undefined,
    Pod: true,
  };
  return {
    evidence: facts,
    holds: (kind) => held[kind] ?? false,
    absent: (kinds) => {
      if (kinds.includes('Service')) return `${facts.port.label}: no Service port, nothing to compare`;
      if (kinds.includes('sockets') && kinds.includes('access-log')) return "neither the pod's listening sockets nor its sidecar's access log are available";
      return `no ${kinds.join(' and no ')} for ${facts.pod.name}.${facts.pod.namespace}`;
    },
  };
}

/** Packets walked through one pod's nat table, each marked when this proxy really sends it. */
export interface WalkedPackets {
  pod: PodView;
  nat: Sourced<NatTable>;
  walks: ReadonlyArray<{ packet: Packet; walk: PacketWalk; actual: boolean }>;
}

export const walkedPacketLoops: Rule<WalkedPackets> = {
  id: 'md4005-walked-packet-loops',
  code: 'MD4005',
  description: 'A packet the proxy really sends, walked through the nat table, is redirected back into the proxy (a what-if packet is answered, not blamed)',
  needs: ['nat-table'],
  check: ({ pod, nat, walks }) => walks.filter((w) => w.walk.loop && w.actual).map(({ packet: p, walk }) =>
    loopFinding(pod, nat, walk, `Envoy's connection to the app (${p.src} -> ${p.dst}${p.dport ? `:${p.dport}` : ''}${p.uid !== undefined ? `, uid ${p.uid}` : ''})`)),
};

/** The walked packets as an evidence model: a nat table was read, or there is nothing to walk. */
export function walkedPacketsEvidence(walked: WalkedPackets): EvidenceModel<WalkedPackets> {
  return { evidence: walked, holds: (kind) => kind === 'nat-table' };
}
