/**
 * The shape of a why-503 rule (ESLint/Istio-analyzer style): metadata, the
 * evidence it needs (a rule whose evidence is missing is reported as
 * skipped, with the reason), and a pure check.
 */
import type { FindingCode } from '../../findings/catalog.js';
import type { Finding } from '../../findings/finding.js';
import { correlate, serverSignals, type Correlation, type ServerSignal } from './correlate.js';
import type { UpstreamEvidence } from './evidence.js';
import { failedRequests } from './support.js';

/** What every rule gets besides the evidence: the server signals and their correlation with the client's failures. */
export interface UpstreamAnalysis {
  signals: ServerSignal[];
  correlations: Correlation[];
  /** Findings of the rules that ran before (so a rule can stand down when an earlier one explains the same lines). */
  earlier: Finding[];
}

export interface UpstreamRule {
  id: string;
  code: FindingCode;
  description: string;
  /** undefined when the rule can run; otherwise why it cannot (its evidence is missing). */
  missing(e: UpstreamEvidence): string | undefined;
  check(e: UpstreamEvidence, analysis: UpstreamAnalysis): Finding[];
}

export function analyse(e: UpstreamEvidence): UpstreamAnalysis {
  const signals = e.servers.flatMap(serverSignals);
  return { signals, correlations: correlate(failedRequests(e), e.servers, signals), earlier: [] };
}

export interface RuleRun {
  rule: string;
  code: FindingCode;
  status: 'ran' | 'skipped';
  because?: string;
  findings: number;
}

export function runRules(e: UpstreamEvidence, rules: readonly UpstreamRule[]): { findings: Finding[]; runs: RuleRun[]; analysis: UpstreamAnalysis } {
  const analysis = analyse(e);
  const findings: Finding[] = [];
  const runs: RuleRun[] = [];
  for (const rule of rules) {
    const missing = rule.missing(e);
    if (missing) {
      runs.push({ rule: rule.id, code: rule.code, status: 'skipped', because: missing, findings: 0 });
      continue;
    }
    const found = rule.check(e, { ...analysis, earlier: [...findings] });
    findings.push(...found);
    runs.push({ rule: rule.id, code: rule.code, status: 'ran', findings: found.length });
  }
  return { findings, runs, analysis };
}

