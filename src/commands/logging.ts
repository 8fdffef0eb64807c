import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { finishPendingRestores, showLogLevels, type LoggingData } from '../diagnoses/logging.js';
import { parseDuration } from '../duration.js';
import { usageError } from '../errors.js';
import { plainTable } from '../render/table.js';
import type { Report } from '../report/report.js';
import { LiveSource } from '../sources/live.js';
import { ENVOY_PROXIES } from '../model/proxy-kind.js';

export default class Logging extends MeshDoctorCommand {
  static summary = "Show a sidecar's Envoy log levels, or finish restores a killed run left pending";
  static description = `mesh-doctor raises Envoy log levels only during a capture and always puts every logger back.
Before it changes anything it writes the levels it found to a pending-restore file; if the
run was killed hard (kill -9, a lost terminal), \`logging --restore\` puts them back.
It talks to live sidecars only: a snapshot's levels are in proxies/<ns>/<pod>/logging.`;
  static examples = ['<%= config.bin %> logging httpbin-7f.foo', '<%= config.bin %> logging --restore'];
  static args = { pod: Args.string({ description: 'pod (name or name.namespace)', required: false }) };
  static flags = {
    restore: Flags.boolean({ description: 'restore the levels recorded by interrupted runs', default: false }),
  };

  protected async diagnose({ flags, args, source, pod }: RunContext<FlagsOf<typeof Logging>, ArgsOf<typeof Logging>>): Promise<Report<LoggingData>> {
    if (flags.from) throw usageError('logging talks to live sidecars; it cannot run on a snapshot', 'Drop --from (a snapshot\'s levels are in proxies/<ns>/<pod>/logging).');
    if (flags['read-only']) throw usageError('--read-only forbids every POST to Envoy, and /logging is POST only', 'Drop --read-only.');
    if (!flags.restore) return showLogLevels(await source(), await pod(args.pod, { kinds: ENVOY_PROXIES }));
    // Each pending entry names the kube context it was raised in.
    return finishPendingRestores((entry) => LiveSource.open({
      context: entry.context,
      kubeconfig: entry.kubeconfig ?? flags.kubeconfig,
      timeoutMs: parseDuration(flags.timeout, '--timeout'),
      concurrency: 1,
      readOnly: false,
      onCommand: flags.verbose ? (line) => process.stderr.write(`$ ${line}\n`) : undefined,
    }));
  }

  protected override renderData(report: Report<LoggingData>): string | undefined {
    if (report.data?.levels) return plainTable(['LOGGER', 'LEVEL'], report.data.levels.map((l) => [l.logger, l.level]));
    if (report.data?.restores?.length) return plainTable(['POD', 'CONTEXT', 'OUTCOME'], report.data.restores.map((r) => [r.pod, r.context ?? '', r.outcome]));
    return undefined;
  }
}
