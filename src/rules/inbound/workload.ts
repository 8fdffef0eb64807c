import type { ObjectRef } from '../../model/k8s/resources.js';
import type { PodView } from '../../model/k8s/pods.js';

/**
 * The workload a pod belongs to, for blaming the app rather than one replica:
 * a ReplicaSet `name-<hash>` is a Deployment's (the pod-template-hash label
 * says so); StatefulSet, DaemonSet and Job pods name their owner directly.
 * Falls back to the Pod itself.
 */
export function workloadOf(pod: PodView): ObjectRef {
  const owners = (pod.object.metadata as { ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }> }).ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (owner?.kind && owner.name) {
    const hash = pod.labels['pod-template-hash'];
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', namespace: pod.namespace, name: owner.name.slice(0, -hash.length - 1) };
    }
    return { kind: owner.kind, namespace: pod.namespace, name: owner.name };
  }
  return { kind: 'Pod', namespace: pod.namespace, name: pod.name };
}
