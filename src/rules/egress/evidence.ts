/**
 * The per-proxy evidence model: one sidecar's config dump (parsed, and
 * already reduced to what the rules read), the pod, and the mesh around it.
 * `check` builds one per proxy and releases it before the next; a diagnosis
 * builds one for its pod. Rules over it declare 'config-dump' and the
 * resource kinds they read; the engine skips them, with the reason, when the
 * dump could not be read.
 */
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import type { IstioVersion } from '../../model/istio/version-behaviour.js';
import type { PodView } from '../../model/k8s/pods.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { PortOwnership } from '../../model/outbound/index.js';
import type { Finding } from '../../findings/finding.js';
import type { AccessLogEntry } from '../../model/logs/access-log.js';
import type { Provenance } from '../../model/provenance.js';
import type { EvidenceKind, EvidenceModel, Rule } from '../rule.js';

export interface ProxyEvidence {
  pod: PodView;
  /** `name.namespace`, as istioctl takes it. */
  podArg: string;
  resources: ResourceSet;
  mesh: MeshConfigView;
  dump?: ConfigDump;
  /** Where the dump came from (a command) and, offline, its snapshot file. */
  dumpSource?: string;
  dumpFile?: string;
  istioVersion?: IstioVersion;
  /** The mesh rules' findings for this proxy's version (their patches are reused). */
  staticFindings: readonly Finding[];
  /** Why the dump is absent, in the report's words. */
  dumpMissing?: string;
  /** The sidecar's access-log entries (its istio-proxy log), and where they came from. */
  accessLog?: Provenance & { entries: AccessLogEntry[] };
  /** Why there is no access log to read (the proxy logs no access, the log could not be read). */
  accessLogMissing?: string;
}

/** What an egress diagnosis derives once per proxy: who takes unmatched TLS on each port asked about. */
export interface EgressShared {
  ownership: ReadonlyMap<number, PortOwnership>;
}

export type EgressRule = Rule<ProxyEvidence, EgressShared>;

export function proxyEvidence(evidence: ProxyEvidence): EvidenceModel<ProxyEvidence> {
  const kinds = new Set<string>(evidence.resources.kinds());
  return {
    evidence,
    holds: (kind: EvidenceKind) => {
      if (kind === 'config-dump') return evidence.dump !== undefined;
      if (kind === 'access-log') return evidence.accessLog !== undefined;
      return kind === 'mesh-config' || kinds.has(kind);
    },
    absent: (wanted) => {
      if (wanted.includes('config-dump') && !evidence.dump) return evidence.dumpMissing ?? `no config dump of ${evidence.podArg}`;
      if (wanted.includes('access-log') && !evidence.accessLog) return evidence.accessLogMissing ?? 'no access log of this proxy (access logging off, or the log was not collected)';
      return `no ${wanted.join(' and no ')} objects in the evidence (none exist, or they were not collected)`;
    },
  };
}
