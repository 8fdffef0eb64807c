/**
 * Files the product reads at run time (the demo's example snapshot, the finding
 * pages, package metadata). From a checkout or an npm install they are files
 * under the package root; inside the single executable that krew installs
 * (docs/release.md) nothing sits beside the binary, so the release build embeds
 * them as SEA assets and they are read from there.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
// Imported statically: a dynamic import('node:sea') fails silently inside a SEA (toolchain notes).
import * as sea from 'node:sea';

/** True inside the single executable. */
export function inSingleExecutable(): boolean {
  return sea.isSea();
}

/** The SEA asset that holds a whole folder: a JSON map of relative path -> text. */
export function folderAssetKey(folder: string): string {
  return `${folder}.folder.json`;
}

/** A bundled text file (`docs/findings/MD1002.md`), or undefined when it does not exist. */
export async function readBundled(root: string, rel: string): Promise<string | undefined> {
  if (inSingleExecutable()) {
    try {
      return sea.getAsset(rel, 'utf8');
    } catch {
      return undefined;
    }
  }
  return readFile(path.join(root, rel), 'utf8').catch(() => undefined);
}

/**
 * A bundled folder on disk: the folder itself outside a SEA; inside one, a private
 * temporary copy of the embedded folder, removed by `release()`.
 */
export async function bundledFolder(root: string, folder: string): Promise<{ path: string; release(): Promise<void> }> {
  if (!inSingleExecutable()) return { path: path.join(root, folder), release: async () => undefined };
  const files = JSON.parse(sea.getAsset(folderAssetKey(folder), 'utf8')) as Record<string, string>;
  const dir = await mkdtemp(path.join(tmpdir(), 'mesh-doctor-bundled-'));
  const target = path.join(dir, path.basename(folder));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(target, rel)), { recursive: true });
    await writeFile(path.join(target, rel), text, { mode: 0o600 });
  }
  return { path: target, release: () => rm(dir, { recursive: true, force: true }) };
}
