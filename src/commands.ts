// The command map oclif loads ("explicit" strategy: survives bundling into one file).
import Logging from './commands/logging.js';
import Pods from './commands/pods.js';

export const COMMANDS = {
  logging: Logging,
  pods: Pods,
};
