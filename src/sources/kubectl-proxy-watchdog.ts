/**
 * Runs kubectl proxy as its child and stops it when mesh-doctor goes away,
 * however it goes: SIGTERM/SIGINT/SIGHUP are passed on, and when mesh-doctor
 * dies without a word (SIGKILL, a crash) its end of our stdin closes. kubectl
 * proxy itself would outlive a hard kill (nothing tells it), serving its
 * socket until the next reboot. Once kubectl exits it removes the socket and
 * its (then empty) directory. An argument array only, never a shell.
 * Prints `kubectl pid N` first, then kubectl's own output.
 *
 * It runs as its own small process: this file run by Node (from a checkout or
 * an npm install), or the single executable itself with a hidden first
 * argument (inside a SEA, process.execPath is the CLI, not a Node).
 */
import { spawn } from 'node:child_process';
import { rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// Imported statically: a dynamic import('node:sea') fails silently inside a SEA (toolchain notes).
import * as sea from 'node:sea';

/** The hidden first argument that makes the single executable a watchdog. */
export const WATCHDOG_COMMAND = '__kubectl-proxy-watchdog';

export function runWatchdog([binary, ...args]: string[]): void {
  const socket = args.find((a) => a.startsWith('--unix-socket='))?.slice('--unix-socket='.length);
  const child = spawn(binary, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  let stopping = false;
  const stop = () => {
    if (stopping || child.exitCode !== null || child.signalCode !== null) return;
    stopping = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  };
  if (child.pid) process.stdout.write(`kubectl pid ${child.pid}\n`);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
  child.on('error', (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    // The socket and its private directory (rmdir: only if nothing else is in it).
    try {
      if (socket) {
        rmSync(socket, { force: true });
        rmdirSync(path.dirname(socket));
      }
    } catch { /* someone else's file, or already gone */ }
    process.exit(code ?? (signal ? 1 : 0));
  });
}

/** This module's own file, when it is one (not inside the single executable's bundle). */
function ownFile(): string | undefined {
  try {
    return fileURLToPath(import.meta.url);
  } catch {
    return undefined;
  }
}

/** The arguments (after the executable) that start a watchdog in a new process. */
export function watchdogArgv(): string[] {
  if (sea.isSea()) return [WATCHDOG_COMMAND];
  const file = ownFile();
  // Inside the bundle `node bin/run.js` loads, this module has no file of its
  // own: the entry script runs it by name, as the single executable does (run-bundled.ts).
  if (file === undefined) return [process.argv[1], WATCHDOG_COMMAND];
  // From src/ (development and tests) the file is TypeScript: load it with tsx, found from here.
  return file.endsWith('.ts') ? ['--import', import.meta.resolve('tsx'), file] : [file];
}

if (ownFile() !== undefined && process.argv[1] === ownFile()) runWatchdog(process.argv.slice(2));
