/**
 * The mesh-wide evidence model: the collected resources and the mesh config
 * (and the Istio version when known). Mesh rules (MD1003–MD1005) read it; it
 * holds a resource kind when at least one object of that kind was collected.
 */
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import type { IstioVersion } from '../../model/istio/version-behaviour.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { EvidenceKind, EvidenceModel, Rule } from '../rule.js';

export interface MeshEvidence {
  resources: ResourceSet;
  mesh: MeshConfigView;
  /** The Istio version of the control plane / proxies, when known. */
  istioVersion?: IstioVersion;
}

/** A rule over the mesh's resources and config. */
export type MeshRule = Rule<MeshEvidence>;

export function meshEvidence(evidence: MeshEvidence): EvidenceModel<MeshEvidence> {
  const present = new Set<string>(evidence.resources.kinds());
  return {
    evidence,
    // The mesh config always holds (the default applies when none was collected).
    holds: (kind: EvidenceKind) => kind === 'mesh-config' || present.has(kind),
    absent: (kinds) => `no ${kinds.join(' and no ')} objects in the evidence (none exist, or they were not collected)`,
  };
}
