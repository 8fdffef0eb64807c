// The kinds the test cluster serves, with the discovery facts kubectl needs
// (resource name, short names, scope). Shapes follow the real API server's
// discovery documents (`kubectl get --raw /api/v1`) and Istio's CRDs
// (manifests/charts/base/files/crd-all.gen.yaml: short names, categories,
// served versions, additionalPrinterColumns).

export interface KindInfo {
  group: string; // '' for the core group
  versions: string[]; // served versions, preferred first
  kind: string;
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  /** served only when the snapshot holds at least one object of this kind */
  onlyIfPresent?: boolean;
  /** verbs in discovery, when not the usual eight */
  verbs?: string[];
}

const ISTIO_NET = ['networking.istio.io'];
const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const KINDS: KindInfo[] = [
  {group: '', versions: ['v1'], kind: 'Pod', resource: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['exec', 'log', 'status', 'portforward', 'attach', 'eviction', 'ephemeralcontainers', 'binding', 'proxy']},
  {group: '', versions: ['v1'], kind: 'Service', resource: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status', 'proxy']},
  {group: '', versions: ['v1'], kind: 'Endpoints', resource: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep']},
  {group: '', versions: ['v1'], kind: 'ConfigMap', resource: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm']},
  {group: '', versions: ['v1'], kind: 'Namespace', resource: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize']},
  {group: '', versions: ['v1'], kind: 'Event', resource: 'events', singular: 'event', namespaced: true, shortNames: ['ev']},
  {group: '', versions: ['v1'], kind: 'Node', resource: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy']},
  {group: '', versions: ['v1'], kind: 'ServiceAccount', resource: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, shortNames: ['sa']},
  {group: '', versions: ['v1'], kind: 'Secret', resource: 'secrets', singular: 'secret', namespaced: true},
  {group: 'authorization.k8s.io', versions: ['v1'], kind: 'SelfSubjectAccessReview', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, verbs: ['create']},
  {group: 'discovery.k8s.io', versions: ['v1'], kind: 'EndpointSlice', resource: 'endpointslices', singular: 'endpointslice', namespaced: true},
  {group: 'apps', versions: ['v1'], kind: 'Deployment', resource: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['scale', 'status'], onlyIfPresent: true},
  {group: 'apps', versions: ['v1'], kind: 'ReplicaSet', resource: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: ['scale', 'status'], onlyIfPresent: true},
  {group: 'apps', versions: ['v1'], kind: 'DaemonSet', resource: 'daemonsets', singular: 'daemonset', namespaced: true, shortNames: ['ds'], categories: ['all'], subresources: ['status'], onlyIfPresent: true},
  {group: 'apps', versions: ['v1'], kind: 'StatefulSet', resource: 'statefulsets', singular: 'statefulset', namespaced: true, shortNames: ['sts'], categories: ['all'], subresources: ['scale', 'status'], onlyIfPresent: true},
  ...[
    ['ServiceEntry', 'serviceentries', 'serviceentry', ['se']],
    ['DestinationRule', 'destinationrules', 'destinationrule', ['dr']],
    ['VirtualService', 'virtualservices', 'virtualservice', ['vs']],
    ['Sidecar', 'sidecars', 'sidecar', []],
    ['Gateway', 'gateways', 'gateway', ['gw']],
    ['WorkloadEntry', 'workloadentries', 'workloadentry', ['we']],
  ].map(([kind, resource, singular, shortNames]) => ({
    group: ISTIO_NET[0], versions: ['v1', 'v1beta1', 'v1alpha3'], kind: kind as string, resource: resource as string,
    singular: singular as string, namespaced: true, shortNames: shortNames as string[],
    categories: ['istio-io', 'networking-istio-io'], subresources: ['status'],
  })),
  {group: ISTIO_NET[0], versions: ['v1alpha3'], kind: 'EnvoyFilter', resource: 'envoyfilters', singular: 'envoyfilter', namespaced: true, shortNames: [], categories: ['istio-io', 'networking-istio-io'], subresources: ['status']},
  {group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'PeerAuthentication', resource: 'peerauthentications', singular: 'peerauthentication', namespaced: true, shortNames: ['pa'], categories: ['istio-io', 'security-istio-io'], subresources: ['status']},
  {group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'RequestAuthentication', resource: 'requestauthentications', singular: 'requestauthentication', namespaced: true, shortNames: ['ra'], categories: ['istio-io', 'security-istio-io'], subresources: ['status']},
  {group: 'security.istio.io', versions: ['v1', 'v1beta1'], kind: 'AuthorizationPolicy', resource: 'authorizationpolicies', singular: 'authorizationpolicy', namespaced: true, shortNames: ['ap'], categories: ['istio-io', 'security-istio-io'], subresources: ['status']},
  // Pre-1.6 authentication (Istio 1.0-1.5's crd-all.gen.yaml: MeshPolicy cluster-scoped, Policy namespaced, v1alpha1 only).
  // Served only when the snapshot holds such an object, as only a pre-1.6 mesh serves them.
  {group: 'authentication.istio.io', versions: ['v1alpha1'], kind: 'MeshPolicy', resource: 'meshpolicies', singular: 'meshpolicy', namespaced: false, categories: ['istio-io', 'authentication-istio-io'], onlyIfPresent: true},
  {group: 'authentication.istio.io', versions: ['v1alpha1'], kind: 'Policy', resource: 'policies', singular: 'policy', namespaced: true, categories: ['istio-io', 'authentication-istio-io'], onlyIfPresent: true},
];

export const VERBS = allVerbs;

export function groupOf(apiVersion: string | undefined): {group: string; version: string} {
  const av = apiVersion ?? 'v1';
  const i = av.indexOf('/');
  return i < 0 ? {group: '', version: av} : {group: av.slice(0, i), version: av.slice(i + 1)};
}

export function kindByObject(apiVersion: string | undefined, kind: string | undefined): KindInfo | undefined {
  const {group} = groupOf(apiVersion);
  return KINDS.find((k) => k.group === group && k.kind === kind);
}

export function kindByResource(group: string, version: string, resource: string): KindInfo | undefined {
  return KINDS.find((k) => k.group === group && k.resource === resource && k.versions.includes(version));
}
