/**
 * The `check` benchmarks (issue 13), called from bench/run.ts; rows in the
 * shape of run.ts's `rows`: [what, measured, target, verdict].
 *
 * 1. `check -A` over 1,000 sidecars in the test cluster (test/cluster) with
 *    100 ms of latency on every exec, --concurrency 8, run as users run it
 *    (compiled CLI, the real kubectl), against the ideal
 *    1,000 × 0.1 s / 8; target: within 1.2x.
 * 2. Peak RSS of offline `check -A` over 1,000 proxies whose dumps are 2 MB
 *    each (bench/synthetic-dump.ts); target: < 400 MB — the proxies' dumps
 *    are read one pool slot at a time and released, never all at once.
 * 3. Offline `check -A` on a snapshot of 200 proxies; target: < 5 s.
 *
 * The snapshots link one dump file into every proxy's directory (hard links):
 * the CLI reads each as its own file, the disk holds it once.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startTestCluster } from '../test/cluster/server.js';
import { syntheticConfigDump } from './synthetic-dump.js';
import { buildSnapshot, SEED003_REPLICA } from './sidecar-snapshot.js';

type Row = [string, string, string, string];
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const LATENCY_MS = 100;
const CONCURRENCY = 8;

/** Prints the process's peak RSS to the file named by BENCH_RSS_FILE when it exits (loaded with --import). */
const RSS_HOOK = `import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));
`;

interface Run { ms: number; code: number; stdout: string; rssBytes?: number }

function runCheck(root: string, out: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const hook = path.join(out, 'rss-hook.mjs');
  writeFileSync(hook, RSS_HOOK);
  const rssFile = path.join(out, `rss-${process.pid}-${Date.now()}`);
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', hook, path.join(root, 'bin/run.js'), 'check', ...args], {
      env: { ...process.env, ...env, NO_COLOR: '1', BENCH_RSS_FILE: rssFile }, maxBuffer: 256 << 20, timeout: 600_000,
    }, (error, stdout) => {
      const ms = performance.now() - start;
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      const rssBytes = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : undefined;
      rmSync(rssFile, { force: true });
      resolve({ ms, code, stdout: String(stdout), ...(rssBytes ? { rssBytes } : {}) });
    });
  });
}

/** How many proxies the report says were read, and whether every one found the seed's culprit. */
function proxiesRead(run: Run): { read: number; culpritPods: number } {
  try {
    const report = JSON.parse(run.stdout);
    const owner = report.data.groups.flatMap((g: { checks: unknown[] }) => g.checks).find((l: { rule: string }) => l.rule === 'md1002-catch-all-owns-port');
    return { read: report.data.proxies.read, culpritPods: owner?.culprits.reduce((n: number, c: { pods: { count: number } }) => n + c.pods.count, 0) ?? 0 };
  } catch {
    return { read: 0, culpritPods: 0 };
  }
}

const median = (runs: Run[]) => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

