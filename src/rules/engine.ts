/**
 * The one rule engine: runs a list of rules over an evidence model, in order,
 * and says for each whether it ran or was skipped and why (a rule whose
 * evidence is absent is never dropped silently). A diagnosis calls it for
 * one pod, a mesh-wide check for every proxy, tests through RuleTester.
 */
import type { Finding } from '../findings/finding.js';
import type { CheckContext, EvidenceKind, EvidenceModel, Need, Rule, RuleOutcome } from './rule.js';

export interface RuleRun {
  findings: Finding[];
  outcomes: RuleOutcome[];
}

export function runRules<E, S = unknown>(
  rules: readonly Rule<E, S>[],
  model: EvidenceModel<E>,
  shared?: S,
): RuleRun {
  const findings: Finding[] = [];
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    const because = whyNot(rule, model);
    if (because !== undefined) {
      outcomes.push({ rule: rule.id, code: rule.code, status: 'skipped', because, findings: 0 });
      continue;
    }
    const saw: string[] = [];
    const context = { ...(shared ?? {}), earlier: [...findings], note: (line: string) => void saw.push(line) } as CheckContext<S>;
    const found = rule.check(model.evidence, context);
    findings.push(...found);
    outcomes.push({ rule: rule.id, code: rule.code, status: 'ran', findings: found.length, ...(saw.length ? { saw } : {}) });
  }
  return { findings, outcomes };
}

/** Why a rule cannot run on this evidence: its first unmet need, then its own precondition. */
export function whyNot<E, S>(rule: Rule<E, S>, model: EvidenceModel<E>): string | undefined {
  for (const need of rule.needs.map(asNeed)) {
    if (need.anyOf.some((kind) => model.holds(kind))) continue;
    return need.because ?? model.absent?.(need.anyOf) ?? `no ${need.anyOf.join(' and no ')} evidence is available`;
  }
  return rule.unmet?.(model.evidence);
}

function asNeed(need: EvidenceKind | Need): Need {
  return typeof need === 'string' ? { anyOf: [need] } : need;
}

/** The findings one rule of a run returned (the engine appends them in rule order, counted by its outcome). */
export function findingsOf(run: RuleRun, ruleId: string): Finding[] {
  let at = 0;
  for (const outcome of run.outcomes) {
    if (outcome.rule === ruleId) return run.findings.slice(at, at + outcome.findings);
    at += outcome.findings;
  }
  return [];
}
