import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { why404, type Why404Data } from '../diagnoses/why-404.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';

export default class Why404 extends MeshDoctorCommand {
  static summary = 'Why a request through the ingress gateway gets 404 (or 503): follows it through the gateway\'s config and names the Gateway or VirtualService field';
  static description = `Follows one request through the gateway pod's real config (listener for the port, filter
chain by SNI for HTTPS, route config, virtual host by Host, route by path) and, where it falls out,
explains why from the Gateways and VirtualServices: a host missing from the Gateway, gateways: naming
another Gateway or namespace, a selector that matches no gateway pod, a port or protocol mismatch,
exportTo, two Gateways with the same TLS host, a missing credential, a route to a missing cluster.`;
  static examples = [
    '<%= config.bin %> why-404 istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system --host httpbin.example.com --path /status/200 --from test/scenarios/gw-vs-wrong-gateway-namespace/snapshot',
    '<%= config.bin %> why-404 istio-ingressgateway-7d4f8b6c9-h5k2m -n istio-system --host httpbin.example.com --https',
  ];
  static args = { pod: Args.string({ description: 'gateway pod (name or name.namespace)', required: false }) };
  static flags = {
    host: Flags.string({ description: 'the Host (and, for HTTPS, the SNI) the client sends', required: true }),
    path: Flags.string({ description: 'request path', default: '/' }),
    port: Flags.integer({ description: 'the port the client connects to on the gateway Service (default 80, or 443 with --https)', min: 1, max: 65_535 }),
    https: Flags.boolean({ description: 'the client speaks HTTPS (TLS with SNI = --host); implied by --port 443', default: false }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof Why404>, ArgsOf<typeof Why404>>): Promise<Report> {
    const source = await context.source();
    // why-404 itself refuses a sidecar, naming the gateway pods to pick instead.
    const pod = await context.pod(context.args.pod, { kinds: ['router', 'sidecar'] });
    const f = context.flags;
    return why404(context.guide, source, pod, { host: f.host, path: f.path, ...(f.port !== undefined ? { port: f.port } : {}), ...(f.https ? { https: true } : {}) });
  }

  protected override renderData(report: Report<Why404Data | undefined>, _paint: Painter): string | undefined {
    const d = report.data;
    if (!d) return undefined;
    return [`Path of ${d.request.tls ? 'https' : 'http'}://${d.request.host}${d.request.path} (port ${d.request.port} -> ${d.request.listenerPort}):`, ...d.path.map((p) => `  ${p.stage.padEnd(14)} ${p.chose}`)].join('\n');
  }
}
