import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, portFlag, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { MeshDoctorError } from '../errors.js';
import { parseConfigDump } from '../model/envoy/config-dump.js';
import { tabwriterFormat } from '../model/envoy/go-compat.js';
import { formatListenerTable, listenerTable } from '../model/envoy/listener-table.js';
import { reasonOf } from '../model/envoy/config-state.js';
import { meshConfigFrom } from '../model/istio/mesh-config.js';
import { formatRef } from '../model/k8s/resources.js';
import { configStateOnPath } from '../rules/proxy/config-state.js';
import { ownersOfChain } from '../model/owner.js';
import { meshVersionOf } from '../diagnoses/mesh-version.js';
import { buildReport, reportVersions, type Report } from '../report/report.js';
import { formatPod } from '../sources/source.js';
import { ENVOY_PROXIES } from '../model/proxy-kind.js';
import { requireDumpProxyKind } from '../sources/pod-argument.js';

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

interface ListenersData {
  rows: ListenerRowData[];
  rejected: RejectedListenerData[];
  /** Exactly what `istioctl proxy-config listeners` prints for the same dump and filters. */
  istioctl: string;
}

export default class Listeners extends MeshDoctorCommand {
  static summary = "A sidecar's listeners as istioctl prints them, plus the resource that owns each filter chain";
  static description = `Rows, order, MATCH and DESTINATION are those of \`istioctl proxy-config listeners\`
(ALL for a chain with no match). OWNER names the Service or ServiceEntry behind the
chain's destination where it can be derived. --no-owner prints istioctl's table byte for byte.`;
  static examples = [
    '<%= config.bin %> listeners sample-c59f744df-8kq7m.istio-demo --port 443 --from examples/incident-4-catch-all-serviceentry',
    '<%= config.bin %> listeners sleep-7f.foo --port 443',
    '<%= config.bin %> listeners app-5f7b9c6d8-q7w2e -n default --from test/scenarios/seed001-inbound-original-dst/snapshot',
  ];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace)', required: false }) };
  static flags = {
    port: portFlag('only listeners on this port'),
    address: Flags.string({ description: 'only listeners on this address' }),
    type: Flags.string({ description: 'only listeners of this type (HTTP, TCP, HTTP+TCP)' }),
    'no-owner': Flags.boolean({ description: "omit the OWNER column (istioctl's table exactly)", default: false }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof Listeners>, ArgsOf<typeof Listeners>>): Promise<Report<ListenersData>> {
    const { flags, args } = context;
    const source = await context.source();
    const pod = await context.pod(args.pod, { kinds: ENVOY_PROXIES });
    const evidence = await source.proxy(pod, 'config_dump');
    if (!evidence) {
      throw new MeshDoctorError('bad-snapshot', `no Envoy config dump for ${formatPod(pod)} in ${source.label}`, {
        suggestion: `Capture one with \`kubectl mesh-doctor snapshot ${formatPod(pod)}\`, or run live.`,
      });
    }
    const dump = parseConfigDump(evidence.text, `config_dump of ${formatPod(pod)}`);
    requireDumpProxyKind(formatPod(pod), dump, ENVOY_PROXIES);
    const resources = await source.resources();
    const rows = listenerTable(dump, { port: flags.port, address: flags.address, type: flags.type });
    const view = await source.pod(pod);
    const rejected = dump.allListeners
      .filter((l) => l.state === 'rejected' && (flags.port === undefined || l.port === flags.port) && (flags.address === undefined || l.address?.address === flags.address))
      .map((l) => ({ name: l.name, addresses: l.address?.address ?? '-', ...(l.port !== undefined ? { port: l.port } : {}), reason: reasonOf(l.errorDetails), ...(l.lastUpdated ? { lastUpdateAttempt: l.lastUpdated } : {}) }));
    // Each rejected listener is a finding too: traffic to it has no listener at all.
    const findings = configStateOnPath({
      pod: { namespace: pod.namespace, name: pod.name, labels: view.labels }, dump, dumpProvenance: { source: evidence.source, ...(evidence.file ? { file: evidence.file } : {}) },
      resources, rootNamespace: meshConfigFrom(resources).rootNamespace,
      onPath: (p) => p.kind === 'listener' && rejected.some((r) => r.name === p.name), pathText: 'traffic to that listener',
    });
    return buildReport({
      command: 'listeners',
      subject: `pod ${formatPod(pod)}`,
      source,
      versions: reportVersions(await meshVersionOf(source, { dump, pod: view, resources })),
      transcript: { steps: [], findings, skipped: [] },
      verdict: { status: 'informational', summary: `${rows.length} filter chains in ${new Set(rows.map((r) => r.listener)).size} listeners${rejected.length ? `; ${rejected.length} listener${rejected.length > 1 ? 's' : ''} rejected by Envoy (${rejected.map((r) => r.name).join(', ')}), not serving` : ''}` },
      data: {
        rejected,
        rows: rows.map((r) => ({
          addresses: r.addresses,
          port: r.port,
          match: r.match,
          destination: r.destination,
          owners: ownersOfChain(r.filterChain, resources, dump).map(formatRef),
          listener: r.listener.name,
          filterChain: r.filterChain.name,
        })),
        istioctl: formatListenerTable(rows),
      },
    });
  }

  protected override renderData(report: Report<ListenersData>): string {
    const data = report.data!;
    if (this.argv.includes('--no-owner')) return data.istioctl.trimEnd();
    const lines = ['ADDRESSES\tPORT\tMATCH\tDESTINATION\tOWNER'];
    for (const r of data.rows) lines.push(`${r.addresses}\t${r.port}\t${r.match}\t${r.destination}\t${r.owners.join(', ') || '-'}`);
    // istioctl drops what Envoy rejected; it is listed here, marked, with Envoy's reason.
    for (const r of data.rejected) lines.push(`${r.addresses}\t${r.port ?? '-'}\tREJECTED\t${r.name}: ${r.reason}\t-`);
    return tabwriterFormat(lines.join('\n') + '\n').trimEnd();
  }
}
