/**
 * Step 1 of the release build: the whole CLI as one CommonJS file (Node 20's
 * SEA runs only a CommonJS main whose `require` loads built-ins only), and the
 * SEA assets it reads at run time. See docs/release.md.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { folderAssetKey } from '../../src/assets.js';
import { bundleCli } from '../bundle-cli.js';

/** The demo's example snapshot and the finding pages: everything src/assets.ts reads. */
export const BUNDLED_FOLDERS = ['examples/incident-4-catch-all-serviceentry'];
export const BUNDLED_FILE_DIRS = ['docs/findings'];

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full, base) : [path.relative(base, full)];
  });
}

/** Writes the bundle and the asset files into `out`; returns the SEA `assets` map (key -> file). */
export async function bundle(root: string, out: string): Promise<{ main: string; assets: Record<string, string> }> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const main = path.join(out, 'mesh-doctor.cjs');
  await bundleCli(path.join(root, 'src/single-executable.ts'), main, {
    MESH_DOCTOR_PACKAGE: JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, oclif: pkg.oclif }),
  });
  const assets: Record<string, string> = {};
  for (const dir of BUNDLED_FILE_DIRS) {
    for (const rel of filesUnder(path.join(root, dir))) assets[path.join(dir, rel)] = path.join(root, dir, rel);
  }
  for (const folder of BUNDLED_FOLDERS) {
    const files = Object.fromEntries(filesUnder(path.join(root, folder)).map((rel) => [rel, readFileSync(path.join(root, folder, rel), 'utf8')]));
    const file = path.join(out, path.basename(folderAssetKey(folder)));
    writeFileSync(file, JSON.stringify(files));
    assets[folderAssetKey(folder)] = file;
  }
  return { main, assets };
}
