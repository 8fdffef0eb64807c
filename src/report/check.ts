/** The payload of `check`'s report (data): groups of check lines, each with its culprits. */
import type { Severity } from '../findings/finding.js';

export type CheckStatus = 'passed' | 'warning' | 'error' | 'skipped';

/** One resource blamed by a check, and where it hurts. */
export interface CheckCulprit {
  code: string;
  severity: Severity;
  target: string;
  message: string;
  /** Pods whose evidence shows it (none for a static check). */
  pods: { count: number; names: string[] };
  /** The line of evidence that shows it, and where it is from. */
  evidence?: string;
  /** The command that digs deeper. */
  next: string;
}

export interface CheckLine {
  rule: string;
  code: string;
  title: string;
  status: CheckStatus;
  /** Why it was skipped (everywhere, or on some proxies). */
  because?: string;
  /** For a per-proxy rule: on how many proxies it ran, and was skipped. */
  proxies?: { ran: number; skipped: number };
  culprits: CheckCulprit[];
}

export interface CheckGroup {
  title: string;
  checks: CheckLine[];
}

export interface CheckData {
  proxies: { selected: number; read: number; unreadable: Array<{ pod: string; why: string }> };
  versions: Array<{ istio: string; proxies: number }>;
  groups: CheckGroup[];
  /** True when the run was interrupted: the groups cover the proxies checked so far. */
  interrupted?: boolean;
}

