import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Partial evidence from a whole snapshot: a copy in a temporary folder without
 * the given files (paths under its root, e.g. `proxies/foo/POD/config_dump?include_eds`).
 * Every other file keeps the snapshot's own provenance. The folder is added to
 * `dirs`, for the suite's `after` to remove.
 */
export async function snapshotWithout(snapshot: string, files: readonly string[], dirs: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-partial-'));
  dirs.push(dir);
  await cp(snapshot, dir, { recursive: true });
  for (const file of files) await rm(path.join(dir, file), { force: true });
  return dir;
}

/** Removes the folders snapshotWithout made. */
export async function removeAll(dirs: string[]): Promise<void> {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
}
