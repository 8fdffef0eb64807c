import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { whyHttpsFails } from '../diagnoses/why-https-fails.js';
import type { OutboundData } from '../diagnoses/why-https-fails.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';


export default class WhyHttpsFails extends MeshDoctorCommand {
  static summary = 'Why HTTPS from this pod fails: follows the TLS connection through the sidecar and names the culprit';
  static description = `Simulates the connection through the sidecar's real config (listener, filter chain in
Envoy's order, network filter, cluster) and explains where it ends: an HTTP connection manager on
443 (a port named http), a catch-all chain of a ServiceEntry without addresses,
BlackHoleCluster under REGISTRY_ONLY, or PassthroughCluster (healthy).`;
  static examples = [
    '<%= config.bin %> why-https-fails sample-c59f744df-8kq7m.istio-demo --host baidu.com --from examples/incident-4-catch-all-serviceentry',
    '<%= config.bin %> why-https-fails sample-c59f744df-8kq7m.istio-demo --host baidu.com',
    '<%= config.bin %> why-https-fails web -n team-b --host www.google.com --probe',
  ];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace)', required: false }) };
  static flags = {
    host: Flags.string({ description: 'the host the app connects to (the SNI)', required: true }),
    ip: Flags.string({ description: 'the destination IP the app resolved (default: from Services/ServiceEntries, else an external IP)' }),
    port: Flags.integer({ description: 'destination port', default: 443 }),
    probe: Flags.boolean({ description: 'also run curl -sv https://HOST from the app container and tie what it sees to the verdict', default: false }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof WhyHttpsFails>, ArgsOf<typeof WhyHttpsFails>>): Promise<Report> {
    const source = await context.source();
    const pod = await context.pod(context.args.pod);
    return whyHttpsFails(context.guide, source, pod, { host: context.flags.host, ip: context.flags.ip, port: context.flags.port, probe: context.flags.probe });
  }

  protected override renderData(report: Report<OutboundData | undefined>, _paint: Painter): string | undefined {
    const d = report.data;
    if (!d) return undefined;
    return [`Path of ${d.connectionText} (confidence ${d.confidence}):`, ...d.path.map((p) => `  ${p.stage.padEnd(14)} ${p.chose}`)].join('\n');
  }
}
