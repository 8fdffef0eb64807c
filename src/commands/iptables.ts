import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, portFlag, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { iptables, type IptablesData } from '../diagnoses/iptables.js';
import type { Hook } from '../model/iptables/walk.js';
import type { Report } from '../report/report.js';

export default class Iptables extends MeshDoctorCommand {
  static summary = "A pod's nat table as iptables prints it, and a packet's walk through it rule by rule";
  static description = `Reads the nat table from the istio-init container's log, the istio-cni node agent's log, or
\`iptables-save -t nat\` in istio-proxy (usually refused: the proxy has no NET_ADMIN). Prints the
chains like \`iptables -t nat -L -v\`, then walks packets through PREROUTING/OUTPUT and Istio's
chains, showing the rule that decided (REDIRECT to 15006 or 15001, RETURN) and any loop (a
proxy packet redirected back to the proxy). Without --packet it walks the inbound path's packets.`;
  static examples = [
    '<%= config.bin %> iptables app-5f7b9c6d8-q7w2e.default --from test/scenarios/seed001-inbound-original-dst/snapshot',
    '<%= config.bin %> iptables app-5f7b9c6d8-q7w2e.default',
    "<%= config.bin %> iptables app-5f7b9c6d8-q7w2e.default --packet 'src=127.0.0.6 dst=10.244.1.50:8080 uid=1337 out=lo'",
    "<%= config.bin %> iptables app-5f7b9c6d8-q7w2e.default --packet 'src=192.0.2.10 dst=10.244.1.50:8080 in=eth0'",
  ];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace)', required: false }) };
  static flags = {
    packet: Flags.string({ description: "a packet to walk: 'src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo' (also sport=, proto=, gid=, in=)" }),
    hook: Flags.string({ description: 'where the packet enters (default: OUTPUT when it has uid/gid/out or a local source, else PREROUTING)', options: ['PREROUTING', 'OUTPUT'] }),
    port: portFlag('app port for the default walks (default: the first Service targetPort)'),
    numeric: Flags.boolean({ description: 'print addresses and ports as numbers (iptables -n)', default: false }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof Iptables>, ArgsOf<typeof Iptables>>): Promise<Report<IptablesData>> {
    const { flags } = context;
    const source = await context.source();
    const pod = await context.pod(context.args.pod, { requireSidecar: false, kinds: ['sidecar'] });
    return iptables(source, pod, context.guide, {
      ...(flags.packet !== undefined ? { packet: flags.packet } : {}),
      ...(flags.hook ? { hook: flags.hook as Hook } : {}),
      ...(flags.port ? { port: flags.port } : {}),
      numeric: flags.numeric,
    });
  }

  protected override renderData(report: Report<IptablesData>): string | undefined {
    const data = report.data;
    if (!data?.chains) return undefined;
    if (!this.details) {
      // A screen: each packet and where it ends; the table and every rule met with --details.
      const walks = data.walks.map((w) => `# ${w.title}\n${w.text.trimEnd().split('\n').filter((l) => !l.startsWith(' ')).join('\n')}`);
      return [...walks, `(--details prints the nat table of ${data.pod} and each rule every packet met)`].join('\n\n');
    }
    const parts = [`# nat table of ${data.pod} (${data.format}; from: ${data.source})`, data.chains.trimEnd()];
    for (const w of data.walks) parts.push(`# ${w.title}\n${w.text.trimEnd()}`);
    return parts.join('\n\n');
  }
}
