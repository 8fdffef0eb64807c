/**
 * listeners: a sidecar's (or gateway's) listeners as `istioctl proxy-config
 * listeners` prints them, each filter chain with the Service or ServiceEntry
 * that owns it, and the listeners Envoy rejected (istioctl drops them; each is
 * a finding, since traffic to it has no listener at all).
 */
import { MeshDoctorError } from '../errors.js';
import { parseConfigDump, type ConfigDump } from '../model/envoy/config-dump.js';
import { reasonOf } from '../model/envoy/config-state.js';
import { formatListenerTable, listenerTable, type ListenerRow } from '../model/envoy/listener-table.js';
import { meshConfigFrom } from '../model/istio/mesh-config.js';
import type { PodView } from '../model/k8s/pods.js';
import { formatRef, type ResourceSet } from '../model/k8s/resources.js';
import { ownersOfChain } from '../model/owner.js';
import { ENVOY_PROXIES } from '../model/proxy-kind.js';
import { buildReport, reportVersions, type Report } from '../report/report.js';
import { runRules } from '../rules/engine.js';
import { CONFIG_STATE_RULES, configStateEvidence } from '../rules/proxy/config-state.js';
import { requireDumpProxyKind } from '../sources/pod-argument.js';
import { formatPod, type Evidence, type EvidenceSource, type PodRef } from '../sources/source.js';
import { meshVersionOf } from './mesh-version.js';

export interface ListenerRowData {
  addresses: string;
  port: number;
  match: string;
  destination: string;
  /** The Services/ServiceEntries behind the chain, "Kind ns/name". */
  owners: string[];
  listener: string;
  filterChain: string;
}

/** A listener Envoy refused and does not serve (error_state only): shown, not dropped. */
export interface RejectedListenerData {
  name: string;
  addresses: string;
  port?: number;
  /** Envoy's reason (error_state.details without its debug preamble). */
  reason: string;
  lastUpdateAttempt?: string;
}

export interface ListenersData {
  rows: ListenerRowData[];
  rejected: RejectedListenerData[];
  /** Exactly what `istioctl proxy-config listeners` prints for the same dump and filters. */
  istioctl: string;
}

/** istioctl's filters: `--port`, `--address`, `--type`. */
export interface ListenerFilters {
  port?: number;
  address?: string;
  type?: string;
}

export async function listeners(source: EvidenceSource, pod: PodRef, filters: ListenerFilters): Promise<Report<ListenersData>> {
  const { evidence, dump } = await readListenerDump(source, pod);
  const resources = await source.resources();
  const rows = listenerTable(dump, filters);
  const view = await source.pod(pod);
  const rejected = rejectedListeners(dump, filters);
  // Each rejected listener is a finding too: traffic to it has no listener at all.
  const { findings } = runRules(CONFIG_STATE_RULES, configStateEvidence({
    pod: { namespace: pod.namespace, name: pod.name, labels: view.labels }, dump, dumpProvenance: { source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) },
    resources, rootNamespace: meshConfigFrom(resources).rootNamespace,
    path: { crosses: (p) => p.kind === 'listener' && rejected.some((r) => r.name === p.name), text: 'traffic to that listener' },
  }));
  return buildReport({
    command: 'listeners',
    subject: `pod ${formatPod(pod)}`,
    source,
    versions: reportVersions(await meshVersionOf(source, { dump, pod: view, resources })),
    transcript: { steps: [], findings, skipped: [] },
    verdict: { status: 'informational', summary: `${rows.length} filter chains in ${new Set(rows.map((r) => r.listener)).size} listeners${rejected.length ? `; ${rejected.length} listener${rejected.length > 1 ? 's' : ''} rejected by Envoy (${rejected.map((r) => r.name).join(', ')}), not serving` : ''}` },
    data: { rejected, rows: rows.map((r) => rowData(r, resources, dump)), istioctl: formatListenerTable(rows) },
  });
}

/** The proxy's config dump; without one there is nothing to list. */
async function readListenerDump(source: EvidenceSource, pod: PodRef): Promise<{ evidence: Evidence; dump: ConfigDump }> {
  const evidence = await source.proxy(pod, 'config_dump');
  if (!evidence) {
    throw new MeshDoctorError('bad-snapshot', `no Envoy config dump for ${formatPod(pod)} in ${source.label}`, {
      suggestion: `Capture one with \`kubectl mesh-doctor snapshot ${formatPod(pod)}\`, or run live.`,
    });
  }
  const dump = parseConfigDump(evidence.text, `config_dump of ${formatPod(pod)}`);
  requireDumpProxyKind(formatPod(pod), dump, ENVOY_PROXIES);
  return { evidence, dump };
}

/** The listeners Envoy rejected (error_state), by the same port and address filters. */
function rejectedListeners(dump: ConfigDump, filters: ListenerFilters): RejectedListenerData[] {
  return dump.allListeners
    .filter((l) => l.state === 'rejected' && (filters.port === undefined || l.port === filters.port) && (filters.address === undefined || l.address?.address === filters.address))
    .map((l) => ({ name: l.name, addresses: l.address?.address ?? '-', ...(l.port !== undefined ? { port: l.port } : {}), reason: reasonOf(l.errorDetails), ...(l.lastUpdated ? { lastUpdateAttempt: l.lastUpdated } : {}) }));
}

function rowData(r: ListenerRow, resources: ResourceSet, dump: ConfigDump): ListenerRowData {
  return {
    addresses: r.addresses,
    port: r.port,
    match: r.match,
    destination: r.destination,
    owners: ownersOfChain(r.filterChain, resources, dump).map(formatRef),
    listener: r.listener.name,
    filterChain: r.filterChain.name,
  };
}
