/**
 * The mesh-wide rules (static checks over resources and mesh config), in the
 * order they run, as Istio's analyzers do (pkg/config/analysis):
 *
 *   md1003-serviceentry-without-addresses   MD1003
 *   md1004-http-on-443                      MD1004
 *   md1005-port-protocol-conflict           MD1005
 *   md1006-dr-tls-contradicts-peer-authentication   MD1006
 */
import type { Finding } from '../../findings/finding.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from '../../model/istio/mesh-config.js';
import type { IstioVersion } from '../../model/istio/version-behaviour.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import { runRules } from '../engine.js';
import type { RuleOutcome } from '../rule.js';
import { meshEvidence, type MeshRule } from './evidence.js';
import { httpOn443 } from './http-on-443.js';
import { portProtocolConflict } from './port-protocol-conflict.js';
import { drTlsContradictsPeerAuthentication } from './dr-tls-contradicts-peer-authentication.js';
import { serviceEntryWithoutAddresses } from './serviceentry-without-addresses.js';

export const STATIC_RULES: readonly MeshRule[] = [serviceEntryWithoutAddresses, httpOn443, portProtocolConflict, drTlsContradictsPeerAuthentication];

/** Runs the mesh rules over a set of resources (the default mesh config when none is given). */
export function runStaticChecks(
  resources: ResourceSet,
  options: { mesh?: MeshConfigView; istioVersion?: IstioVersion; rules?: readonly MeshRule[] } = {},
): { findings: Finding[]; outcomes: RuleOutcome[] } {
  const model = meshEvidence({ resources, mesh: options.mesh ?? DEFAULT_MESH_CONFIG, ...(options.istioVersion ? { istioVersion: options.istioVersion } : {}) });
  return runRules(options.rules ?? STATIC_RULES, model);
}

export { meshEvidence, type MeshEvidence, type MeshRule } from './evidence.js';
