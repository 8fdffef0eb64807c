// The command map oclif loads ("explicit" strategy: survives bundling into one file).
import { proseDescription } from './help-text.js';
import Certs from './commands/certs.js';
import Check from './commands/check.js';
import Demo from './commands/demo.js';
import Docs from './commands/docs.js';
import Explain from './commands/explain.js';
import Iptables from './commands/iptables.js';
import Listeners from './commands/listeners.js';
import Logging from './commands/logging.js';
import Pods from './commands/pods.js';
import Snapshot from './commands/snapshot.js';
import Version from './commands/version.js';
import WhyInboundFails from './commands/why-inbound-fails.js';
import WhoOwns443 from './commands/who-owns-443.js';
import Why404 from './commands/why-404.js';
import Why502 from './commands/why-502.js';
import Why403 from './commands/why-403.js';
import Why503 from './commands/why-503.js';
import WhyMtlsFails from './commands/why-mtls-fails.js';
import WhyHttpsFails from './commands/why-https-fails.js';

export const COMMANDS = {
  certs: Certs,
  check: Check,
  demo: Demo,
  docs: Docs,
  explain: Explain,
  iptables: Iptables,
  listeners: Listeners,
  logging: Logging,
  pods: Pods,
  snapshot: Snapshot,
  version: Version,
  'why-inbound-fails': WhyInboundFails,
  'who-owns-443': WhoOwns443,
  'why-404': Why404,
  'why-502': Why502,
  'why-403': Why403,
  'why-503': Why503,
  'why-mtls-fails': WhyMtlsFails,
  'why-https-fails': WhyHttpsFails,
};

for (const command of Object.values(COMMANDS)) proseDescription(command);
