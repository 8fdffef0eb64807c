import type { LogOptions } from './source.js';

// Istio's Envoy lines start with `2024-01-02T03:04:05.678901Z`; access-log lines with `[2024-01-02T03:04:05.678Z]`.
const LEADING_TIME = /^\[?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)/;

/** The time a log line starts with, in ms since the epoch, if it has one. */
export function lineTime(line: string): number | undefined {
  const match = LEADING_TIME.exec(line);
  if (!match) return undefined;
  const ms = Date.parse(match[1]);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `kubectl logs --since-time/--tail` applied to recorded text. A line without a
 * time of its own (a continuation) belongs to the line before it.
 */
export function filterLog(text: string, options: LogOptions = {}): string {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (options.sinceTime) {
    const since = Date.parse(options.sinceTime);
    if (!Number.isNaN(since)) {
      let keep = true;
      lines = lines.filter((line) => {
        const time = lineTime(line);
        if (time !== undefined) keep = time >= since;
        return keep;
      });
    }
  }
  if (options.tail !== undefined && options.tail >= 0) lines = options.tail === 0 ? [] : lines.slice(-options.tail);
  return lines.length ? lines.join('\n') + '\n' : '';
}
