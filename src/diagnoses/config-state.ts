/**
 * The config-state step every diagnosis shares: what Envoy rejected or has not
 * made ready on the diagnosed path becomes a failed hop in the step that read
 * the dump (MD7001/MD7002, run through the engine), and a line of what the
 * step saw.
 */
import { describeProblem, type ConfigProblem } from '../model/envoy/config-state.js';
import { runRules } from '../rules/engine.js';
import { CONFIG_STATE_RULES, configStateEvidence, problemsOnPath, type ConfigStateEvidence } from '../rules/proxy/config-state.js';
import type { Guide, StepRecorder } from './guide.js';

/** Reports the rejected or warming resources on the path; returns them (the hops they break). */
export function reportConfigState(guide: Guide, step: StepRecorder, evidence: ConfigStateEvidence): ConfigProblem[] {
  const problems = problemsOnPath(evidence);
  for (const p of problems) step.note(describeProblem(p));
  const { findings, outcomes } = runRules(CONFIG_STATE_RULES, configStateEvidence(evidence));
  for (const o of outcomes) if (o.status === 'skipped') guide.skip(o.rule, o.because ?? 'no config dump', step);
  for (const finding of findings) guide.report(finding, step);
  return problems;
}