async function liveAcrossPods(root: string, out: string, pods: number): Promise<Row> {
  const dir = path.join(out, `check-${pods}-pods`);
  buildSnapshot(root, dir, pods, path.join(root, SEED003_REPLICA, 'proxies/istio-demo/sample-c59f744df-8kq7m/config_dump?include_eds'));
  const cluster = await startTestCluster({ snapshotDir: dir, faults: { execLatencyMs: LATENCY_MS } });
  try {
    const runs: Run[] = [];
    for (let i = 0; i < 3; i++) runs.push(await runCheck(root, out, ['-A', '-o', 'json', '--concurrency', String(CONCURRENCY)], cluster.env));
    const run = median(runs);
    const { read, culpritPods } = proxiesRead(run);
    const ideal = (pods * LATENCY_MS) / CONCURRENCY;
    const ratio = run.ms / ideal;
    console.log(`check -A live: ${pods} pods (${read} read, culprit in ${culpritPods}), ${run.ms.toFixed(0)} ms, ideal ${ideal.toFixed(0)} ms (${ratio.toFixed(2)}x), peak RSS ${run.rssBytes ? mb(run.rssBytes) : '?'} MB, exit ${run.code}`);
    return [
      `\`check -A\`, ${pods} sidecars, ${LATENCY_MS} ms exec latency, --concurrency ${CONCURRENCY} (test cluster, real kubectl, compiled CLI)`,
      `${(run.ms / 1000).toFixed(2)} s for ${read}/${pods} proxies (the seed 003 culprit named in ${culpritPods}) vs ideal ${pods} × ${LATENCY_MS / 1000} s / ${CONCURRENCY} = ${(ideal / 1000).toFixed(2)} s → ${ratio.toFixed(2)}x (median of 3 runs)`,
      '≤ 1.2x ideal',
      verdict(ratio <= 1.2 && read === pods),
    ];
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A synthetic dump of about 2 MB (bench/synthetic-dump.ts: about 9 kB per service). */
function twoMegabyteDump(out: string): string {
  const file = path.join(out, 'synthetic-2mb.config_dump.json');
  if (!existsSync(file)) writeFileSync(file, syntheticConfigDump(230));
  return file;
}

async function memoryAcrossLargeDumps(root: string, out: string, pods: number): Promise<Row> {
  const dump = twoMegabyteDump(out);
  const size = statSync(dump).size;
  const dir = path.join(out, `check-${pods}-large-dumps`);
  buildSnapshot(root, dir, pods, dump);
  try {
    const run = await runCheck(root, out, ['-A', '-o', 'json', '--from', dir]);
    const { read } = proxiesRead(run);
    const rss = run.rssBytes ?? Number.POSITIVE_INFINITY;
    console.log(`check -A offline: ${pods} proxies of ${(size / 1e6).toFixed(1)} MB (${read} read), peak RSS ${mb(rss)} MB, ${run.ms.toFixed(0)} ms, exit ${run.code}`);
    return [
      `peak RSS of offline \`check -A\`, ${pods} proxies with ${(size / 1e6).toFixed(1)} MB dumps each (${((pods * size) / 1e9).toFixed(1)} GB of dumps)`,
      `${mb(rss)} MB for ${read}/${pods} proxies in ${(run.ms / 1000).toFixed(1)} s (each dump read, reduced to findings and released; at most --concurrency ${CONCURRENCY} in memory)`,
      '< 400 MB',
      verdict(rss < 400 * 1024 * 1024 && read === pods),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function offlineSnapshot(root: string, out: string, pods: number, runs: number): Promise<Row> {
  const dir = path.join(out, `check-${pods}-offline`);
  buildSnapshot(root, dir, pods, path.join(root, SEED003_REPLICA, 'proxies/istio-demo/sample-c59f744df-8kq7m/config_dump?include_eds'));
  try {
    const all: Run[] = [];
    for (let i = 0; i < Math.max(3, Math.min(runs, 5)); i++) all.push(await runCheck(root, out, ['-A', '-o', 'json', '--from', dir]));
    const run = median(all);
    const { read, culpritPods } = proxiesRead(run);
    console.log(`check -A offline: ${pods} proxies (${read} read, culprit in ${culpritPods}), ${run.ms.toFixed(0)} ms`);
    return [
      `offline \`check -A\` on a snapshot of ${pods} proxies (the seed 003 replica's dump in each; compiled CLI)`,
      `${(run.ms / 1000).toFixed(2)} s for ${read}/${pods} proxies, the culprit named in ${culpritPods} (median of ${all.length} runs)`,
      '< 5 s',
      verdict(run.ms < 5000 && read === pods),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function checkBenchmarks(options: { root: string; out: string; runs: number }): Promise<Row[]> {
  return [
    await offlineSnapshot(options.root, options.out, 200, options.runs),
    await memoryAcrossLargeDumps(options.root, options.out, 1000),
    await liveAcrossPods(options.root, options.out, 1000),
  ];
}

// `node --import tsx bench/check.ts` runs these alone (on dist/: run `npm run build` first).
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const out = path.join(root, 'bench/out');
  mkdirSync(out, { recursive: true });
  for (const row of await checkBenchmarks({ root, out, runs: 3 })) console.log(row.join(' | '));
}
