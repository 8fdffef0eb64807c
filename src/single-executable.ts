/**
 * The single executable's entry point (Node SEA, built by `npm run release`,
 * docs/release.md). The whole CLI is one CommonJS bundle here, so:
 * - package metadata comes from the build (MESH_DOCTOR_PACKAGE), not from a
 *   package.json beside the binary (there is none after a krew install);
 * - oclif's explicit command discovery would import its target file; the
 *   command map is handed to it instead;
 * - the binary is also the kubectl-proxy watchdog (a hidden first argument),
 *   because process.execPath is this executable, not a Node.
 *
 * Node flags: a SEA on Node 20 cannot carry V8 flags and reads the user's
 * NODE_OPTIONS, which are for their Node, not for this tool. So a run that reads
 * proxies' config (or any run while NODE_OPTIONS is set) starts this binary
 * again with only the flags bin/run.js uses, and waits for it; --version, help,
 * docs and explain run at once, where start-up time is what matters. (Node applies
 * NODE_OPTIONS before any of this runs: a preload that fails still stops the binary.)
 */
import { execute, Plugin } from '@oclif/core';
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import path from 'node:path';
import { COMMANDS } from './commands.js';
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

function needsRelaunch(): boolean {
  if (process.env[RELAUNCHED] === '1') return false;
  return Boolean(process.env.NODE_OPTIONS) || !QUICK.has(process.argv[2]);
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

function main(): Promise<unknown> | void {
  if (process.argv[2] === WATCHDOG_COMMAND) return runWatchdog(process.argv.slice(3));
  if (needsRelaunch()) return relaunch();
  if (process.env[RELAUNCHED] === '1') followParent();
  const plugin = Plugin.prototype as unknown as { loadCommandsFromTarget(): Promise<unknown> };
  plugin.loadCommandsFromTarget = async function (this: { commandCache?: unknown }) {
    this.commandCache = COMMANDS;
    return COMMANDS;
  };
  return execute({ loadOptions: { root: path.dirname(process.execPath), pjson: MESH_DOCTOR_PACKAGE as never } });
}

void main();
