/**
 * Progress of a capture on stderr: an ora spinner on a terminal, one plain line
 * per pod otherwise (nothing when quiet, i.e. machine output on a pipe).
 * stdout stays for the report.
 */
import ora, { type Ora } from 'ora';
import { formatPod, type PodRef } from '../sources/source.js';
import type { PodCapture } from './capture.js';

export interface CaptureProgress {
  planned(pods: PodRef[]): void;
  pod(capture: PodCapture, done: number, total: number): void;
  stop(): void;
}

export function captureProgress(options: { tty: boolean; quiet: boolean; write?: (text: string) => void }): CaptureProgress {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  // A terminal that reports 0 columns (a pty nobody sized, e.g. `script` in CI) makes ora loop forever
  // computing how many lines to clear: plain lines there.
  if (options.tty && (process.stderr.columns ?? 0) > 0) return new SpinnerProgress();
  if (options.quiet) return { planned() {}, pod() {}, stop() {} };
  return {
    planned(pods) {
      write(`capturing ${pods.length} pod${pods.length === 1 ? '' : 's'}\n`);
    },
    pod(capture, done, total) {
      write(`[${done}/${total}] ${podLine(capture)}\n`);
    },
    stop() {},
  };
}

/** `sleep-7f.foo: ok (13 files)`, `... failed: forbidden ...`. */
export function podLine(capture: PodCapture): string {
  const files = `${capture.files.length} file${capture.files.length === 1 ? '' : 's'}`;
  const name = formatPod(capture);
  if (capture.status === 'ok') return `${name}: ok (${files})`;
  if (capture.status === 'partial') return `${name}: partial (${files}; missing ${capture.missing.map((m) => m.file).join(', ')})`;
  return `${name}: failed: ${capture.error ?? 'nothing captured'}`;
}

class SpinnerProgress implements CaptureProgress {
  private readonly spinner: Ora;

  constructor() {
    this.spinner = ora({ text: 'listing cluster objects', stream: process.stderr }).start();
  }

  planned(pods: PodRef[]): void {
    this.spinner.text = `capturing ${pods.length} pod${pods.length === 1 ? '' : 's'}`;
  }

  pod(capture: PodCapture, done: number, total: number): void {
    this.spinner.text = `captured ${done}/${total} pods (last: ${formatPod(capture)})`;
    // Failures stay on screen; successes only move the counter.
    if (capture.status !== 'ok') {
      this.spinner.stopAndPersist({ symbol: capture.status === 'failed' ? '✖' : '!', text: podLine(capture) });
      this.spinner.start();
    }
  }

  stop(): void {
    this.spinner.stop();
  }
}
