import { usageError, type MeshDoctorError } from './errors.js';

/** The parts of an oclif flag definition a message needs. */
interface FlagDefinition {
  description?: string;
  min?: number;
  max?: number;
  options?: readonly string[];
}

/**
 * oclif's parser errors say "Parsing --port \n\tExpected an integer greater
 * than or equal to 1 but received: -1" or "The following error occurred:\n
 * Missing required flag host": the reason sits on the second line, which a
 * one-line error would drop. This turns each into one sentence that says what
 * was expected and what was given, with the range from the flag's definition.
 */
export function usageFromParser(message: string, flags: Record<string, FlagDefinition>, helpHint: string): MeshDoctorError {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l && !/^See more help with/.test(l));
  const parsing = /^Parsing --([\w-]+)/.exec(lines[0] ?? '');
  if (parsing) {
    const name = parsing[1];
    const given = /received: (.*)$/.exec(lines[1] ?? '')?.[1] ?? '';
    return usageError(`--${name} expects ${expectation(flags[name])}, not "${given}"`, helpHint);
  }
  const missing = lines.map((l) => /^Missing required flag ([\w-]+)/.exec(l)?.[1]).filter((n): n is string => Boolean(n));
  if (missing.length) {
    const what = missing.map((n) => `--${n} is required${flags[n]?.description ? ` (${flags[n].description})` : ''}`);
    return usageError(what.join('; '), helpHint);
  }
  const reasons = lines.filter((l) => !/^The following errors? occurred:?$/.test(l));
  return usageError(reasons.join('; ') || message, helpHint);
}

function expectation(flag: FlagDefinition | undefined): string {
  if (flag?.min !== undefined && flag.max !== undefined) return `an integer from ${flag.min} to ${flag.max}`;
  if (flag?.min !== undefined) return `an integer of at least ${flag.min}`;
  if (flag?.max !== undefined) return `an integer of at most ${flag.max}`;
  return 'an integer';
}
