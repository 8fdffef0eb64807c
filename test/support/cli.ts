import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The CLI under test: `node bin/dev.js` (oclif dev mode on src/ through tsx), or,
 * when MESH_DOCTOR_PLUGIN names an executable (the krew-installed single
 * executable, test/release), that binary: the same suites then test what users install.
 */
export function cliCommand(): { file: string; args: string[] } {
  const plugin = process.env.MESH_DOCTOR_PLUGIN;
  return plugin ? { file: plugin, args: [] } : { file: process.execPath, args: [path.join(REPO_ROOT, 'bin/dev.js')] };
}

/**
 * Runs the CLI as a user would, as a subprocess, with colour off and a fixed
 * width so output compares as text.
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const cli = cliCommand();
  return new Promise((resolve) => {
    execFile(cli.file, [...cli.args, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', COLUMNS: '160', FORCE_COLOR: '0', ...options.env },
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), exitCode });
    });
  });
}

/** Reads the JSON report a command printed, failing with the whole output when it is not JSON. */
export function jsonOf(result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`not JSON (exit ${result.exitCode}):\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}
