import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { whyInboundFails, type WhyInboundFailsData } from '../diagnoses/why-inbound-fails.js';
import { plainTable } from '../render/table.js';
import type { Report } from '../report/report.js';

export default class WhyInboundFails extends MeshDoctorCommand {
  static summary = "Why other pods cannot reach this pod's app: the inbound path from the Service port to the app, hop by hop";
  static description = `Follows a request from the Service port to the app: the targetPort, the pod's nat table
(PREROUTING -> Envoy on 15006), the inbound listener chain and cluster (STATIC to 127.0.0.1
before Istio 1.10, ORIGINAL_DST from 127.0.0.6 since), Envoy's connection to the app through
OUTPUT, and the app's listening socket. Finds apps bound to localhost only (the IST0143 case),
a changed peer address (127.0.0.6), nothing listening, a targetPort that matches no container
port, and iptables loops.`;
  static examples = [
    '<%= config.bin %> why-inbound-fails app-5f7b9c6d8-q7w2e.default --from test/scenarios/seed001-inbound-original-dst/snapshot',
    '<%= config.bin %> why-inbound-fails app-5f7b9c6d8-q7w2e.default',
    '<%= config.bin %> why-inbound-fails app-5f7b9c6d8-q7w2e -n default --port 8080 --from-pod sleep-7f.default',
    '<%= config.bin %> why-inbound-fails app-5f7b9c6d8-q7w2e.default --from test/scenarios/seed001-inbound-original-dst/snapshot -o json',
  ];
  static args = { pod: Args.string({ description: 'the server pod (name or name.namespace)', required: false }) };
  static flags = {
    port: Flags.integer({ description: 'only this port (a Service port or the app port it lands on)', min: 1, max: 65535 }),
    'from-pod': Flags.string({ description: "a client pod whose requests fail; its sidecar's access log is added as evidence" }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof WhyInboundFails>, ArgsOf<typeof WhyInboundFails>>): Promise<Report<WhyInboundFailsData>> {
    const source = await context.source();
    const pod = await context.pod(context.args.pod);
    const fromPod = context.flags['from-pod'] ? await context.pod(context.flags['from-pod'], { requireSidecar: false }) : undefined;
    return whyInboundFails(source, pod, context.guide, { ...(context.flags.port ? { port: context.flags.port } : {}), ...(fromPod ? { fromPod } : {}) });
  }

  protected override renderData(report: Report<WhyInboundFailsData>): string | undefined {
    const data = report.data;
    if (!data || data.ports.length === 0) return undefined;
    const blocks = data.ports.map((p) => {
      const rows = p.hops.map((h) => [h.ok === true ? 'ok' : h.ok === false ? 'FAIL' : '?', h.hop, h.detail]);
      return `${p.port}\n${plainTable(['', 'HOP', 'WHAT HAPPENS'], rows)}`;
    });
    return blocks.join('\n\n');
  }
}
