import { Args } from '@oclif/core';
import { MeshDoctorCommand, type ArgsOf, type RunContext } from '../base-command.js';
import { plainTable } from '../render/table.js';
import { buildReport, type Report } from '../report/report.js';

interface PodRow {
  namespace: string;
  name: string;
  ip?: string;
  sidecar: boolean;
  ready?: boolean;
}

export default class Pods extends MeshDoctorCommand {
  static summary = 'List the pods a source knows, and which carry an Istio sidecar';
  static examples = ['<%= config.bin %> pods -A', '<%= config.bin %> pods --from ./bug-report.tar.gz -A'];
  static args = { namespace: Args.string({ description: 'namespace (same as -n)', required: false }) };

  protected async diagnose({ flags, args, source }: RunContext<object, ArgsOf<typeof Pods>>): Promise<Report<PodRow[]>> {
    const evidence = await source();
    const namespace = flags['all-namespaces'] ? undefined : (args.namespace ?? flags.namespace ?? evidence.defaultNamespace);
    const pods = (await evidence.pods(namespace)).map((p) => ({ namespace: p.namespace, name: p.name, ip: p.ip, sidecar: p.hasSidecar, ready: p.proxyReady }));
    pods.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    return buildReport({
      command: 'pods',
      subject: namespace ? `namespace ${namespace}` : 'all namespaces',
      source: evidence,
      verdict: { status: 'informational', summary: `${pods.filter((p) => p.sidecar).length} of ${pods.length} pods carry a sidecar` },
      data: pods,
    });
  }

  protected override renderData(report: Report<PodRow[]>): string {
    const rows = report.data ?? [];
    return plainTable(['NAMESPACE', 'NAME', 'IP', 'SIDECAR'], rows.map((p) => [p.namespace, p.name, p.ip ?? '', p.sidecar ? (p.ready === false ? 'not ready' : 'yes') : 'no']));
  }
}
