import { proseDescription } from './help-text.js';

/**
 * Each command's module, loaded only when that command runs: in the bundle a dynamic import
 * evaluates just that module's graph, so `explain` does not load the diagnoses. The same ids
 * as commands.ts (a test holds them equal).
 */
export const COMMAND_LOADERS: Record<string, () => Promise<{ default: unknown }>> = {
  check: () => import('./commands/check.js'),
  demo: () => import('./commands/demo.js'),
  docs: () => import('./commands/docs.js'),
  explain: () => import('./commands/explain.js'),
  iptables: () => import('./commands/iptables.js'),
  listeners: () => import('./commands/listeners.js'),
  logging: () => import('./commands/logging.js'),
  pods: () => import('./commands/pods.js'),
  snapshot: () => import('./commands/snapshot.js'),
  version: () => import('./commands/version.js'),
  'why-inbound-fails': () => import('./commands/why-inbound-fails.js'),
  'who-owns-443': () => import('./commands/who-owns-443.js'),
  certs: () => import('./commands/certs.js'),
  'why-404': () => import('./commands/why-404.js'),
  'why-502': () => import('./commands/why-502.js'),
  'why-403': () => import('./commands/why-403.js'),
  'why-503': () => import('./commands/why-503.js'),
  'why-mtls-fails': () => import('./commands/why-mtls-fails.js'),
  'why-https-fails': () => import('./commands/why-https-fails.js'),
};

/** The command map oclif gets: just the command named first, or all (help, a typo's "did you mean"). */
export async function commandsFor(id: string | undefined): Promise<Record<string, unknown>> {
  const load = id === undefined ? undefined : COMMAND_LOADERS[id];
  if (load) {
    const command = (await load()).default as { description?: string };
    proseDescription(command);
    return { [id!]: command };
  }
  return (await import('./commands.js')).COMMANDS;
}

