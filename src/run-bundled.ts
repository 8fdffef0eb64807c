/**
 * Runs the CLI from a bundle (one file holding every module): the single
 * executable, and `node bin/run.js` on the bundle `npm run build` writes
 * (docs/performance.md, "Start-up"). oclif's explicit command discovery would
 * import its target file, which would evaluate every command and its
 * dependencies; it gets the command map from commandsFor instead, which loads
 * only the command named on the command line.
 */
import { commandsFor } from './command-loaders.js';
import { runWatchdog, WATCHDOG_COMMAND } from './sources/kubectl-proxy-watchdog.js';

export async function runBundled(root: string, pjson: Record<string, unknown>, argv: string[] = process.argv.slice(2)): Promise<unknown> {
  // The kubectl-proxy watchdog, started by `node bin/run.js` (kubectl-proxy-watchdog.ts).
  if (argv[0] === WATCHDOG_COMMAND) return runWatchdog(argv.slice(1));
  const [{ execute, Plugin }, commands] = await Promise.all([import('@oclif/core'), commandsFor(argv[0])]);
  const plugin = Plugin.prototype as unknown as { loadCommandsFromTarget(): Promise<unknown> };
  plugin.loadCommandsFromTarget = async function (this: { commandCache?: unknown }) {
    this.commandCache = commands;
    return commands;
  };
  return execute({ args: argv, loadOptions: { root, pjson: pjson as never } });
}
