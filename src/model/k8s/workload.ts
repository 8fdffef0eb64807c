import type { KubeObject, ObjectRef } from './resources.js';

/**
 * The culprit a finding names for a pod whose spec needs the fix (the app's
 * bind address, what istio-init wrote at start-up): the workload that owns
 * the pod's template, so the fix reaches every replica. One rule for every
 * finding that names a workload:
 * - a ReplicaSet `name-<hash>` whose pod carries `pod-template-hash: <hash>`
 *   is a Deployment's (that is how the Deployment controller names them);
 * - a StatefulSet, DaemonSet or Job (or any other controller) is named as
 *   the pod's ownerReferences name it;
 * - a pod without ownerReferences is the Pod itself: a name that looks like a
 *   ReplicaSet's (`app-5f7b9c6d8-q7w2e`) is not evidence of a Deployment, and
 *   a guessed `Deployment app` could name something that does not exist.
 * Findings about one running proxy's state (its certificate, a resource it
 * rejected or still warms) name the Pod: restarting that pod is the fix.
 */
export function workloadOf(pod: { namespace: string; name: string; object?: KubeObject }): ObjectRef {
  const owners = (pod.object?.metadata as { ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }> } | undefined)?.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  if (owner?.kind && owner.name) {
    const hash = (pod.object?.metadata.labels as Record<string, string> | undefined)?.['pod-template-hash'];
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', namespace: pod.namespace, name: owner.name.slice(0, -hash.length - 1) };
    }
    return { kind: owner.kind, namespace: pod.namespace, name: owner.name };
  }
  return { kind: 'Pod', namespace: pod.namespace, name: pod.name };
}
