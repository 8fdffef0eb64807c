/**
 * A capture window: raise the loggers a diagnosis needs on several sidecars,
 * let the failure happen (wait for traffic, or reproduce it), then put every
 * logger of every sidecar back as it was. Built on raiseLogLevels, which
 * saves all levels, journals the pending restore on disk before changing
 * anything, and registers a restore for Ctrl-C/SIGTERM/errors (lifecycle.ts);
 * this module only sequences it across pods and guarantees the restores run
 * in `finally`, whatever `during` does.
 */
import { interruption } from '../lifecycle.js';
import type { EnvoyLogLevel } from '../model/envoy-logging.js';
import { formatPod, type PodRef } from '../sources/source.js';
import { raiseLogLevels, type EnvoyAdmin, type RaisedLevels, type RestoreOutcome } from './log-levels.js';

/**
 * Loggers that show why an upstream connection failed (shared/reference/envoy-istio.md):
 * connection (TLS errors), conn_handler (new connection, no matching filter
 * chain; `main` on 2018 builds), filter (original_dst, tls_inspector), pool,
 * router (upstream reset reasons), upstream. Names a build lacks are skipped.
 */
export const WHY_503_LOGGERS = ['connection', 'conn_handler', 'filter', 'pool', 'router', 'upstream'];

export interface LogCaptureOptions<T> {
  loggers: string[];
  level: EnvoyLogLevel;
  context?: string;
  kubeconfig?: string;
  announce: (message: string) => void;
  /** What happens while the levels are raised. */
  during: () => Promise<T>;
}

export interface PodRestore {
  pod: PodRef;
  raised: string[];
  skipped: string[];
  outcome?: RestoreOutcome;
  error?: string;
}

export interface CaptureResult<T> {
  /** RFC 3339, a second before the first level changed: read logs with --since-time from here. */
  since: string;
  outcome?: T;
  error?: string;
  pods: PodRestore[];
  interrupted?: NodeJS.Signals;
}

export async function captureWithRaisedLevels<T>(admin: EnvoyAdmin, pods: readonly PodRef[], options: LogCaptureOptions<T>): Promise<CaptureResult<T>> {
  const since = new Date(Date.now() - 1000).toISOString();
  const raised: RaisedLevels[] = [];
  const result: CaptureResult<T> = { since, pods: [] };
  try {
    for (const pod of pods) {
      if (interruption()) break;
      raised.push(await raiseLogLevels(admin, pod, {
        loggers: options.loggers,
        level: options.level,
        context: options.context,
        kubeconfig: options.kubeconfig,
        announce: options.announce,
      }));
    }
    if (!interruption()) {
      try {
        result.outcome = await options.during();
      } catch (error) {
        result.error = (error as Error).message;
      }
    }
  } finally {
    // Last raised first, like the cleanup stack; every pod is attempted even if one fails.
    for (const r of [...raised].reverse()) {
      const entry: PodRestore = { pod: r.pod, raised: r.raised, skipped: r.skipped };
      try {
        entry.outcome = await r.restore();
      } catch (error) {
        entry.error = (error as Error).message;
      }
      result.pods.unshift(entry);
    }
    const signal = interruption();
    if (signal) result.interrupted = signal;
  }
  return result;
}

/** Waits, returning early when the run is interrupted (the cleanups then restore the levels). */
export async function waitUnlessInterrupted(ms: number): Promise<'elapsed' | 'interrupted'> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (interruption()) return 'interrupted';
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, end - Date.now())));
  }
  return interruption() ? 'interrupted' : 'elapsed';
}

export function describeRestore(r: PodRestore): string {
  if (r.error) return `${formatPod(r.pod)}: restore FAILED (${r.error}); run \`kubectl mesh-doctor logging --restore\``;
  const o = r.outcome;
  if (!o) return `${formatPod(r.pod)}: not restored`;
  if (o.status === 'restored') return `${formatPod(r.pod)}: every logger back to its saved level (${o.loggers} loggers, verified from Envoy's reply)`;
  if (o.status === 'unchanged') return `${formatPod(r.pod)}: levels already as saved`;
  return `${formatPod(r.pod)}: ${o.detail}`;
}
