import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, portFlag, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { listeners, type ListenersData } from '../diagnoses/listeners.js';
import { tabwriterFormat } from '../model/envoy/go-compat.js';
import { ENVOY_PROXIES } from '../model/proxy-kind.js';
import type { Report } from '../report/report.js';

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
    return listeners(source, pod, { port: flags.port, address: flags.address, type: flags.type });
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
