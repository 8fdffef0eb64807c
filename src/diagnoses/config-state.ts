/**
 * The config-state step every diagnosis shares: what Envoy rejected or has not
 * made ready on the diagnosed path becomes a failed hop (MD7001/MD7002) in the
 * step that read the dump, and a line of what the step saw.
 */
import { describeProblem, type ConfigProblem } from '../model/envoy/config-state.js';
import { configStateOnPath, type ConfigStateInput } from '../rules/proxy/config-state.js';
import type { Guide, StepRecorder } from './guide.js';

/** Reports the rejected or warming resources on the path; returns them (the hops they break). */
export function reportConfigState(guide: Guide, step: StepRecorder, input: ConfigStateInput): ConfigProblem[] {
  const problems = input.dump.configProblems.filter(input.onPath);
  for (const p of problems) step.note(describeProblem(p));
  for (const finding of configStateOnPath(input)) guide.report(finding, step);
  return problems;
}
