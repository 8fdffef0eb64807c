// One measurement in a fresh process, on the compiled product (dist/), as users
// run it: prints JSON {ms, maxRssBytes, baselineRssBytes}. `baselineRssBytes` is
// the process before the dump is read. Modes: `json` (a bare JSON.parse) and
// `index` (parseConfigDump plus the typed lists and name indexes every
// diagnosis builds first).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseConfigDump } from '../dist/model/envoy/config-dump.js';

const [mode, file] = process.argv.slice(2);
const baselineRssBytes = process.resourceUsage().maxRSS * 1024;
const text = readFileSync(file, 'utf8');
const start = performance.now();
let kept;
if (mode === 'json') {
  kept = JSON.parse(text);
} else {
  const dump = parseConfigDump(text, 'bench');
  const { listeners, clusters, routeConfigs, endpoints } = dump;
  // The name indexes: the first lookup of each builds its map.
  dump.routeConfig(routeConfigs[0]?.name ?? '');
  dump.cluster(clusters[0]?.name ?? '');
  dump.listener(listeners[0]?.name ?? '');
  kept = [dump, listeners.length, clusters.length, routeConfigs.length, endpoints.length];
}
const ms = performance.now() - start;
process.stdout.write(JSON.stringify({ ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, baselineRssBytes, kept: Boolean(kept) }) + '\n');
