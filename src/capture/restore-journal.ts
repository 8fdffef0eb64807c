import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { EnvoyLogLevel } from '../model/envoy-logging.js';
import type { PodRef } from '../sources/source.js';

/**
 * A restore that is owed to a sidecar: written before any level changes, so
 * `mesh-doctor logging --restore` can finish the job after a hard kill.
 */
export interface PendingRestore {
  version: 1;
  context?: string;
  kubeconfig?: string;
  pod: PodRef;
  /** Every logger and the level it had before mesh-doctor touched it. */
  levels: Record<string, EnvoyLogLevel>;
  /** Envoy's uptime when the levels were saved: a lower uptime later means the proxy restarted. */
  uptimeSeconds?: number;
  savedAt: string;
}

/** Where pending restores live: $MESH_DOCTOR_STATE_DIR, else $XDG_STATE_HOME/mesh-doctor, else ~/.local/state/mesh-doctor. */
export function stateDirectory(): string {
  if (process.env.MESH_DOCTOR_STATE_DIR) return process.env.MESH_DOCTOR_STATE_DIR;
  const base = process.env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  return path.join(base, 'mesh-doctor');
}

function journalDirectory(): string {
  return path.join(stateDirectory(), 'pending-restores');
}

function fileName(entry: Pick<PendingRestore, 'context' | 'pod'>): string {
  const safe = (s: string) => s.replace(/[^\w.-]/g, '_');
  return `${safe(entry.context ?? 'default')}__${safe(entry.pod.namespace)}__${safe(entry.pod.name)}.json`;
}

export async function recordPendingRestore(entry: PendingRestore): Promise<string> {
  const directory = journalDirectory();
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const file = path.join(directory, fileName(entry));
  // Written whole then renamed, so a kill never leaves half a journal entry.
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(entry, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, file);
  return file;
}

export async function clearPendingRestore(entry: Pick<PendingRestore, 'context' | 'pod'>): Promise<void> {
  await rm(path.join(journalDirectory(), fileName(entry)), { force: true });
}

export async function pendingRestores(): Promise<Array<{ file: string; entry: PendingRestore }>> {
  const directory = journalDirectory();
  let names: string[];
  try {
    names = (await readdir(directory)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: Array<{ file: string; entry: PendingRestore }> = [];
  for (const name of names) {
    const file = path.join(directory, name);
    try {
      const entry = JSON.parse(await readFile(file, 'utf8')) as PendingRestore;
      if (entry.version === 1 && entry.pod && entry.levels) out.push({ file, entry });
    } catch {
      // A corrupt entry cannot be acted on; it is reported by `logging --restore` through its absence.
    }
  }
  return out;
}
