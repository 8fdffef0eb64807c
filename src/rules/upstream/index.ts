/**
 * The why-503 rules, in the order they run (a later rule can stand down when
 * an earlier one explains the same lines: NR filter_chain_not_found is MD3001
 * when the client sends plaintext; UH with no hosts is MD3006, with ejected
 * hosts MD3003).
 *
 *   md3001-plaintext-to-mtls          MD3001  plaintext / no client cert to an mTLS server (seed 004)
 *   (src/rules/mtls/)                 MD5001, MD5005-MD5008: the handshake judged from both sides' certificates,
 *                                     before the ejections and UH a failed handshake causes
 *   md3002-circuit-breaking           MD3002  UO: connectionPool limits tripped
 *   md3006-no-endpoints               MD3006  no endpoints / a subset selecting no pods
 *   md3003-outlier-ejection           MD3003  UH after ejection, hiding the first cause
 *   md3008-outlier-ejects-all-at-once MD3008  settings that eject every host after one error
 *   md3004-connection-refused         MD3004  UF delayed_connect_error:_111
 *   md3005-tls-verification           MD3005  expired / unknown CA / SAN mismatch
 *   md3007-no-route                   MD3007  NR route_not_found / filter_chain_not_found
 *   md3009-keepalive-race             MD3009  UC connection_termination on some requests: idle timeout above the app's keep-alive
 */
import { circuitBreaking } from './circuit-breaking.js';
import { connectionRefused } from './connection-refused.js';
import { keepAliveRace } from './keepalive-race.js';
import { noEndpoints } from './no-endpoints.js';
import { noRoute } from './no-route.js';
import { outlierEjection, outlierSettings } from './outlier-ejection.js';
import { plaintextToMtls } from './plaintext-to-mtls.js';
import type { UpstreamRule } from './rule.js';
import { tlsVerification } from './tls-verification.js';
import { MTLS_RULES } from '../mtls/index.js';

export const UPSTREAM_RULES: readonly UpstreamRule[] = [
  plaintextToMtls,
  ...MTLS_RULES,
  circuitBreaking,
  noEndpoints,
  outlierEjection,
  outlierSettings,
  connectionRefused,
  tlsVerification,
  noRoute,
  keepAliveRace,
];

export { runRules, analyse, upstreamEvidence, type UpstreamRule, type RuleRun, type UpstreamAnalysis, type UpstreamShared } from './rule.js';
export type { UpstreamEvidence, ClientEvidence, ServerEvidence } from './evidence.js';
