import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { certs, type CertsData } from '../diagnoses/certs.js';
import { tabwriterFormat } from '../model/envoy/go-compat.js';
import type { Report } from '../report/report.js';

export default class Certs extends MeshDoctorCommand {
  static summary = "Each proxy's identity, issuer, expiry and trust root; across proxies, what breaks mTLS";
  static description = `Reads each sidecar's workload certificate and trust root (the config dump's SDS secrets
default and ROOTCA; /certs when the dump has none) and checks, as of now (offline: the snapshot's
capture time): certificates expired or not yet valid (MD5001), a root ending within --warn-days or a
workload certificate past its renewal (MD5002), proxies trusting different roots (MD5003), and an
identity that is not the pod's service account in the mesh's trust domain (MD5004).`;
  static examples = [
    '<%= config.bin %> certs -A --from test/fixtures/certs/lab-mtls',
    '<%= config.bin %> certs httpbin-94fdb8c79-h9zrq.foo --from test/fixtures/certs/lab-mtls',
    '<%= config.bin %> certs -n shop --warn-days 30',
  ];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace); omit with -n/-A for every sidecar pod', required: false }) };
  static flags = {
    'warn-days': Flags.integer({ description: 'report a root or intermediate certificate that ends within this many days', min: 0, max: 3650, default: 7 }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof Certs>, ArgsOf<typeof Certs>>): Promise<Report<CertsData>> {
    const { flags, args } = context;
    const source = await context.source();
    const pod = args.pod ? await context.pod(args.pod, { requireSidecar: true }) : undefined;
    return certs(context.guide, source, { ...(pod ? { pod } : {}), ...(flags.namespace ? { namespace: flags.namespace } : {}), allNamespaces: flags['all-namespaces'], warnDays: flags['warn-days'] });
  }

  protected override renderData(report: Report<CertsData>): string | undefined {
    const d = report.data;
    if (!d?.proxies.length) return undefined;
    const lines = ['NAMESPACE\tPOD\tIDENTITY\tISSUER\tEXPIRES\tDAYS LEFT\tROOT'];
    const notes: string[] = [];
    for (const p of d.proxies) {
      if (p.error) notes.push(`[${notes.length + 1}] ${p.namespace}/${p.pod}: ${p.error}`);
      const identity = p.error ? `(not read [${notes.length}])` : (p.identity ?? '-');
      lines.push(`${p.namespace}\t${p.pod}\t${identity}\t${p.issuer ?? '-'}\t${p.notAfter ?? '-'}\t${p.daysLeft ?? '-'}\t${p.root ? shortRoot(p.root) : '-'}`);
    }
    const out = [tabwriterFormat(lines.join('\n') + '\n').trimEnd(), '', `Judged as of ${d.at}; roots ending within ${d.warnDays} days are reported.`];
    if (notes.length) out.push('', ...notes);
    return out.join('\n');
  }
}

/** A root's fingerprint shortened for a table cell (the full value is in -o json). */
function shortRoot(root: string): string {
  return root.startsWith('serial ') ? root : `${root.slice(0, 11)}…`;
}
