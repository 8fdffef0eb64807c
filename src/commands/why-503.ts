import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { WHY_503_LOGGERS } from '../capture/capture-window.js';
import { diagnoseWhy503, type Why503Data } from '../diagnoses/why-503.js';
import { parseDuration } from '../duration.js';
import { usageError } from '../errors.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';
import { parsePodArgument } from '../sources/pod-argument.js';


export default class Why503 extends MeshDoctorCommand {
  static summary = 'Why does this pod get 503s from a destination? Client and server sidecars correlated';
  static description = `Reads the client's access log, its cluster for the destination (TLS mode, circuit breakers,
outlier detection, the DestinationRule behind it), per-host health and stats; then what the server's
inbound listener demands and the effective PeerAuthentication, and the server's Envoy log. With
--reproduce or --capture-for (live, not --read-only) it raises the needed Envoy loggers on both sidecars,
announcing it first, and puts every logger back exactly as it was afterwards — also on Ctrl-C and
SIGTERM (\`kubectl mesh-doctor logging --restore\` finishes the job after a hard kill).`;
  static examples = [
    "<%= config.bin %> why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000",
    "<%= config.bin %> why-503 sleep-5b597748b4-77kj5.foo --to httpbin:8000 --reproduce 'curl -sv http://httpbin:8000/get'",
    '<%= config.bin %> why-503 sleep-5b597748b4-77kj5.foo --server-pod httpbin-94fdb8c79-h9zrq.foo --capture-for 20s',
    '<%= config.bin %> why-503 sleep-5b597748b4-77kj5.foo --to httpbin --from test/scenarios/seed004-dr-tls-disable/snapshot',
  ];
  static args = { pod: Args.string({ description: 'the client pod (name or name.namespace)', required: false }) };
  static flags = {
    to: Flags.string({ description: 'where the requests go: a Service (httpbin, httpbin.foo), host:port, or a URL' }),
    'server-pod': Flags.string({ description: 'a server pod (name or name.namespace); its Service is the destination unless --to is given' }),
    'capture-for': Flags.string({ description: 'raise log levels on both sidecars and wait this long for traffic (20s, 1m)', helpGroup: 'CAPTURE' }),
    reproduce: Flags.string({ description: "raise log levels, then run this command in the client's app container (e.g. 'curl -sv http://httpbin:8000/get')", helpGroup: 'CAPTURE' }),
    container: Flags.string({ char: 'c', description: 'the app container --reproduce runs in (default: the first that is not istio-proxy)', helpGroup: 'CAPTURE' }),
    level: Flags.string({ description: 'level for the raised loggers', options: ['debug', 'trace'], default: 'debug', helpGroup: 'CAPTURE' }),
    probe: Flags.boolean({ description: "ask the server's app for its keep-alive: one GET with curl from its pod's istio-proxy container (compared with the sidecars' idle timeout when some requests fail with 503 UC)", default: false }),
    'app-keepalive': Flags.string({ description: "the server app's keep-alive (idle close) timeout, e.g. 5s: compared with the sidecars' idle timeout when some requests fail with 503 UC" }),
    loggers: Flags.string({ description: 'Envoy loggers to raise (comma-separated; names this build lacks are skipped)', default: WHY_503_LOGGERS.join(','), defaultHelp: async () => WHY_503_LOGGERS.join(', '), helpGroup: 'CAPTURE' }),
  };

  /** The command whose verdict the diagnosis words (why-mtls-fails runs this same diagnosis). */
  protected readonly verdictFor: 'why-503' | 'why-mtls-fails' = 'why-503';

  protected async diagnose(context: RunContext<FlagsOf<typeof Why503>, ArgsOf<typeof Why503>>): Promise<Report<Why503Data>> {
    const { flags, args } = context;
    if (!flags.to && !flags['server-pod']) throw usageError('say where the requests go: --to HOST[:PORT] or --server-pod POD', `e.g. \`kubectl mesh-doctor ${this.verdictFor} sleep-7f.foo --to httpbin:8000\`.`);
    const appKeepAliveMs = flags['app-keepalive'] !== undefined ? parseDuration(flags['app-keepalive'], '--app-keepalive') : undefined;
    const forMs = flags['capture-for'] !== undefined ? parseDuration(flags['capture-for'], '--capture-for') : undefined;
    const loggers = flags.loggers.split(',').map((l) => l.trim()).filter(Boolean);
    if (!loggers.length) throw usageError('--loggers names no logger');
    const source = await context.source();
    const client = await context.pod(args.pod);
    const serverPod = flags['server-pod'] ? parsePodArgument(flags['server-pod'], flags.namespace ?? source.defaultNamespace) : undefined;
    return diagnoseWhy503(source, context.guide, {
      command: this.verdictFor,
      client,
      ...(flags.to ? { to: flags.to } : {}),
      ...(serverPod ? { serverPod } : {}),
      readOnly: flags['read-only'],
      ...(appKeepAliveMs !== undefined ? { appKeepAliveMs } : {}),
      probe: flags.probe,
      capture: {
        ...(forMs !== undefined ? { forMs } : {}),
        ...(flags.reproduce !== undefined ? { reproduce: flags.reproduce } : {}),
        ...(flags.container ? { container: flags.container } : {}),
        level: flags.level as 'debug' | 'trace',
        loggers,
      },
      ...(flags.context ? { kubeContext: flags.context } : {}),
      ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
      announce: (message) => process.stderr.write(`${message}\n`),
    });
  }

  protected override renderData(report: Report<Why503Data>, paint: Painter): string | undefined {
    const d = report.data;
    if (!d) return undefined;
    const lines: string[] = [];
    const tls = d.client.tls;
    lines.push(`${paint('bold', 'CLIENT')}  ${d.client.pod} -> ${d.destination.host}${d.destination.port ? `:${d.destination.port}` : ''}${d.destination.subset ? ` (subset ${d.destination.subset})` : ''}`);
    if (tls) lines.push(`  sends ${tls.sends}${tls.destinationRule ? `  (DestinationRule ${tls.destinationRule}${tls.ruleTlsMode ? `, tls.mode ${tls.ruleTlsMode}` : ', no tls'})` : ''}; auto mTLS ${tls.autoMtls ? 'on' : 'off'}`);
    lines.push(`  requests logged: ${d.client.requests.total}, failed: ${d.client.requests.failed}${Object.keys(d.client.requests.flags).length ? ` (${Object.entries(d.client.requests.flags).map(([k, n]) => `${n} x ${k}`).join(', ')})` : ''}`);
    for (const s of d.servers) lines.push(`SERVER  ${s.pod}${s.port !== undefined ? ` port ${s.port}` : ''}: ${s.requires ?? 'not examined'}`);
    for (const h of d.handshakes) {
      const trust = h.serverTrusted === undefined ? 'roots not verified' : h.serverTrusted && h.clientTrusted !== false ? 'one root' : 'roots differ';
      lines.push(`MTLS    ${h.server} presents ${h.presents}; ${h.client} expects ${h.clientExpects.join(', ') || 'any SAN'}: ${h.identityAccepted ? 'accepted' : 'REFUSED'}; ${trust}`);
    }
    for (const c of d.correlations.slice(0, 3)) lines.push(`MATCH   [${c.via}] ${c.client}\n        ${c.serverPod}: ${c.server}`);
    return lines.join('\n');
  }
}
