import type { PodView } from '../model/k8s/pods.js';
import { formatPod, type PodRef } from '../model/pod.js';
import type { EvidenceSource } from '../sources/source.js';
import type { StepRecorder } from './guide.js';

/** Which pods a mesh-wide command looks at: one named pod, or every sidecar pod of -n / -A. */
export interface PodScope {
  pod?: PodRef;
  namespace?: string;
  allNamespaces: boolean;
}

/** The step title for finding the scope's pods. */
export function podScopeTitle(source: EvidenceSource, scope: PodScope): string {
  return scope.pod ? `Find pod ${formatPod(scope.pod)}` : `List sidecar pods${scope.allNamespaces ? ' in every namespace' : ` in ${scope.namespace ?? source.defaultNamespace}`}`;
}

export async function findSidecarPods(source: EvidenceSource, scope: PodScope, step: StepRecorder): Promise<PodView[]> {
  if (scope.pod) return [await source.pod(scope.pod)];
  const ns = scope.allNamespaces ? undefined : (scope.namespace ?? source.defaultNamespace);
  step.looked(`kubectl get pods ${ns ? `-n ${ns}` : '-A'}`);
  const pods = (await source.pods(ns)).filter((p) => p.hasSidecar);
  step.note(`${pods.length} pods with a sidecar`);
  return pods;
}
