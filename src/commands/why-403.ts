import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { diagnoseWhy403, type Why403Data } from '../diagnoses/why-403.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';

export default class Why403 extends MeshDoctorCommand {
  static summary = 'Why is this request denied with 403 (RBAC: access denied)? The AuthorizationPolicy and rule that denied it';
  static description = `Reads the server sidecar's access log (the RBAC policy Envoy names in
rbac_access_denied_matched_policy[...]), the RBAC filters of its inbound chain as Envoy enforces them
(DENY before ALLOW, CUSTOM, shadow rules), what the client sends (Istio mTLS with its SPIFFE identity, or
plaintext), the port's mTLS mode, and the AuthorizationPolicies and RequestAuthentications that apply;
then names the policy, the rule and the field that denied the request, and the fix.`;
  static examples = [
    '<%= config.bin %> why-403 sleep-5b597748b4-77kj5.foo --to httpbin:8000',
    '<%= config.bin %> why-403 sleep-5b597748b4-77kj5.foo --to httpbin:8000 --path /headers',
    '<%= config.bin %> why-403 sleep-5b597748b4-77kj5.foo --to httpbin:8000 --path /headers --from test/scenarios/authz-deny-before-allow/snapshot',
  ];
  static args = { pod: Args.string({ description: 'the client pod (name or name.namespace)', required: false }) };
  static flags = {
    to: Flags.string({ description: 'where the request goes: a Service (httpbin, httpbin.foo), host:port, or a URL', required: true }),
    path: Flags.string({ description: 'the request path to judge (default: the path of the last 403 in the server\'s access log, else /)' }),
    method: Flags.string({ description: 'the request method to judge when the access log has no 403 line', default: 'GET' }),
  };

  protected async diagnose(context: RunContext<FlagsOf<typeof Why403>, ArgsOf<typeof Why403>>): Promise<Report<Why403Data>> {
    const { flags, args } = context;
    const source = await context.source();
    const client = await context.pod(args.pod);
    return diagnoseWhy403(source, context.guide, {
      client,
      to: flags.to,
      ...(flags.path ? { path: flags.path } : {}),
      method: flags.method.toUpperCase(),
    });
  }

  protected override renderData(report: Report<Why403Data>, paint: Painter): string | undefined {
    const d = report.data;
    if (!d) return undefined;
    const lines = [
      `${paint('bold', 'REQUEST')} ${d.request.tcp ? 'TCP connection' : `${d.request.method} ${d.request.path}`}  ${d.client.pod} -> ${d.server?.pod ?? d.destination.host}${d.server ? `:${d.server.port}` : ''}  (${d.request.from === 'access-log' ? 'from the server\'s 403 line' : 'as given'})`,
      `${paint('bold', 'CLIENT')}  sends ${d.client.sends ?? 'unknown'}${d.client.identity ? `; identity ${d.client.identity}` : ''}`,
      `${paint('bold', 'SERVER')}  port ${d.server?.port ?? '?'} mTLS ${d.server?.mtls ?? 'unknown'}; peer identity seen: ${d.request.peerIdentity ?? 'none'}`,
      `${paint('bold', 'DENIED')}  ${d.denial.kind}${d.denial.rbacPolicy ? ` by ${d.denial.rbacPolicy}` : ''} (${d.denial.basis === 'access-log' ? 'access log' : 'RBAC config evaluated'})`,
    ];
    if (d.policies.length) lines.push(`${paint('bold', 'POLICIES')} ${d.policies.join(', ')}`);
    return lines.join('\n');
  }
}
