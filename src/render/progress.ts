import type ora from 'ora';
import type { Ora } from 'ora';
import type { StepObserver } from '../report/report.js';
import type { Step } from '../report/report.js';
import { renderStep } from './human.js';
import type { Painter } from './style.js';

/**
 * Prints the guided transcript as it runs: each finished step to stdout, and
 * a spinner on stderr while a step runs, only when stderr is a terminal
 * (ora writes even when disabled, so it is not created at all otherwise).
 */
export class TranscriptPrinter implements StepObserver {
  private spinner?: Ora;

  constructor(
    private readonly write: (text: string) => void,
    private readonly paint: Painter,
    /** ora, when a spinner is wanted (the caller loads it only then). */
    private readonly spinners: typeof ora | undefined,
    private readonly details: boolean,
  ) {}

  started(title: string): void {
    if (this.spinners) this.spinner = this.spinners({ text: title, stream: process.stderr }).start();
  }

  finished(step: Step): void {
    this.spinner?.stop();
    this.spinner = undefined;
    this.write(renderStep(step, this.paint, this.details) + '\n');
  }

  stop(): void {
    this.spinner?.stop();
  }
}
