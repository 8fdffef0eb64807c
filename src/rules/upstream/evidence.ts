/**
 * What the why-503 rules read: both sidecars' evidence, already fetched and
 * parsed by the diagnosis (src/diagnoses/why-503.ts). Every piece says where
 * it came from (`source`, a command a person could run; `file` offline) so a
 * rule can cite it. Absent pieces are undefined, and a rule that needs them is
 * reported as skipped.
 */
import type { Cluster } from '../../model/envoy/clusters.js';
import type { Endpoint } from '../../model/envoy/endpoints.js';
import type { DestinationRuleLookup } from '../../model/istio/destination-rule.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import type { IstioVersion } from '../../model/istio/version-behaviour.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { EnvoyLogEvent } from '../../model/logs/envoy-log.js';
import type { InboundIdleTimeout } from '../../model/envoy/inbound-idle.js';
import type { PortListeners } from '../../model/sockets.js';
import type { PodRef } from '../../model/pod.js';
import type { Provenance } from '../../model/provenance.js';
import type { ClusterStatus } from '../../model/envoy/admin-clusters.js';
import type { ProxyCertificates } from '../../model/envoy/certificates.js';
import type { EnvoyStats } from '../../model/envoy/admin-stats.js';
import type { ClientTls } from './client-tls.js';
import type { Destination } from './destination.js';
import type { ServerDemand } from './server-mtls.js';

/** Where a piece of the evidence came from (the one provenance type). */
export type Cited = Provenance;

export type Numbered<T> = T & { lineNumber: number };

export interface ClientEvidence {
  pod: PodRef;
  labels: Record<string, string>;
  /** The client's access-log entries for the destination (all of them, oldest first). */
  accessLog?: Cited & { entries: Array<Numbered<AccessLogEntry>>; totalEntries: number };
  /** The client's own Envoy log lines (upstream resets, TLS errors toward the server). */
  envoyLog?: Cited & { events: Array<Numbered<EnvoyLogEvent>> };
  /** The client's cluster for the destination (the subset one when the log names a subset). */
  cluster?: Cited & { cluster: Cluster; endpoints?: Endpoint[]; edsKnown: boolean };
  clusterStatus?: Cited & { status?: ClusterStatus };
  stats?: Cited & { stats: EnvoyStats };
  tls?: ClientTls;
  /** The client sidecar's workload certificate and roots (its SDS secrets, else /certs). */
  certs?: Cited & { certs: ProxyCertificates };
}

export interface ServerEvidence {
  pod: PodRef;
  ip?: string;
  labels: Record<string, string>;
  hasSidecar: boolean;
  /** The port the server receives on (the Service's targetPort resolved on this pod). */
  port?: number;
  demand?: ServerDemand & { cited?: Cited };
  envoyLog?: Cited & { events: Array<Numbered<EnvoyLogEvent>> };
  /** Server-side access-log entries (inbound|PORT||, NR filter_chain_not_found). */
  accessLog?: Cited & { entries: Array<Numbered<AccessLogEntry>> };
  sockets?: Cited & { listeners: PortListeners };
  /** The server sidecar's inbound idle timeout, when its config dump sets one (model/envoy/inbound-idle.ts). */
  inboundIdle?: Cited & InboundIdleTimeout;
  /** The server sidecar's workload certificate and roots: the identity it presents. */
  certs?: Cited & { certs: ProxyCertificates };
  /** spec.serviceAccountName of the server pod ('default' when unset). */
  serviceAccount?: string;
}

export interface UpstreamEvidence {
  client: ClientEvidence;
  destination: Destination;
  /** The subset named by the client's log lines or the cluster (`outbound|8000|v2|...`), if any. */
  subset?: string;
  servers: ServerEvidence[];
  resources: ResourceSet;
  mesh: MeshConfigView;
  istioVersion?: IstioVersion;
  ruleLookup: DestinationRuleLookup;
  /** The app's keep-alive (idle close) timeout: stated by the user (`--app-keepalive`), or its own `Keep-Alive` header (`--probe`). */
  appKeepAlive?: { ms: number; source: string; file?: string; excerpt?: string };
  /** The instant certificate validity is judged at: the snapshot's capture time offline, now live. */
  now: Date;
  /** Whether log levels were raised for this evidence (a capture ran). */
  captured: boolean;
}
