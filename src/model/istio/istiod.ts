/**
 * istiod's pods as the cluster lists them: each with its version (its image
 * tag), its revision and the container where `pilot-discovery request` runs.
 * check reads /debug/syncz through them live, and snapshot records it.
 */
import { imageIstioVersion, istiodContainer } from '../mesh-version.js';
import type { ObjectRef, ResourceSet } from '../k8s/resources.js';

export interface IstiodInstance {
  ref: ObjectRef;
  version?: string;
  /** `istio.io/rev`; `default` when unset. */
  revision: string;
  image: string;
  /** Its discovery container (where `pilot-discovery request` runs). */
  container: string;
}

/** istiod's pods (a `discovery` container or a pilot image), each with its version and revision. */
export function istiodInstances(resources: ResourceSet): IstiodInstance[] {
  return resources.of('Pod').flatMap((o) => {
    const c = istiodContainer(o.spec);
    if (!c) return [];
    const version = imageIstioVersion(c.image)?.version;
    return [{ ref: { kind: 'Pod', namespace: o.metadata.namespace ?? '', name: o.metadata.name }, image: c.image, container: c.name ?? 'discovery', revision: o.metadata.labels?.['istio.io/rev'] || 'default', ...(version ? { version } : {}) }];
  });
}
