import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubectlAvailable } from '../cluster/kubectl.js';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../cluster/server.js';
import { cliCommand, jsonOf, type CliResult } from './cli.js';

/** In a `before` hook: skip the suite, saying why, when there is no kubectl to drive. */
export function requireKubectl(context: Mocha.Context): void {
  if (kubectlAvailable()) return;
  console.log('    (skipped: kubectl is not on PATH; the end-to-end suite needs a real kubectl client)');
  context.skip();
}

export interface E2E {
  cluster: TestCluster;
  /** `kubectl mesh-doctor ARGS` through the real kubectl, which finds the plugin on PATH. */
  kubectl(args: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>;
  /** The same, started in the background (for signals mid-run). */
  spawnKubectl(args: string[], options?: { env?: NodeJS.ProcessEnv }): ChildProcess;
  stop(): Promise<void>;
}

/**
 * Serves a snapshot as a cluster and puts an executable named
 * `kubectl-mesh_doctor` on PATH, as krew would, running the plugin from src/.
 */
export async function startE2E(options: TestClusterOptions): Promise<E2E> {
  const cluster = await startTestCluster(options);
  const bin = await mkdtemp(path.join(tmpdir(), 'md-plugin-'));
  const plugin = path.join(bin, 'kubectl-mesh_doctor');
  const cli = cliCommand();
  await writeFile(plugin, `#!/bin/sh\nexec ${[cli.file, ...cli.args].map((w) => `"${w}"`).join(' ')} "$@"\n`);
  await chmod(plugin, 0o755);
  const env = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    ...process.env,
    ...cluster.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    NO_COLOR: '1',
    COLUMNS: '160',
    ...extra,
  });
  return {
    cluster,
    kubectl: (args, opts = {}) => new Promise((resolve) => {
      execFile('kubectl', ['mesh-doctor', ...args], { env: env(opts.env), timeout: opts.timeoutMs ?? 90_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ stdout: String(stdout), stderr: String(stderr), exitCode: error ? (typeof code === 'number' ? code : 1) : 0 });
      });
    }),
    spawnKubectl: (args, opts = {}) => spawn('kubectl', ['mesh-doctor', ...args], { env: env(opts.env), stdio: ['ignore', 'pipe', 'pipe'] }),
    stop: async () => {
      await cluster.stop();
      await rm(bin, { recursive: true, force: true });
    },
  };
}

/**
 * What must not depend on where the evidence came from (live or a snapshot of
 * the same state): the exit code, the verdict's status and confidence, each
 * finding with its culprit and message.
 */
export function verdictOf(result: CliResult): unknown {
  const report = jsonOf(result);
  return {
    exitCode: result.exitCode,
    status: report.verdict?.status,
    confidence: report.verdict?.confidence,
    findings: (report.findings ?? []).map((f: { code: string; severity: string; target: unknown; message: string }) => ({ code: f.code, severity: f.severity, target: f.target, message: f.message })),
  };
}
