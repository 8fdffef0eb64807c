/**
 * Work that must happen however a run ends — on success, on error, on Ctrl-C
 * or SIGTERM: restoring Envoy log levels, removing temporary files. Cleanups
 * run last-registered first, each at most once.
 */
type Cleanup = () => Promise<void> | void;

const cleanups: Cleanup[] = [];
let interruptedBy: NodeJS.Signals | undefined;
let installed = false;

export function registerCleanup(cleanup: Cleanup): () => void {
  cleanups.push(cleanup);
  installSignalHandlers();
  return () => {
    const index = cleanups.indexOf(cleanup);
    if (index !== -1) cleanups.splice(index, 1);
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const cleanup = cleanups.pop()!;
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`warning: cleanup failed: ${(error as Error).message}\n`);
    }
  }
}

/** The signal that interrupted this run, if any: long steps check it to stop early. */
export function interruption(): NodeJS.Signals | undefined {
  return interruptedBy;
}

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interruptedBy) return; // a second Ctrl-C while cleaning up: keep cleaning up
      interruptedBy = signal;
      process.stderr.write(`\n${signal === 'SIGINT' ? 'Interrupted' : 'Terminated'}: putting things back before exiting...\n`);
      void runCleanups().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
