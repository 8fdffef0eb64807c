/**
 * Every failure a user can meet is a MeshDoctorError: one sentence saying what
 * went wrong, one saying what to do next, and the exit code the design fixes
 * (1: the run failed, 2: usage). Commands never print stack traces for these.
 */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  findings: 3,
  /**
   * The run worked but could not check what its verdict needs (no config
   * dump, every dump unreadable, the one exec refused): never 0, which means
   * "checked and healthy" (design: "Output and exit codes").
   */
  inconclusive: 4,
  /** Ctrl-C, or a prompt cancelled: 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;

export type ErrorKind =
  | 'usage'
  | 'kubectl-missing'
  | 'istioctl-missing'
  | 'no-context'
  | 'unreachable'
  | 'forbidden'
  | 'not-found'
  | 'no-sidecar'
  | 'unsupported-proxy'
  | 'proxy-not-ready'
  | 'timeout'
  | 'bad-snapshot'
  | 'parse'
  | 'unsupported-version'
  | 'exec-failed'
  | 'interrupted';

export class MeshDoctorError extends Error {
  readonly kind: ErrorKind;
  /** The next step, phrased as an instruction ("Run ...", "Check ..."). */
  readonly suggestion?: string;
  readonly exitCode: number;

  constructor(kind: ErrorKind, message: string, options: { suggestion?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'MeshDoctorError';
    this.kind = kind;
    this.suggestion = options.suggestion;
    this.exitCode = options.exitCode ?? (kind === 'usage' ? ExitCode.usage : ExitCode.runFailed);
  }
}

/**
 * A parser met input it cannot read. Parsers throw only this (property tests
 * hold them to it), so callers can turn it into "evidence unreadable" instead
 * of crashing.
 */
export class ParseError extends MeshDoctorError {
  /** What was being parsed, e.g. "config_dump of sleep-7f.foo". */
  readonly what: string;

  constructor(what: string, message: string, options: { suggestion?: string; cause?: unknown } = {}) {
    super('parse', `${what}: ${message}`, options);
    this.name = 'ParseError';
    this.what = what;
  }
}

export function usageError(message: string, suggestion?: string): MeshDoctorError {
  return new MeshDoctorError('usage', message, { suggestion });
}
