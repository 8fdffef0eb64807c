import { usageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go/kubectl-style durations ("500ms", "30s", "1m30s", "2m"); a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw usageError(`${flag} takes a duration like 30s, 2m or 1m30s, not "${text}"`, 'Give a number with a unit: ms, s, m or h.');
  }
  return parts.reduce((total, [, value, unit]) => total + Number(value) * UNIT_MS[unit], 0);
}
