/**
 * Step 1 of the release build: the whole CLI as one CommonJS file (Node 20's
 * SEA runs only a CommonJS main whose `require` loads built-ins only), and the
 * SEA assets it reads at run time. See docs/release.md.
 */
import { build } from 'esbuild';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { folderAssetKey } from '../../src/assets.js';

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
  await build({
    entryPoints: [path.join(root, 'src/single-executable.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: main,
    // oclif can load TypeScript plugins; the binary never does, and typescript is 9.7 MB.
    external: ['typescript'],
    define: { MESH_DOCTOR_PACKAGE: JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, oclif: pkg.oclif }) },
    // Before any library loads: oclif's Node-engine check and ws's optional native add-ons
    // print warnings on every run otherwise (toolchain notes).
    banner: { js: "process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'; process.env.WS_NO_BUFFER_UTIL ??= '1'; process.env.WS_NO_UTF_8_VALIDATE ??= '1';" },
    legalComments: 'none',
    logLevel: 'error',
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
