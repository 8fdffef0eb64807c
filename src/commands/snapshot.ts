import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, outputFormat, type ArgsOf, type FlagsOf, type RunContext } from '../base-command.js';
import { usageError } from '../errors.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';
import { liveEnvironment } from '../snapshot/environment.js';
import { checkTarget, defaultOut, resolveTarget, takeSnapshot } from '../snapshot/index.js';
import { liveFetcher } from '../snapshot/live-fetch.js';
import { labelSelector, type PodSelection } from '../snapshot/plan.js';
import { captureProgress } from '../snapshot/progress.js';
import { recordedFlags, renderSnapshotData, snapshotReport, warningLines, type SnapshotData } from '../snapshot/report.js';
import { LiveSource } from '../sources/live.js';
import { parsePodArgument } from '../sources/pod-argument.js';


export default class Snapshot extends MeshDoctorCommand {
  static summary = 'Capture the evidence of a cluster (or some pods) into a snapshot for offline diagnosis (--from) or a ticket';
  static description = [
    'Writes the snapshot layout (docs/snapshot.md): cluster/k8s-resources, cluster/crs, versions, proxies/<ns>/<pod>/ (config_dump, clusters, listeners, server_info, certs, stats, memory, runtime, logging, netstat, istio-proxy.log, istio-init.log) and meta.json. With no POD: every pod with an istio-proxy container in the namespace (-n, else the context\'s), in all namespaces (-A), or those matching -l.',
    'Secrets are redacted before anything touches disk (private keys, bearer tokens, JWTs, token/password fields, Secret data). Files are owner-only (0600, folders 0700). The snapshot appears only once complete: an error or Ctrl-C never leaves a half-written one.',
    'Exit codes: 0 the snapshot was written (pods that could not be fully captured are listed on stderr and in meta.json); 1 nothing could be captured (cluster unreachable, pods not listable, every selected pod failed) and nothing was written; 2 usage error (bad flags, --out exists and is not empty without --force).',
  ].join('\n\n');

  static examples = [
    '<%= config.bin %> snapshot -n foo --out ./incident-42.tar.gz',
    '<%= config.bin %> snapshot sleep-7f9c8d6b5-x2k4p.foo --out ./sleep-snapshot',
    '<%= config.bin %> snapshot -A -l app=web --read-only --out web.tar.gz',
    '<%= config.bin %> snapshot --from examples/incident-4-catch-all-serviceentry -A --out redacted.tar.gz',
  ];

  static strict = false;
  static args = { pod: Args.string({ description: 'pods to capture (NAME, NAME.NAMESPACE or NAMESPACE/NAME); default: every pod with a sidecar', required: false }) };
  static flags = {
    out: Flags.string({ description: 'directory, or file ending in .tar.gz, to write (default: ./mesh-doctor-snapshot-<time>.tar.gz)', helpGroup: 'SNAPSHOT' }),
    force: Flags.boolean({ description: 'replace --out when it exists: a file, or a previous snapshot folder', default: false, helpGroup: 'SNAPSHOT' }),
    selector: Flags.string({ char: 'l', description: 'only pods matching this label selector (app=web,version!=v1)', helpGroup: 'SNAPSHOT' }),
  };

  protected async diagnose({ flags, source }: RunContext<FlagsOf<typeof Snapshot>, ArgsOf<typeof Snapshot>>): Promise<Report<SnapshotData>> {
    const { argv } = await this.parse(Snapshot);
    const names = (argv as string[]).filter((a) => a.trim() !== '');
    // Usage errors (exit 2) before any cluster call.
    if (flags.namespace && flags['all-namespaces']) throw usageError('-n and -A cannot be used together', 'Pass one of them.');
    if (flags.selector) labelSelector(flags.selector);
    const target = resolveTarget(flags.out ?? defaultOut(new Date()));
    await checkTarget(target, flags.force);

    const evidence = await source();
    const live = evidence instanceof LiveSource ? evidence : undefined;
    const environment = live ? await liveEnvironment(live) : {};
    const namespace = flags.namespace ?? evidence.defaultNamespace;
    const selection: PodSelection = {
      pods: names.map((n) => parsePodArgument(n, namespace)),
      namespaces: flags['all-namespaces'] ? 'all' : [namespace],
      ...(flags.selector ? { selector: flags.selector } : {}),
    };
    const format = outputFormat(flags);
    const result = await takeSnapshot(evidence, {
      target,
      force: flags.force,
      selection,
      readOnly: flags['read-only'],
      environment: {
        tool: { name: this.config.name, version: this.config.version },
        ...environment,
        flags: recordedFlags(flags as unknown as Record<string, unknown>, names),
      },
      progress: captureProgress({ tty: Boolean(process.stderr.isTTY) && !flags.verbose, quiet: format === 'json' || format === 'yaml' }),
      ...(live ? { fetcher: liveFetcher(live) } : {}),
    });
    for (const line of warningLines(result)) process.stderr.write(`${line}\n`);
    return snapshotReport(result, selection, evidence);
  }

  protected override renderData(report: Report<SnapshotData>, paint: Painter): string | undefined {
    return renderSnapshotData(report, paint);
  }
}
