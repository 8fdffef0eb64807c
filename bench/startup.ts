/**
 * Start-up: the time from exec to the first byte of output, for the single
 * executable and for `node bin/run.js` (the packed CLI: dist/ and the oclif
 * manifest), each as a ratio against `node -e 'process.stdout.write("x")'`
 * measured in the same run, interleaved, so a busy machine moves both.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Milliseconds from spawn to the first byte on stdout (or to exit, if it prints nothing). */
function firstOutput(file: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NO_COLOR: '1' } });
    let first: number | undefined;
    child.stdout.once('data', () => { first = performance.now() - start; });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', () => resolve(first ?? performance.now() - start));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export interface StartupCase {
  what: string;
  args: string[];
  /** Target ratio against the Node yardstick. */
  target: number;
}

/** Rows for docs/performance.md: each case for each way of running the CLI. */
export async function startupBenchmarks(root: string, runs: number, seaBinary: string | undefined): Promise<string[][]> {
  const snapshot = 'test/scenarios/seed003-se-no-addresses-tcp/snapshot';
  const cases: StartupCase[] = [
    { what: '`--version`', args: ['--version'], target: 1.5 },
    { what: '`explain UC`', args: ['explain', 'UC'], target: 2.5 },
    { what: '`who-owns-443` offline on a small snapshot', args: ['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo', '--from', snapshot], target: 2.5 },
  ];
  const runners: Array<{ name: string; file: string; prefix: string[] }> = [
    { name: 'node bin/run.js', file: process.execPath, prefix: [path.join(root, 'bin/run.js')] },
  ];
  if (seaBinary && existsSync(seaBinary)) runners.unshift({ name: 'single executable', file: seaBinary, prefix: [] });
  const rows: string[][] = [];
  for (const c of cases) {
    for (const r of runners) {
      const cli: number[] = [];
      const node: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const a = await firstOutput(r.file, [...r.prefix, ...c.args], root);
        const b = await firstOutput(process.execPath, ['-e', 'process.stdout.write("x")'], root);
        if (i > 0) { cli.push(a); node.push(b); } // the first pair warms the file cache
      }
      const ratio = median(cli) / median(node);
      rows.push([`start-up, ${c.what}, ${r.name}: exec to first output, against \`node -e\` printing one byte`, `${median(cli).toFixed(0)} ms vs ${median(node).toFixed(0)} ms = ${ratio.toFixed(2)}x`, `≤ ${c.target}x`, ratio <= c.target ? 'met' : '**missed**']);
      console.log(rows.at(-1)!.slice(0, 2).join(': '));
    }
  }
  return rows;
}

/**
 * `node --import tsx bench/startup.ts`: only the start-up rows (the full `npm run bench`
 * includes them), for the binary `npm run release` built and the packed CLI; prints the table rows.
 */
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const root = new URL('..', import.meta.url).pathname;
  const { execFileSync } = await import('node:child_process');
  const { rmSync } = await import('node:fs');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  execFileSync('npm', ['run', 'manifest', '--silent'], { cwd: root, stdio: 'inherit' });
  try {
    const rows = await startupBenchmarks(root, Number(process.env.BENCH_RUNS ?? 10), path.join(root, 'release/build/linux-amd64/kubectl-mesh_doctor'));
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } finally {
    rmSync(path.join(root, 'oclif.manifest.json'), { force: true });
  }
}
