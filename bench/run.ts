/**
 * `npm run bench`: the speed and memory targets, measured in fresh processes
 * (never in unit tests), written to docs/performance.md with the machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { syntheticConfigDump } from './synthetic-dump.js';
import { certsBenchmarks } from './certs.js';
import { egressBenchmarks } from './egress.js';
import { checkBenchmarks } from './check.js';
import { startupBenchmarks } from './startup.js';
import { runJsNodeFlags } from '../tools/build-cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'bench/out');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SERVICES = 5000;

interface Measurement { ms: number; maxRssBytes: number; baselineRssBytes: number }

/** The Node flags the installed CLI runs with. */
const NODE_FLAGS = runJsNodeFlags(ROOT);

function measure(mode: 'json' | 'index', file: string): Measurement {
  const out = execFileSync(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bench/measure.mjs'), mode, file], { cwd: ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(out.toString());
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  // Measured on the compiled product (dist/), as users run it.
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const file = path.join(OUT, `synthetic-${SERVICES}.config_dump.json`);
  if (!existsSync(file) || process.env.BENCH_REGENERATE) writeFileSync(file, syntheticConfigDump(SERVICES));
  const size = statSync(file).size;
  console.log(`dump: ${SERVICES} services, ${mb(size)} MB`);

  const json: Measurement[] = [];
  const index: Measurement[] = [];
  for (let i = 0; i < RUNS; i++) {
    json.push(measure('json', file));
    index.push(measure('index', file));
  }
  const jsonMs = median(json.map((m) => m.ms));
  const indexMs = median(index.map((m) => m.ms));
  const indexRss = median(index.map((m) => m.maxRssBytes));
  const jsonRss = median(json.map((m) => m.maxRssBytes));
  const baseline = median(index.map((m) => m.baselineRssBytes));
  console.log(`JSON.parse ${jsonMs.toFixed(0)} ms; parse-and-index ${indexMs.toFixed(0)} ms (${(indexMs / jsonMs).toFixed(2)}x); peak RSS ${mb(indexRss)} MB (${(indexRss / size).toFixed(2)}x the file)`);

  // --version of the packed CLI (compiled, with the oclif manifest `npm pack` adds): what a user waits for on every call.
  execFileSync('npm', ['run', 'manifest', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const versionMs: number[] = [];
  let startupRows: string[][] = [];
  try {
    // Start-up (issue: release): the single executable if `npm run release` built one, and node bin/run.js.
    startupRows = await startupBenchmarks(ROOT, Math.max(RUNS * 2, 10), path.join(ROOT, 'release/build/linux-amd64/kubectl-mesh_doctor'));
    for (let i = 0; i < Math.max(RUNS * 2, 10); i++) {
      const start = performance.now();
      execFileSync(path.join(ROOT, 'bin/run.js'), ['--version']);
      versionMs.push(performance.now() - start);
    }
  } finally {
    rmSync(path.join(ROOT, 'oclif.manifest.json'), { force: true });
  }
  const version = median(versionMs);
  console.log(`--version ${version.toFixed(0)} ms`);

  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const rows = [
    ['parse-and-index vs JSON.parse', `${indexMs.toFixed(0)} ms vs ${jsonMs.toFixed(0)} ms = ${(indexMs / jsonMs).toFixed(2)}x`, '≤ 1.5x', verdict(indexMs / jsonMs <= 1.5)],
    ['peak RSS, parse-and-index', `${mb(indexRss)} MB = ${(indexRss / size).toFixed(2)}x the file (a bare JSON.parse peaks at ${mb(jsonRss)} MB; Node itself, before reading the file: ${mb(baseline)} MB)`, '≤ 4x file size', verdict(indexRss / size <= 4)],
    ['`--version` (packed CLI: dist/ and oclif.manifest.json, node bin/run.js)', `${version.toFixed(0)} ms`, '< 300 ms', verdict(version < 300)],
  ];
  rows.push(...startupRows);
  // Issue 5: who-owns-443 -A across 200 sidecars, and the outbound simulation on this dump (bench/egress.ts).
  rows.push(...(await egressBenchmarks({ root: ROOT, out: OUT, dumpFile: file, runs: RUNS })));
  // Certificates: certs -A across 200 proxies (bench/certs.ts).
  rows.push(...certsBenchmarks({ root: ROOT, out: OUT, runs: RUNS }));
  // Issue 13: check -A live over 1,000 sidecars, its peak RSS over 1,000 2 MB dumps, offline over 200 (bench/check.ts).
  rows.push(...(await checkBenchmarks({ root: ROOT, out: OUT, runs: RUNS })));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const doc = `# Performance

Measured by \`npm run bench\` (bench/run.ts). Each figure is the median of
${RUNS} runs, each in a fresh Node process; \`--version\` is the median of
${Math.max(RUNS * 2, 10)} runs of the packed CLI. Parsing runs with the Node flags the
installed CLI uses (bin/run.js: \`${NODE_FLAGS.join(' ') || 'none'}\`). Numbers are from the
machine below and move with it; the targets are the issue's.

Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}.

## Parsing a large sidecar config dump

A synthetic dump for ${SERVICES} services (bench/synthetic-dump.ts; shapes modelled on
the real Istio 1.20.8 dump: one EDS cluster with auto-mTLS transport socket
matches, one per-VIP listener with an HTTP chain and a tcp_proxy default chain,
one route config and four EDS endpoints per service): ${mb(size)} MB.

"Parse-and-index" is \`parseConfigDump\` plus the typed listener, cluster,
route and endpoint lists and the by-name indexes, which every diagnosis
builds first. The parser keeps Envoy's JSON as parsed and wraps it in views
instead of copying it, which is why it stays close to a bare \`JSON.parse\`.

| what | measured | target | |
|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}
`;
  writeFileSync(path.join(ROOT, 'docs/performance.md'), doc + handWrittenNotes());
  console.log('wrote docs/performance.md');
}

/** The doc's hand-written part (from its `## Notes` heading on): what the figures mean, kept by every run. */
function handWrittenNotes(): string {
  const file = path.join(ROOT, 'docs/performance.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = text.search(/^## Notes$/m);
  return at < 0 ? '' : `\n${text.slice(at)}`;
}

await main();
