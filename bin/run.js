#!/usr/bin/env -S node --max-semi-space-size=2
// The installed entry point: runs the compiled commands in dist/.
// --max-semi-space-size=2 (MB): a large config dump is one JSON.parse, and V8's
// default young generation (up to 48 MB) adds that much to the peak memory for
// no speed gain here (docs/performance.md measures both).
const [first, ...rest] = process.argv.slice(2);
if ((first === '--version' || first === '-v') && rest.length === 0) {
  // What oclif prints for --version, without loading oclif: the call people time (docs/performance.md).
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`mesh-doctor/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
