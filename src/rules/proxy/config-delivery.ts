/**
 * check's config delivery group: every resource a sidecar's Envoy rejected
 * (MD7001, error_state: a NACK) or has not made ready (MD7002, warming), over
 * the whole proxy rather than one diagnosed path. The findings are the ones
 * the diagnoses report for a path (./config-state.ts), so the culprit is the
 * same: the EnvoyFilter that patched in what Envoy's reason names, else the pod.
 */
import type { Finding } from '../../findings/finding.js';
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import type { Labels } from '../../model/istio/common.js';
import type { ResourceSet } from '../../model/k8s/resources.js';
import type { PodRef } from '../../model/pod.js';
import type { Provenance } from '../../model/provenance.js';
import type { EvidenceModel, Rule } from '../rule.js';
import { configStateOnPath } from './config-state.js';

export interface ProxyConfigEvidence {
  pod: PodRef & { labels: Labels };
  dump?: ConfigDump;
  dumpProvenance?: Provenance;
  /** Why the dump could not be read. */
  dumpMissing?: string;
  resources: ResourceSet;
  rootNamespace: string;
}

export function proxyConfigEvidence(evidence: ProxyConfigEvidence): EvidenceModel<ProxyConfigEvidence> {
  return {
    evidence,
    holds: (kind) => kind === 'config-dump' && evidence.dump !== undefined,
    absent: () => evidence.dumpMissing ?? 'no config dump',
  };
}

function problems(e: ProxyConfigEvidence, state: 'rejected' | 'warming'): Finding[] {
  if (!e.dump) return [];
  return configStateOnPath({
    pod: e.pod, dump: e.dump, dumpProvenance: e.dumpProvenance ?? { source: 'config_dump' }, resources: e.resources, rootNamespace: e.rootNamespace,
    onPath: (p) => p.state === state,
    pathText: "this proxy's traffic",
  });
}

export const rejectedConfig: Rule<ProxyConfigEvidence> = {
  id: 'md7001-rejected-config',
  code: 'MD7001',
  description: 'Envoy rejected a listener, cluster or route configuration (error_state)',
  needs: [{ anyOf: ['config-dump'] }],
  check: (e) => problems(e, 'rejected'),
};

export const warmingConfig: Rule<ProxyConfigEvidence> = {
  id: 'md7002-warming-config',
  code: 'MD7002',
  description: 'A listener, cluster or route configuration is still warming: nothing serves it yet',
  needs: [{ anyOf: ['config-dump'] }],
  check: (e) => problems(e, 'warming'),
};

export const CONFIG_DELIVERY_RULES = [rejectedConfig, warmingConfig] as const;
