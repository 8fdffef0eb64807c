// Running the real kubectl against a test cluster, for tests.
import {execFile, execFileSync, spawn, type ChildProcess} from 'node:child_process';
import type {TestCluster} from './server.js';

export interface KubectlResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let available: boolean | undefined;
/** Whether a kubectl binary is on PATH. */
export function kubectlAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('kubectl', ['version', '--client'], {stdio: 'ignore', timeout: 10_000});
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

const children = new Set<ChildProcess>();

/** Run kubectl with the cluster's kubeconfig; kills it after timeoutMs. */
export function kubectl(cluster: TestCluster, args: string[], timeoutMs = 15_000): Promise<KubectlResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], {
      env: {...process.env, ...cluster.env},
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      children.delete(child);
      const e = err as (Error & {code?: number | string; signal?: NodeJS.Signals}) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr),
        ms: Date.now() - start,
      });
    });
    children.add(child);
  });
}

/** Start kubectl without waiting (e.g. `logs -f`); the caller kills it, or killAll() does. */
export function spawnKubectl(cluster: TestCluster, args: string[]): ChildProcess {
  const child = spawn('kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], {env: {...process.env, ...cluster.env}, stdio: ['ignore', 'pipe', 'pipe']});
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Kill every kubectl this module started that is still running (by its own pid). */
export function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  children.clear();
}
