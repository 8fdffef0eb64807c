/**
 * The one rule contract (ESLint's rule metadata + create, Istio's analyzers'
 * Metadata.Inputs): a rule names itself and the finding code it reports,
 * declares the evidence kinds it reads, and has a pure check that returns
 * finished findings — culprit, evidence and remediation complete; nothing is
 * patched onto them afterwards. The engine (./engine.ts) runs rules and
 * reports a rule whose evidence is absent as skipped, with the reason.
 *
 * Three scopes use the same contract, over different evidence models:
 *   - mesh-wide rules over resources and mesh config (src/rules/mesh/),
 *   - per-proxy rules over one sidecar's evidence (config dump, logs, sockets,
 *     nat table, certificates),
 *   - diagnosis-context rules over a diagnosis' joined evidence (why-503's
 *     client and server sidecars: kinds prefixed `client:` / `server:`).
 */
import type { FindingCode } from '../findings/catalog.js';
import type { Finding } from '../findings/finding.js';

/** Kubernetes and Istio resource kinds a rule can read from the collected resources. */
export type ResourceKind =
  | 'Pod' | 'Service' | 'Endpoints' | 'EndpointSlice' | 'Namespace' | 'ConfigMap'
  | 'ServiceEntry' | 'DestinationRule' | 'VirtualService' | 'Gateway' | 'Sidecar'
  | 'PeerAuthentication' | 'AuthorizationPolicy' | 'RequestAuthentication' | 'WorkloadEntry' | 'EnvoyFilter';

/** What one sidecar can tell about itself, once fetched. */
export type ProxyEvidenceKind =
  | 'config-dump'
  | 'endpoints'        // config_dump?include_eds
  | 'cluster-status'   // /clusters
  | 'stats'
  | 'access-log'
  | 'envoy-log'
  | 'sockets'          // the pod's listening sockets (ss / /proc/net/tcp)
  | 'nat-table'        // iptables-save -t nat
  | 'certificates'     // /certs
  | 'tls-settings'     // the client's TLS for a destination (cluster + DestinationRules)
  | 'mtls-demand'      // what a server's inbound demands (listener + PeerAuthentication)
  | 'istiod-sync';     // istiod's /debug/syncz: each connected proxy's push and acknowledgement

/** Which side of a diagnosis a proxy's evidence belongs to. */
export type ProxyRole = 'client' | 'server';

/**
 * Every kind of evidence a rule may declare. The engine checks each declared
 * kind against what the evidence model holds; there is no other way in.
 */
export type EvidenceKind =
  | ResourceKind
  | 'mesh-config'
  | ProxyEvidenceKind
  | `${ProxyRole}:${ProxyEvidenceKind}`;

/**
 * One declared need: met when the evidence holds any of its kinds. `because`
 * says in the report's words why the rule cannot run without it; without it
 * the evidence model words the reason.
 */
export interface Need {
  anyOf: readonly EvidenceKind[];
  because?: string;
}

/** A collected body of evidence, and which kinds of evidence it holds. */
export interface EvidenceModel<E> {
  readonly evidence: E;
  holds(kind: EvidenceKind): boolean;
  /** Why these kinds are absent, in the report's words (the engine's fallback wording is generic). */
  absent?(kinds: readonly EvidenceKind[]): string;
}

/** What a check gets besides the evidence: what the diagnosis derived once for all rules, and earlier findings. */
export type CheckContext<S = unknown> = S & {
  /** Findings of the rules that ran before, so a rule can stand down when an earlier one explains the same lines. */
  earlier: readonly Finding[];
  /** What the rule saw, one line each, for the diagnosis' transcript (the outcome's `saw`); never part of a finding. */
  note(line: string): void;
};

export interface Rule<E, S = unknown> {
  /** kebab-case, prefixed by the code: `md1003-serviceentry-without-addresses`. */
  id: string;
  code: FindingCode;
  description: string;
  /** Every need must be met for the rule to run. A bare kind is a need of that one kind. */
  needs: readonly (EvidenceKind | Need)[];
  /** A precondition beyond the kinds (read from the evidence): why the rule cannot run here, or undefined. */
  unmet?(evidence: E): string | undefined;
  /** Pure: reads the evidence, returns finished findings. */
  check(evidence: E, context: CheckContext<S>): Finding[];
}

/** What happened to one rule in a run: ran (with its finding count) or skipped, with why. */
export interface RuleOutcome {
  rule: string;
  code: FindingCode;
  status: 'ran' | 'skipped';
  /** Why it was skipped. */
  because?: string;
  findings: number;
  /** What a rule that ran noted for the transcript, when it noted anything. */
  saw?: string[];
}

/** A need of several alternative kinds: `anyOf('Service', 'ServiceEntry')`. */
export function anyOf(...kinds: EvidenceKind[]): Need {
  return { anyOf: kinds };
}
