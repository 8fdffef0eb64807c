import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { why502 } from '../diagnoses/why-502.js';
import type { OutboundData } from '../diagnoses/why-https-fails.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';


export default class Why502 extends MeshDoctorCommand {
  static summary = 'Why plain HTTP from this pod gets 502: follows the request through the sidecar\'s routes';
  static description = `Simulates the HTTP request through the sidecar's real config (listener, filter chain,
route config, virtual host, route) and explains a 502 the sidecar makes itself: the block_all route
under REGISTRY_ONLY with a missing ServiceEntry, or one hidden by exportTo or a Sidecar.`;
  static examples = [
    '<%= config.bin %> why-502 ubuntu-deployment-54bbd6f4ff-q9sdj.default --host httpbin.org --from test/scenarios/seed002-registry-only-unregistered/snapshot',
    '<%= config.bin %> why-502 ubuntu-deployment-54bbd6f4ff-q9sdj --host httpbin.org',
  ];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace)', required: false }) };
  static flags = {
    host: Flags.string({ description: 'the Host the app sends', required: true }),
    ip: Flags.string({ description: 'the destination IP the app resolved' }),
    port: Flags.integer({ description: 'destination port', default: 80 }),
    path: Flags.string({ description: 'request path', default: '/' }),
    probe: Flags.boolean({ description: 'also run curl -sv http://HOST from the app container', default: false }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof Why502>, ArgsOf<typeof Why502>>): Promise<Report> {
    const source = await context.source();
    const pod = await context.pod(context.args.pod);
    const f = context.flags;
    return why502(context.guide, source, pod, { host: f.host, ip: f.ip, port: f.port, path: f.path, probe: f.probe });
  }

  protected override renderData(report: Report<OutboundData | undefined>, _paint: Painter): string | undefined {
    const d = report.data;
    if (!d) return undefined;
    return [`Path of ${d.connectionText} (confidence ${d.confidence}):`, ...d.path.map((p) => `  ${p.stage.padEnd(14)} ${p.chose}`)].join('\n');
  }
}
