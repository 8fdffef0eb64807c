/**
 * A reference to a Kubernetes or Istio object and how findings print it. Apart
 * from resources.ts so the renderers do not load the YAML parser (start-up,
 * docs/performance.md); resources.ts re-exports both.
 */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export function formatRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}
