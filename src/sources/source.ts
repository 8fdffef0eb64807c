import type { PodView } from '../model/k8s/pods.js';
import type { ResourceSet } from '../model/k8s/resources.js';
import type { PodRef } from '../model/pod.js';
import type { Provenance } from '../model/provenance.js';

// PodRef and formatPod are model types; re-exported here for the sources' callers.
export { formatPod, type PodRef } from '../model/pod.js';

/**
 * A piece of raw evidence and where it came from, as a command a person
 * could run to see it themselves (principle 1: evidence first).
 */
export interface Evidence extends Provenance {
  text: string;
}

/**
 * What a sidecar can tell about itself. Names follow the Envoy admin paths
 * and the file names of the snapshot layout (design.md).
 */
export type ProxyArtifact =
  | 'config_dump'
  | 'clusters'
  | 'clusters.json'
  | 'listeners'
  | 'server_info'
  | 'certs'
  | 'stats'
  | 'memory'
  | 'runtime'
  | 'logging'
  | 'netstat';

export const PROXY_ARTIFACTS: readonly ProxyArtifact[] = [
  'config_dump', 'clusters', 'clusters.json', 'listeners', 'server_info', 'certs', 'stats', 'memory', 'runtime', 'logging', 'netstat',
];

/** What a command run in a container printed: stdout as `text`, plus stderr and its exit code. */
export interface CommandEvidence extends Evidence {
  stderr: string;
  exitCode: number;
}

export interface LogOptions {
  /** RFC 3339; only lines at or after it. */
  sinceTime?: string;
  tail?: number;
}

/** The kinds mesh-doctor reads: the name kubectl takes, and the `kind` of its objects. */
const KIND_NAMES = {
  pods: 'Pod',
  services: 'Service',
  endpoints: 'Endpoints',
  namespaces: 'Namespace',
  configmaps: 'ConfigMap',
  'serviceentries.networking.istio.io': 'ServiceEntry',
  'destinationrules.networking.istio.io': 'DestinationRule',
  'virtualservices.networking.istio.io': 'VirtualService',
  'sidecars.networking.istio.io': 'Sidecar',
  'gateways.networking.istio.io': 'Gateway',
  'envoyfilters.networking.istio.io': 'EnvoyFilter',
  'peerauthentications.security.istio.io': 'PeerAuthentication',
  'authorizationpolicies.security.istio.io': 'AuthorizationPolicy',
  'requestauthentications.security.istio.io': 'RequestAuthentication',
  'meshpolicies.authentication.istio.io': 'MeshPolicy',
  'policies.authentication.istio.io': 'Policy',
} as const;

export const CORE_KINDS = ['pods', 'services', 'endpoints', 'namespaces', 'configmaps'] as const;
export const ISTIO_KINDS = [
  'serviceentries.networking.istio.io',
  'destinationrules.networking.istio.io',
  'virtualservices.networking.istio.io',
  'sidecars.networking.istio.io',
  'gateways.networking.istio.io',
  // Read for MD7001: the EnvoyFilter behind a filter Envoy rejected.
  'envoyfilters.networking.istio.io',
  'peerauthentications.security.istio.io',
  'authorizationpolicies.security.istio.io',
  'requestauthentications.security.istio.io',
] as const;
/**
 * Pre-1.6 authentication (Istio 1.0-1.5): MeshPolicy and Policy carry the mTLS
 * requirement (model/istio/peer-authentication.ts). Only such a cluster serves
 * them, so a live source lists them only where discovery shows their group.
 */
export const LEGACY_AUTH_GROUP = 'authentication.istio.io';
export const LEGACY_AUTH_KINDS = ['meshpolicies.authentication.istio.io', 'policies.authentication.istio.io'] as const;
/** Every kind a diagnosis reads. */
export const MESH_KINDS: readonly string[] = [...CORE_KINDS, ...ISTIO_KINDS, ...LEGACY_AUTH_KINDS];

/** The `kind` of the objects kubectl lists for a kind name, when mesh-doctor knows it. */
export function objectKindOf(kindName: string): string | undefined {
  return (KIND_NAMES as Record<string, string>)[kindName];
}

/**
 * Where evidence comes from: a live cluster or a snapshot on disk. Diagnoses
 * see only this interface, so every diagnosis runs the same code live and
 * offline (principle 3). Every method is lazy and memoised: a piece of
 * evidence is fetched at most once per run.
 */
export interface EvidenceSource {
  readonly mode: 'live' | 'snapshot';
  /** Human description: "snapshot examples/incident-4" or "context kind-mesh". */
  readonly label: string;
  /** The namespace a bare pod name belongs to (-n, else the context's, else default). */
  readonly defaultNamespace: string;

  /** Kubernetes and Istio objects of the given kinds (all namespaces). */
  resources(kinds?: readonly string[]): Promise<ResourceSet>;
  /** Pods, optionally of one namespace. */
  pods(namespace?: string): Promise<PodView[]>;
  /** One pod; throws not-found. Does not require a sidecar: see requireSidecar. */
  pod(ref: PodRef): Promise<PodView>;
  /** An artifact of the pod's sidecar, or undefined when it is not available. */
  proxy(ref: PodRef, artifact: ProxyArtifact): Promise<Evidence | undefined>;
  /**
   * When the evidence was captured (a snapshot's meta.json `capturedAt`), so
   * time-dependent verdicts (certificate validity) are judged as of then; absent live.
   */
  capturedAt?(): Promise<Date | undefined>;
  /**
   * Forget a fetched artifact (or a container's log) so its text can be
   * collected: a mesh-wide run reads each proxy's dump once and releases it
   * before reading the next.
   */
  release?(ref: PodRef, what: ProxyArtifact | { container: string }): void;
  /** A container's log, or undefined when not available. */
  containerLog(ref: PodRef, container: string, options?: LogOptions): Promise<Evidence | undefined>;
  /**
   * Runs a command in a container of the pod (live: `kubectl exec`), or finds
   * its recorded output (snapshot: probes/). A non-zero exit of the command is
   * data, not an error; undefined when a snapshot has no such recording.
   */
  run(ref: PodRef, container: string, argv: readonly string[]): Promise<CommandEvidence | undefined>;
  /** Free text describing versions (snapshot `versions` file; live: kubectl/istioctl versions). */
  versions(): Promise<Evidence | undefined>;
  /** Release temporary files. */
  close(): Promise<void>;
}

/** The human command that shows an Envoy admin path of a pod, for evidence lines. */
export function adminCommand(ref: PodRef, method: 'GET' | 'POST', path: string): string {
  const quoted = /[?&*]/.test(path) ? `'${path}'` : path;
  return `kubectl exec ${ref.name} -n ${ref.namespace} -c istio-proxy -- pilot-agent request ${method} ${quoted}`;
}

/** Envoy admin path for each artifact that comes from the admin API. */
export const ADMIN_PATHS: Partial<Record<ProxyArtifact, string>> = {
  config_dump: 'config_dump?include_eds',
  clusters: 'clusters',
  'clusters.json': 'clusters?format=json',
  listeners: 'listeners',
  server_info: 'server_info',
  certs: 'certs',
  stats: 'stats/prometheus',
  memory: 'memory',
  runtime: 'runtime',
};
