import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { whoOwns, type WhoOwnsData } from '../diagnoses/who-owns-443.js';
import { tabwriterFormat } from '../model/envoy/go-compat.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';


export default class WhoOwns443 extends MeshDoctorCommand {
  static summary = 'Who owns port 443 (or --port) in a sidecar: every filter chain, its owner, and the catch-all';
  static description = `Lists every filter chain that can take the port's traffic, as istioctl prints it
(ADDRESSES PORT MATCH DESTINATION) plus OWNER (the Service/ServiceEntry/VirtualService behind it),
and which chain wins for connections no other chain claims. A catch-all chain that does not go to
PassthroughCluster owns all unmatched traffic. With -n/-A and no pod: the same across
pods, and where pods pick different winners. Without proxy data: what the resources declare.`;
  static examples = [
    '<%= config.bin %> who-owns-443 sample-c59f744df-8kq7m.istio-demo --from examples/incident-4-catch-all-serviceentry',
    '<%= config.bin %> who-owns-443 sample-c59f744df-8kq7m.istio-demo',
    '<%= config.bin %> who-owns-443 -A',
    '<%= config.bin %> who-owns-443 --port 3306 -n shop',
  ];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace); omit with -n/-A for every sidecar pod', required: false }) };
  static flags = { port: Flags.integer({ description: 'the port to ask about', min: 1, max: 65_535, default: 443 }) };

  protected async diagnose(context: RunContext<FlagsOf<typeof WhoOwns443>, ArgsOf<typeof WhoOwns443>>): Promise<Report> {
    const source = await context.source();
    const { flags, args } = context;
    const pod = args.pod ? await context.pod(args.pod, { requireSidecar: true }) : undefined;
    return whoOwns(context.guide, source, { port: flags.port, ...(pod ? { pod } : {}), ...(flags.namespace ? { namespace: flags.namespace } : {}), allNamespaces: flags['all-namespaces'] });
  }

  protected override renderData(report: Report<WhoOwnsData>, _paint: Painter): string | undefined {
    const d = report.data;
    if (!d) return undefined;
    const out: string[] = [];
    if (d.mode === 'static') {
      const lines = ['RESOURCE\tPROTOCOL\tADDRESSES\tEXPORTTO\tVISIBLE IN'];
      for (const x of d.declarations ?? []) lines.push(`${x.ref}\t${x.protocol}\t${x.addresses.join(',') || '-'}\t${x.exportTo}\t${x.visibleIn.join(',') || '-'}`);
      return tabwriterFormat(lines.join('\n') + '\n').trimEnd();
    }
    if (d.mode === 'pod') {
      const p = d.pods[0];
      const lines = ['ADDRESSES\tPORT\tMATCH\tDESTINATION\tOWNER'];
      for (const c of p?.chains ?? []) lines.push(`${c.addresses}\t${c.port}\t${c.match}\t${c.destination}\t${c.owners.join(', ') || '-'}${c.capturesUnmatched ? '   <- owns all unmatched traffic' : c.httpCatchAll ? '   <- HTTP for every connection: TLS on this port fails' : ''}`);
      out.push(tabwriterFormat(lines.join('\n') + '\n').trimEnd());
      if (p) out.push('', `Unmatched TLS on port ${d.port} goes to: ${p.unmatched.destination}${p.unmatched.owners.length ? ` (${p.unmatched.owners.join(', ')})` : ''}`);
      return out.join('\n');
    }
    const lines = ['NAMESPACE\tPOD\tUNMATCHED TLS GOES TO\tOWNER\tCATCH-ALL CHAINS'];
    // A pod's error can be a paragraph: the cell gets its gist and a number, the text follows the table.
    const notes: string[] = [];
    for (const p of d.pods) {
      if (p.error) notes.push(`[${notes.length + 1}] ${p.namespace}/${p.pod}: ${p.error}`);
      const cell = p.error ? `(${shortReason(p.error)} [${notes.length}])` : p.unmatched.destination;
      lines.push(`${p.namespace}\t${p.pod}\t${cell}\t${p.unmatched.owners.join(', ') || '-'}\t${p.chains.filter((c) => c.capturesUnmatched || c.httpCatchAll).length}`);
    }
    out.push(tabwriterFormat(lines.join('\n') + '\n').trimEnd());
    if (notes.length) out.push('', ...notes);
    if (d.winners.length > 1) out.push('', `Pods disagree on port ${d.port}: ${d.winners.map((w) => `${w.destination} in ${w.pods.length}`).join('; ')}`);
    return out.join('\n');
  }
}

/** The gist of a per-pod error for a table cell: a parse error is an unreadable file, else its first clause. */
function shortReason(error: string): string {
  const parse = /^(config_dump|clusters|listeners|stats) of \S+: /.exec(error);
  if (parse) return `unreadable ${parse[1].replace('_', ' ')}`;
  const head = error.split(/[:;(]/)[0].trim();
  return head.length <= 30 ? head : head.slice(0, head.lastIndexOf(' ', 30));
}
