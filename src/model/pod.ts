/** A namespaced pod name; `name.namespace` on the command line, like istioctl. */
export interface PodRef {
  namespace: string;
  name: string;
}

export function formatPod(pod: PodRef): string {
  return `${pod.name}.${pod.namespace}`;
}
