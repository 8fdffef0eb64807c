/**
 * The `logging` command's two answers: a live sidecar's Envoy log levels, and
 * finishing the restores a killed run left pending (each pending entry names
 * its own kube context, so the caller opens one source per entry).
 */
import { restoreLogLevels, type EnvoyAdmin } from '../capture/log-levels.js';
import { pendingRestores, type PendingRestore } from '../capture/restore-journal.js';
import { MeshDoctorError } from '../errors.js';
import { parseActiveLoggers } from '../model/envoy-logging.js';
import { formatPod, type PodRef } from '../model/pod.js';
import { buildReport, type Report } from '../report/report.js';
import type { EvidenceSource } from '../sources/source.js';

export interface LoggingData {
  levels?: Array<{ logger: string; level: string }>;
  restores?: Array<{ pod: string; context?: string; outcome: string }>;
}

/** Each logger of one live sidecar and its level, from `GET /logging`'s answer. */
export async function showLogLevels(source: EvidenceSource, pod: PodRef): Promise<Report<LoggingData>> {
  const evidence = await source.proxy(pod, 'logging');
  if (!evidence) throw new MeshDoctorError('exec-failed', `could not read the log levels of ${formatPod(pod)}`);
  const levels = [...parseActiveLoggers(evidence.text)].map(([logger, level]) => ({ logger, level }));
  return buildReport({
    command: 'logging',
    source,
    subject: `pod ${formatPod(pod)}`,
    verdict: { status: 'informational', summary: `${levels.length} loggers; ${levels.filter((l) => l.level !== 'warning').length} not at warning` },
    data: { levels },
  });
}

/** Puts back every level an interrupted run recorded; `open` gives a live source for the entry's context (closed here). */
export async function finishPendingRestores(open: (entry: PendingRestore) => Promise<EnvoyAdmin & { close(): Promise<void> }>): Promise<Report<LoggingData>> {
  const restores: NonNullable<LoggingData['restores']> = [];
  for (const { entry } of await pendingRestores()) {
    const source = await open(entry);
    try {
      const outcome = await restoreLogLevels(source, entry);
      restores.push({ pod: formatPod(entry.pod), context: entry.context, outcome: outcome.status === 'restored' ? `restored ${outcome.loggers} loggers` : outcome.status === 'proxy-restarted' ? outcome.detail : 'already as saved' });
    } catch (error) {
      restores.push({ pod: formatPod(entry.pod), context: entry.context, outcome: `failed: ${(error as Error).message}` });
    } finally {
      await source.close();
    }
  }
  const failed = restores.filter((r) => r.outcome.startsWith('failed'));
  if (failed.length) {
    throw new MeshDoctorError('exec-failed', `${failed.length} of ${restores.length} pending restores failed: ${failed.map((f) => `${f.pod}: ${f.outcome}`).join('; ')}`, {
      suggestion: 'Check access to those pods (pods/exec) and run `kubectl mesh-doctor logging --restore` again.',
    });
  }
  return buildReport({
    command: 'logging --restore',
    source: { mode: 'live', label: 'pending restores' },
    verdict: { status: 'informational', summary: restores.length ? `${restores.length} pending restores finished` : 'no pending restores' },
    data: { restores },
  });
}
