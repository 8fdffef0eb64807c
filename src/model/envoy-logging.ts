import { ParseError } from '../errors.js';

/**
 * Envoy's log levels as `POST /logging` accepts them. `warn` is rejected by
 * Envoy (it wants `warning`), so it is not here.
 */
export const ENVOY_LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type EnvoyLogLevel = (typeof ENVOY_LOG_LEVELS)[number];

export function isEnvoyLogLevel(value: string): value is EnvoyLogLevel {
  return (ENVOY_LOG_LEVELS as readonly string[]).includes(value);
}

/** Logger name -> level, in the order Envoy printed them. */
export type LoggerLevels = Map<string, EnvoyLogLevel>;

/**
 * Reads the body of `POST /logging`: "active loggers:\n  admin: warning\n  ...".
 * Every successful /logging call returns this list, which is how changes are verified.
 */
export function parseActiveLoggers(text: string, what = 'POST /logging reply'): LoggerLevels {
  const levels: LoggerLevels = new Map();
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'active loggers:');
  if (start === -1) throw new ParseError(what, 'no "active loggers:" list in the reply');
  for (const line of lines.slice(start + 1)) {
    const match = /^\s+([\w.-]+):\s*(\w+)\s*$/.exec(line);
    if (!match) continue;
    if (isEnvoyLogLevel(match[2])) levels.set(match[1], match[2]);
  }
  if (levels.size === 0) throw new ParseError(what, 'the "active loggers:" list is empty');
  return levels;
}

/** `paths=a:debug,b:debug` (Envoy >= 1.22): set several loggers in one all-or-nothing call. */
export function pathsQuery(levels: Iterable<[string, EnvoyLogLevel]>): string {
  return `logging?paths=${[...levels].map(([name, level]) => `${name}:${level}`).join(',')}`;
}

/** The loggers whose level differs between two lists (for verifying a change). */
export function levelDifferences(expected: LoggerLevels, actual: LoggerLevels): string[] {
  const out: string[] = [];
  for (const [name, level] of expected) {
    const now = actual.get(name);
    if (now !== level) out.push(`${name}: expected ${level}, is ${now ?? 'absent'}`);
  }
  return out;
}
