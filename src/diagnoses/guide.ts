import type { Finding } from '../findings/finding.js';
import type { Evidence } from '../sources/source.js';
import type { Skipped, Step, StepObserver, StepStatus } from '../report/report.js';

export type { StepObserver } from '../report/report.js';

/** What a running step records: what it consulted and what it saw. */
export class StepRecorder {
  readonly lookedAt: string[] = [];
  readonly saw: string[] = [];
  status: StepStatus = 'ok';

  /** Note a piece of evidence consulted (its command, and its snapshot file offline). */
  looked(evidence: Evidence | string | undefined): void {
    if (evidence === undefined) return;
    const line = typeof evidence === 'string' ? evidence : evidence.file ? `${evidence.source}   [${evidence.file}]` : evidence.source;
    if (!this.lookedAt.includes(line)) this.lookedAt.push(line);
  }

  note(line: string): void {
    this.saw.push(line);
  }
}

/**
 * Runs a diagnosis as ordered steps; each step adds observations, findings and
 * skipped rules. Diagnoses do their fetching through a source inside steps and
 * hand the evidence to pure rules.
 */
export class Guide {
  readonly steps: Step[] = [];
  readonly findings: Finding[] = [];
  readonly skipped: Skipped[] = [];

  constructor(private readonly observer?: StepObserver) {}

  async step<T>(title: string, run: (step: StepRecorder) => Promise<T>): Promise<T> {
    this.observer?.started(title);
    const recorder = new StepRecorder();
    try {
      return await run(recorder);
    } catch (error) {
      recorder.status = 'failed';
      recorder.note(`failed: ${(error as Error).message}`);
      throw error;
    } finally {
      const step: Step = { title, status: recorder.status, lookedAt: recorder.lookedAt, saw: recorder.saw };
      this.steps.push(step);
      this.observer?.finished(step);
    }
  }

  /** Tell the observer how far the running step has got; false when nobody shows it. */
  progress(text: string): boolean {
    return this.observer?.progress?.(text) ?? false;
  }

  /**
   * Records a finding; the step is marked found (✖) only for a fault (error or
   * warning): an info finding beside a healthy verdict must not read as one.
   */
  report(finding: Finding, step?: StepRecorder): void {
    this.findings.push(finding);
    if (step && finding.severity !== 'info') step.status = 'found';
  }

  /**
   * Takes in, at this point of the transcript, the steps of a guide that ran
   * ahead (`ahead()`): evidence an earlier rule quotes is read before that
   * rule runs, but told where the story puts it.
   */
  adopt(ahead: Guide): void {
    for (const step of ahead.steps) {
      this.observer?.started(step.title);
      this.steps.push(step);
      this.observer?.finished(step);
    }
    this.findings.push(...ahead.findings);
    this.skipped.push(...ahead.skipped);
  }

  skip(rule: string, reason: string, step?: StepRecorder): void {
    this.skipped.push({ rule, reason });
    step?.note(`skipped ${rule}: ${reason}`);
  }
}

/** Runs steps on a guide of their own, to be adopted later at their place in the transcript. */
export async function ahead<T>(run: (guide: Guide) => Promise<T>): Promise<{ guide: Guide; value: T }> {
  const guide = new Guide();
  return { guide, value: await run(guide) };
}
