/**
 * The second half of `npm run build` (after tsc): the CLI bundle bin/run.js
 * loads, and V8's code cache for it (bin/bundle.js; docs/performance.md, "Start-up").
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE } from '../bin/bundle.js';
import { bundleCli } from './bundle-cli.js';

/** The Node flags the installed CLI runs with: those on bin/run.js's shebang line. */
export function runJsNodeFlags(root: string): string[] {
  return readFileSync(path.join(root, 'bin/run.js'), 'utf8').split('\n')[0].split(/\s+/).filter((word) => word.startsWith('--'));
}

/** Writes dist/mesh-doctor.cjs and its code cache under `root`. */
export async function buildCliBundle(root: string): Promise<void> {
  await bundleCli(path.join(root, 'src/run-bundled.ts'), path.join(root, BUNDLE));
  // One cache under bin/run.js's shebang flags, one under none (`node bin/run.js`):
  // V8 rejects a cache made under other flags.
  for (const flags of [runJsNodeFlags(root), []]) {
    execFileSync(process.execPath, [...flags, path.join(root, 'tools/code-cache.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildCliBundle(fileURLToPath(new URL('..', import.meta.url)));
}
