/**
 * why-404's rules, in the order they run: each explains one way a request
 * falls out of a gateway's config; the later, more general ones stand down
 * when an earlier one found the cause.
 */
import { runRules } from '../engine.js';
import type { RuleRun } from '../engine.js';
import { duplicateGatewayServer } from './duplicate-server.js';
import { gatewayEvidenceModel, type GatewayEvidence, type GatewayRule } from './evidence.js';
import { httpsRedirect } from './https-redirect.js';
import { routeToMissingCluster } from './missing-cluster.js';
import { noVirtualServiceForHost } from './no-virtual-service.js';
import { gatewayPortMismatch } from './port.js';
import { gatewayProtocolMismatch } from './protocol.js';
import { credentialMissing } from './secret-missing.js';
import { gatewaySelectorMatchesNoPod } from './selector.js';
import { hostNotInGateway, virtualServiceNamesOtherGateway, virtualServiceNotExported } from './virtual-service.js';

export const GATEWAY_RULES: readonly GatewayRule[] = [
  credentialMissing,
  gatewayProtocolMismatch,
  gatewaySelectorMatchesNoPod,
  gatewayPortMismatch,
  virtualServiceNotExported,
  duplicateGatewayServer,
  virtualServiceNamesOtherGateway,
  hostNotInGateway,
  noVirtualServiceForHost,
  routeToMissingCluster,
  httpsRedirect,
];

export function runGatewayRules(e: GatewayEvidence, rules: readonly GatewayRule[] = GATEWAY_RULES): RuleRun {
  return runRules(rules, gatewayEvidenceModel(e));
}
