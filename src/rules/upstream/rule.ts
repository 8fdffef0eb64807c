/**
 * why-503's rules on the one contract (../rule.ts): diagnosis-context rules
 * over both sidecars' evidence. Their evidence kinds carry the side they come
 * from (`client:access-log`, `server:envoy-log`); the correlation of the
 * client's failures with the server's signals is derived once and shared.
 */
import { runRules as runEngine } from '../engine.js';
import type { CheckContext, EvidenceKind, EvidenceModel, Rule, RuleOutcome } from '../rule.js';
import type { Finding } from '../../findings/finding.js';
import { correlate, serverSignals, type Correlation, type ServerSignal } from './correlate.js';
import type { UpstreamEvidence } from './evidence.js';
import { failedRequests } from './support.js';

/** Derived once for all rules: the server signals and their correlation with the client's failures. */
export interface UpstreamShared {
  signals: ServerSignal[];
  correlations: Correlation[];
}

/** What every rule gets besides the evidence (with the findings of the rules that ran before). */
export type UpstreamAnalysis = CheckContext<UpstreamShared>;

export type UpstreamRule = Rule<UpstreamEvidence, UpstreamShared>;

/** @deprecated the engine's RuleOutcome; kept for callers of the earlier name. */
export type RuleRun = RuleOutcome;

/** The kinds why-503's evidence holds: each side's pieces that were fetched and parsed. */
export function upstreamEvidence(e: UpstreamEvidence): EvidenceModel<UpstreamEvidence> {
  const held: Partial<Record<EvidenceKind, boolean>> = {
    'client:access-log': Boolean(e.client.accessLog),
    'client:envoy-log': Boolean(e.client.envoyLog),
    'client:stats': Boolean(e.client.stats),
    'client:cluster-status': Boolean(e.client.clusterStatus?.status),
    'client:endpoints': Boolean(e.client.cluster?.edsKnown),
    'client:tls-settings': Boolean(e.client.tls),
    'server:access-log': e.servers.some((s) => s.accessLog),
    'server:envoy-log': e.servers.some((s) => s.envoyLog),
    'server:mtls-demand': e.servers.some((s) => s.demand),
    'client:certificates': Boolean(e.client.certs?.certs.chain.length),
    'server:certificates': e.servers.some((s) => s.certs?.certs.chain.length),
    'mesh-config': true,
  };
  return { evidence: e, holds: (kind) => held[kind] ?? e.resources.of(kind).length > 0 };
}

export function analyse(e: UpstreamEvidence): UpstreamAnalysis {
  const signals = e.servers.flatMap(serverSignals);
  return { signals, correlations: correlate(failedRequests(e), e.servers, signals), earlier: [], note: () => undefined };
}

/** Runs why-503's rules through the engine, with the correlation derived once. */
export function runRules(e: UpstreamEvidence, rules: readonly UpstreamRule[]): { findings: Finding[]; runs: RuleOutcome[]; analysis: UpstreamAnalysis } {
  const analysis = analyse(e);
  const { signals, correlations } = analysis;
  const { findings, outcomes } = runEngine(rules, upstreamEvidence(e), { signals, correlations });
  return { findings, runs: outcomes, analysis };
}
