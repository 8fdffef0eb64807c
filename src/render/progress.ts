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

  progress(text: string): boolean {
    if (!this.spinner) return false;
    this.spinner.text = text;
    return true;
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

/**
 * A long run's progress on stderr where no spinner shows it: on a terminal one
 * line rewritten in place; otherwise a plain line at most every `periodMs`
 * (CI logs, pipes), none for a run shorter than that.
 */
export class ProgressLine {
  private last = Date.now();
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly periodMs = 10_000,
  ) {}

  update(text: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${text}`);
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (now - this.last < this.periodMs) return;
    this.last = now;
    this.stream.write(`${text}\n`);
  }

  /** Clears the rewritten line so what follows starts clean. */
  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
