/**
 * The inbound checks on the one engine, for `check`: each is a rule over one
 * port's facts (InboundFacts), declaring the evidence it reads. The rule's
 * work is the inbound check why-inbound-fails runs (listening.ts,
 * target-port.ts); where that check says it could not run, the engine
 * reports the rule skipped with the same reason.
 *
 *   md4001-app-not-on-pod-ip   MD4001 / MD4003  the app refuses the sidecar on the pod IP (localhost only, or nothing listens)
 *   md4004-target-port         MD4004           the Service's targetPort matches no container port
 */
import type { EvidenceKind, EvidenceModel, Need, Rule } from '../rule.js';
import { anyOf } from '../rule.js';
import type { InboundCheck, InboundFacts } from './facts.js';
import { listening } from './listening.js';
import { targetPortMismatch } from './target-port.js';

export type InboundRule = Rule<InboundFacts>;

function fromInboundCheck(id: string, code: InboundRule['code'], description: string, needs: InboundRule['needs'], run: (facts: InboundFacts) => InboundCheck): InboundRule {
  return { id, code, description, needs, unmet: (facts) => run(facts).skipped, check: (facts) => run(facts).findings };
}

const socketsOrLog: Need = { anyOf: ['sockets', 'access-log'], because: "neither the pod's listening sockets nor its sidecar's access log are available" };

export const appNotOnPodIp = fromInboundCheck(
  'md4001-app-not-on-pod-ip', 'MD4001',
  'The app does not accept the sidecar\'s connections on the pod IP: it listens only on localhost (Istio >= 1.10 forwards to the pod IP), or nothing listens',
  [socketsOrLog], listening,
);

export const targetPort = fromInboundCheck(
  'md4004-target-port', 'MD4004',
  "The Service's targetPort matches no container port (a named one gets no endpoint; a number nothing listens on)",
  [anyOf('Service')], targetPortMismatch,
);

export const INBOUND_RULES: readonly InboundRule[] = [appNotOnPodIp, targetPort];

/** The evidence model over one port's facts: which pieces were collected. */
export function inboundEvidence(facts: InboundFacts): EvidenceModel<InboundFacts> {
  const held: Partial<Record<EvidenceKind, boolean>> = {
    sockets: facts.sockets !== undefined,
    'access-log': facts.accessLog !== undefined,
    'config-dump': facts.forwarding !== undefined,
    Service: facts.port.service !== undefined,
    Pod: true,
  };
  return {
    evidence: facts,
    holds: (kind) => held[kind] ?? false,
    absent: (kinds) => (kinds.includes('Service') ? `${facts.port.label}: no Service port, nothing to compare` : `no ${kinds.join(' and no ')} for ${facts.pod.name}.${facts.pod.namespace}`),
  };
}
