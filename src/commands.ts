// The command map oclif loads ("explicit" strategy: survives bundling into one file).
import Explain from './commands/explain.js';
import Listeners from './commands/listeners.js';
import Logging from './commands/logging.js';
import Pods from './commands/pods.js';
import Snapshot from './commands/snapshot.js';

export const COMMANDS = {
  explain: Explain,
  listeners: Listeners,
  logging: Logging,
  pods: Pods,
  snapshot: Snapshot,
};
