import { Args } from '@oclif/core';
import { MeshDoctorCommand, type ArgsOf, type RunContext } from '../base-command.js';
import { plainTable } from '../render/table.js';
import { buildReport, type Report } from '../report/report.js';
import type { EvidenceSource } from '../sources/source.js';
import type { ProxyKind } from '../model/proxy-kind.js';

interface PodRow {
  namespace: string;
  name: string;
  ip?: string;
  sidecar: boolean;
  /** sidecar, router (a gateway), waypoint or ztunnel: what the proxy runs as (model/proxy-kind.ts). */
  kind?: ProxyKind;
  ready?: boolean;
}

export default class Pods extends MeshDoctorCommand {
  static summary = 'List the pods a source knows, which carry an Istio proxy, and of which kind (sidecar, gateway, waypoint, ztunnel)';
  static examples = ['<%= config.bin %> pods -A --from examples/incident-4-catch-all-serviceentry', '<%= config.bin %> pods -A', '<%= config.bin %> pods --from test/scenarios/seed004-dr-tls-disable/snapshot -A'];
  static args = { namespace: Args.string({ description: 'namespace (same as -n)', required: false }) };

  protected async diagnose({ flags, args, source }: RunContext<object, ArgsOf<typeof Pods>>): Promise<Report<PodRow[]>> {
    const evidence = await source();
    const namespace = flags['all-namespaces'] ? undefined : (args.namespace ?? flags.namespace ?? evidence.defaultNamespace);
    const pods = (await evidence.pods(namespace)).map((p) => ({ namespace: p.namespace, name: p.name, ip: p.ip, sidecar: p.hasSidecar, ...(p.proxyKind ? { kind: p.proxyKind } : {}), ready: p.proxyReady }));
    pods.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    const elsewhere = pods.length === 0 && namespace !== undefined ? await elsewhereHint(evidence, namespace) : undefined;
    return buildReport({
      command: 'pods',
      subject: namespace ? `namespace ${namespace}` : 'all namespaces',
      source: evidence,
      verdict: { status: 'informational', summary: elsewhere ?? `${pods.filter((p) => p.sidecar).length} of ${pods.length} pods carry a sidecar` },
      data: pods,
    });
  }

  protected override renderData(report: Report<PodRow[]>): string {
    const rows = report.data ?? [];
    if (rows.length === 0) return report.verdict.summary;
    return plainTable(['NAMESPACE', 'NAME', 'IP', 'SIDECAR', 'KIND'], rows.map((p) => [p.namespace, p.name, p.ip ?? '', p.sidecar ? (p.ready === false ? 'not ready' : 'yes') : 'no', p.kind ?? '-']));
  }
}

/** An empty namespace is often the wrong one (a snapshot's default is "default"): say where the pods are. */
async function elsewhereHint(evidence: EvidenceSource, namespace: string): Promise<string | undefined> {
  const all = await evidence.pods();
  if (all.length === 0) return undefined;
  const namespaces = [...new Set(all.map((p) => p.namespace))].sort();
  return `No pods in namespace ${namespace}; ${all.length} in other namespaces (${namespaces.join(', ')}): add -A or -n NAMESPACE.`;
}
