#!/usr/bin/env -S node --max-semi-space-size=2
// The installed entry point: runs the CLI bundle `npm run build` writes to dist/.
// --max-semi-space-size=2 (MB): a large config dump is one JSON.parse, and V8's
// default young generation (up to 48 MB) adds that much to the peak memory for
// no speed gain here (docs/performance.md measures both).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pjson = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const [first, ...rest] = process.argv.slice(2);
if ((first === '--version' || first === '-v') && rest.length === 0) {
  // What oclif prints for --version, without loading oclif: the call people time (docs/performance.md).
  process.stdout.write(`mesh-doctor/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { loadBundle } = await import('./bundle.js');
  await loadBundle(root).exports.runBundled(root, pjson);
}
