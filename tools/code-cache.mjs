// Writes V8's code cache for the CLI bundle (bin/bundle.js) after running the
// commands whose start-up docs/performance.md measures, on the bundled example
// snapshot, in this one process: the cache then holds the functions those runs
// compiled, not only the top level. Run by tools/build-cli.ts; their output is discarded.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheFile, loadBundle } from '../bin/bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = ['sample-c59f744df-8kq7m.istio-demo', '--from', 'examples/incident-4-catch-all-serviceentry'];
const RUNS = [['explain', 'UC'], ['who-owns-443', ...EXAMPLE], ['demo']];

const cacheFile = path.join(root, codeCacheFile()); // for this process's flags
rmSync(cacheFile, { force: true });
const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const { exports, script } = loadBundle(root);
for (const argv of RUNS) await exports.runBundled(root, pjson, argv);
process.exitCode = 0; // a run's findings exit code is not the build's
writeFileSync(cacheFile, script.createCachedData());
