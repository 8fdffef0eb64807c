import { MeshDoctorError } from '../errors.js';
import { registerCleanup } from '../lifecycle.js';
import {
  levelDifferences, parseActiveLoggers, pathsQuery,
  type EnvoyLogLevel, type LoggerLevels,
} from '../model/envoy-logging.js';
import { formatPod, type Evidence, type PodRef } from '../sources/source.js';
import { clearPendingRestore, recordPendingRestore, type PendingRestore } from './restore-journal.js';

/** The one thing mesh-doctor may change in a cluster goes through the Envoy admin API. */
export interface EnvoyAdmin {
  admin(ref: PodRef, method: 'GET' | 'POST', path: string): Promise<Evidence>;
}

export interface RaiseOptions {
  /** Loggers to raise; names this Envoy build does not have are skipped (names differ by build). */
  loggers: string[];
  level: EnvoyLogLevel;
  context?: string;
  kubeconfig?: string;
  /** Told before anything changes (principle 2: announced on screen). */
  announce: (message: string) => void;
}

export type RestoreOutcome =
  | { status: 'restored'; loggers: number }
  | { status: 'unchanged' }
  | { status: 'proxy-restarted'; detail: string };

export interface RaisedLevels {
  pod: PodRef;
  saved: LoggerLevels;
  raised: string[];
  skipped: string[];
  /** Puts every logger back to its saved level, verified from Envoy's reply. Idempotent. */
  restore(): Promise<RestoreOutcome>;
}

/**
 * Saves every logger's level, records a pending restore on disk, registers a
 * restore for Ctrl-C/SIGTERM/errors, and only then raises the loggers asked for.
 */
export async function raiseLogLevels(admin: EnvoyAdmin, pod: PodRef, options: RaiseOptions): Promise<RaisedLevels> {
  const before = await admin.admin(pod, 'POST', 'logging');
  const saved = parseActiveLoggers(before.text, `log levels of ${formatPod(pod)}`);
  const raised = options.loggers.filter((l) => saved.has(l));
  const skipped = options.loggers.filter((l) => !saved.has(l));
  const uptimeSeconds = await proxyUptime(admin, pod);
  const entry: PendingRestore = {
    version: 1,
    context: options.context,
    kubeconfig: options.kubeconfig,
    pod,
    levels: Object.fromEntries(saved),
    uptimeSeconds,
    savedAt: new Date().toISOString(),
  };
  await recordPendingRestore(entry);

  let restoring: Promise<RestoreOutcome> | undefined;
  const restore = () => (restoring ??= restoreLogLevels(admin, entry).finally(() => unregister()));
  const unregister = registerCleanup(async () => { await restore(); });

  if (raised.length > 0) {
    options.announce(`Raising Envoy loggers ${raised.join(', ')} to ${options.level} on ${formatPod(pod)}; every logger will be put back as it was.`);
    try {
      const reply = await setLevels(admin, pod, raised.map((name) => [name, options.level]));
      const problems = levelDifferences(new Map(raised.map((n) => [n, options.level])), reply);
      if (problems.length) throw new MeshDoctorError('exec-failed', `Envoy on ${formatPod(pod)} did not take the new levels (${problems.join('; ')})`);
    } catch (error) {
      await restore();
      throw error;
    }
  }
  return { pod, saved, raised, skipped, restore };
}

/**
 * Restores the saved levels of a pending restore — the same code runs at the
 * end of a capture, on interruption, and from `mesh-doctor logging --restore`.
 */
export async function restoreLogLevels(admin: EnvoyAdmin, entry: PendingRestore): Promise<RestoreOutcome> {
  const saved: LoggerLevels = new Map(Object.entries(entry.levels));
  const uptime = await proxyUptime(admin, entry.pod);
  if (entry.uptimeSeconds !== undefined && uptime !== undefined && restartedSince(entry, uptime)) {
    // A restarted Envoy came back with its bootstrap levels: ours are gone, and writing would clobber whatever is there now.
    await clearPendingRestore(entry);
    return { status: 'proxy-restarted', detail: `Envoy on ${formatPod(entry.pod)} restarted (uptime ${uptime}s now, ${entry.uptimeSeconds}s at ${entry.savedAt} when the levels were saved); its levels are its bootstrap levels, left untouched` };
  }
  const current = parseActiveLoggers((await admin.admin(entry.pod, 'POST', 'logging')).text, `log levels of ${formatPod(entry.pod)}`);
  if (levelDifferences(saved, current).length === 0) {
    await clearPendingRestore(entry);
    return { status: 'unchanged' };
  }
  const reply = await setLevels(admin, entry.pod, [...saved]);
  const problems = levelDifferences(saved, reply);
  if (problems.length) {
    throw new MeshDoctorError('exec-failed', `log levels on ${formatPod(entry.pod)} are not all back (${problems.slice(0, 3).join('; ')})`, {
      suggestion: 'Run `kubectl mesh-doctor logging --restore` to try again; the pending restore is kept.',
    });
  }
  await clearPendingRestore(entry);
  return { status: 'restored', loggers: saved.size };
}

/**
 * Whether Envoy started again after the levels were saved. A lower uptime
 * alone misses a restart when the capture outlasts the uptime the proxy had
 * when saved (a pod that had just started — common in an incident — and a
 * 20 s capture): compare when Envoy started, then and now, instead. The 2 s
 * slack covers whole-second uptimes and the exec round trip.
 */
function restartedSince(entry: PendingRestore, uptime: number, now = Date.now()): boolean {
  const saved = entry.uptimeSeconds!;
  if (uptime < saved) return true;
  const savedAt = Date.parse(entry.savedAt);
  if (Number.isNaN(savedAt)) return false;
  const startedThen = savedAt / 1000 - saved;
  const startedNow = now / 1000 - uptime;
  return startedNow - startedThen > 2;
}

/**
 * Sets several loggers: one `paths=` call (Envoy >= 1.22, all-or-nothing);
 * older Envoys answer that with an error, so fall back to one `?name=level`
 * call per logger. Returns the levels Envoy reports afterwards.
 */
async function setLevels(admin: EnvoyAdmin, pod: PodRef, levels: Array<[string, EnvoyLogLevel]>): Promise<LoggerLevels> {
  try {
    const reply = await admin.admin(pod, 'POST', pathsQuery(levels));
    return parseActiveLoggers(reply.text, `reply to ${pathsQuery(levels).slice(0, 40)}...`);
  } catch (error) {
    if (error instanceof MeshDoctorError && ['forbidden', 'not-found', 'unreachable', 'timeout'].includes(error.kind)) throw error;
  }
  let last: LoggerLevels | undefined;
  for (const [name, level] of levels) {
    const reply = await admin.admin(pod, 'POST', `logging?${name}=${level}`);
    last = parseActiveLoggers(reply.text, `reply to logging?${name}=${level}`);
  }
  return last ?? parseActiveLoggers((await admin.admin(pod, 'POST', 'logging')).text);
}

/** Envoy's uptime in seconds from /server_info (`uptime_current_epoch: "123s"`), undefined when unreadable. */
export async function proxyUptime(admin: EnvoyAdmin, pod: PodRef): Promise<number | undefined> {
  try {
    const info = await admin.admin(pod, 'GET', 'server_info');
    const match = /"uptime_current_epoch"\s*:\s*"?(\d+(?:\.\d+)?)s?"?/.exec(info.text);
    return match ? Number(match[1]) : undefined;
  } catch (error) {
    if (error instanceof MeshDoctorError && ['forbidden', 'unreachable', 'timeout'].includes(error.kind)) throw error;
    return undefined;
  }
}
