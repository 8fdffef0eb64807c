/**
 * The single executable's entry point (Node SEA, built by `npm run release`,
 * docs/release.md). The whole CLI is one CommonJS bundle here, so:
 * - package metadata comes from the build (MESH_DOCTOR_PACKAGE), not from a
 *   package.json beside the binary (there is none after a krew install);
 * - oclif gets the command map from run-bundled.ts (only the command that runs is loaded);
 * - the binary is also the kubectl-proxy watchdog (a hidden first argument),
 *   because process.execPath is this executable, not a Node.
 *
 * Node flags: a SEA on Node 20 cannot carry V8 flags and reads the user's
 * NODE_OPTIONS, which are for their Node, not for this tool. So a run that may
 * read large config dumps (live, or a snapshot over 32 MB) — and any run while
 * NODE_OPTIONS is set — starts this binary again with only the flags bin/run.js
 * uses, and waits for it; --version, help, docs, explain and small snapshots
 * run at once, where start-up time is what matters. (Node applies
 * NODE_OPTIONS before any of this runs: a preload that fails still stops the binary.)
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import path from 'node:path';
import { runBundled } from './run-bundled.js';
import { runWatchdog, WATCHDOG_COMMAND } from './sources/kubectl-proxy-watchdog.js';

declare const MESH_DOCTOR_PACKAGE: Record<string, unknown>;

/**
 * bin/run.js's flag (a large config dump is one JSON.parse; a small young generation keeps
 * the peak low), and --no-warnings: with a V8 flag set, V8 refuses the code cache made
 * without it and Node warns "Code cache data rejected" (the cache is for the quick commands).
 */
const NODE_FLAGS = '--max-semi-space-size=2 --no-warnings';
/** Set in the relaunched process: it runs the CLI itself. */
const RELAUNCHED = 'MESH_DOCTOR_SEA_RELAUNCHED';
const QUICK = new Set([undefined, '--version', '-v', 'version', '--help', '-h', 'help', 'docs', 'explain']);

/** Below this, a snapshot's dumps are small enough that the young generation's size does not matter. */
const SMALL_SNAPSHOT_BYTES = 32 << 20;

/** Bytes under a path (a snapshot folder or archive), stopping once past `limit`. */
function sizeUnder(file: string, limit: number): number {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return stat?.size ?? 0;
  let total = 0;
  for (const name of readdirSync(file)) {
    total += sizeUnder(path.join(file, name), limit - total);
    if (total > limit) break;
  }
  return total;
}

/** The --from argument, if the run is offline. */
function offlineSource(argv: string[]): string | undefined {
  const i = argv.findIndex((a) => a === '--from' || a.startsWith('--from='));
  if (i < 0) return undefined;
  return argv[i].startsWith('--from=') ? argv[i].slice('--from='.length) : argv[i + 1];
}

function needsRelaunch(): boolean {
  if (process.env[RELAUNCHED] === '1') return false;
  if (process.env.NODE_OPTIONS) return true;
  if (QUICK.has(process.argv[2])) return false;
  const from = offlineSource(process.argv.slice(2));
  return from === undefined || sizeUnder(from, SMALL_SNAPSHOT_BYTES) > SMALL_SNAPSHOT_BYTES;
}

/** Runs the CLI in a child with NODE_FLAGS only, passing signals on; exits as it exits. */
function relaunch(): void {
  const env = { ...process.env, NODE_OPTIONS: NODE_FLAGS, [RELAUNCHED]: '1' };
  // fd 3: the child's lifeline (see followParent).
  const child = spawn(process.execPath, process.argv.slice(2), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env });
  // A terminal's Ctrl-C reaches both processes; a second SIGINT is ignored by the CLI's cleanup (lifecycle.ts).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
}

/**
 * In the relaunched process: if the parent dies without a word (SIGKILL), end the same way,
 * so a hard kill of `kubectl mesh-doctor` is still one (and `logging --restore` finishes).
 */
function followParent(): void {
  try {
    const lifeline = new Socket({ fd: 3, readable: true, writable: false });
    lifeline.on('error', () => undefined);
    lifeline.on('close', () => process.kill(process.pid, 'SIGKILL'));
    lifeline.resume();
    lifeline.unref();
  } catch {
    // started by hand with the variable set: no lifeline
  }
}

async function main(): Promise<unknown> {
  if (process.argv[2] === WATCHDOG_COMMAND) return runWatchdog(process.argv.slice(3));
  if (needsRelaunch()) return relaunch();
  if (process.env[RELAUNCHED] === '1') followParent();
  if (['--version', '-v'].includes(process.argv[2]!) && process.argv.length === 3) {
    // oclif's answer, without loading oclif and the commands (in the bundle, dynamic imports load lazily).
    return process.stdout.write(`mesh-doctor/${MESH_DOCTOR_PACKAGE.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  }
  return runBundled(path.dirname(process.execPath), MESH_DOCTOR_PACKAGE);
}

void main();
