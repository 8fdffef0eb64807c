import { Args, Flags } from '@oclif/core';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { restoreLogLevels } from '../capture/log-levels.js';
import { pendingRestores } from '../capture/restore-journal.js';
import { parseDuration } from '../duration.js';
import { MeshDoctorError, usageError } from '../errors.js';
import { parseActiveLoggers } from '../model/envoy-logging.js';
import { plainTable } from '../render/table.js';
import { buildReport, type Report } from '../report/report.js';
import { LiveSource } from '../sources/live.js';
import { formatPod } from '../sources/source.js';

interface LoggingData {
  levels?: Array<{ logger: string; level: string }>;
  restores?: Array<{ pod: string; context?: string; outcome: string }>;
}

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

  protected async diagnose(context: RunContext<FlagsOf<typeof Logging>, ArgsOf<typeof Logging>>): Promise<Report<LoggingData>> {
    const { flags, args } = context;
    if (flags.from) throw usageError('logging talks to live sidecars; it cannot run on a snapshot', 'Drop --from (a snapshot\'s levels are in proxies/<ns>/<pod>/logging).');
    if (flags['read-only']) throw usageError('--read-only forbids every POST to Envoy, and /logging is POST only', 'Drop --read-only.');
    return flags.restore ? this.restoreAll(context) : this.show(context, args.pod);
  }

  private async show(context: RunContext<FlagsOf<typeof Logging>, ArgsOf<typeof Logging>>, podArgument: string | undefined): Promise<Report<LoggingData>> {
    const source = await context.source();
    const pod = await context.pod(podArgument);
    const evidence = await source.proxy(pod, 'logging');
    if (!evidence) throw new MeshDoctorError('exec-failed', `could not read the log levels of ${formatPod(pod)}`);
    const levels = [...parseActiveLoggers(evidence.text)].map(([logger, level]) => ({ logger, level }));
    return {
      ...emptyReport('logging', source),
      subject: `pod ${formatPod(pod)}`,
      verdict: { status: 'informational', summary: `${levels.length} loggers; ${levels.filter((l) => l.level !== 'warning').length} not at warning` },
      data: { levels },
    };
  }

  private async restoreAll({ flags }: RunContext<FlagsOf<typeof Logging>, ArgsOf<typeof Logging>>): Promise<Report<LoggingData>> {
    const pending = await pendingRestores();
    const restores: LoggingData['restores'] = [];
    for (const { entry } of pending) {
      const source = await LiveSource.open({
        context: entry.context,
        kubeconfig: entry.kubeconfig ?? flags.kubeconfig,
        timeoutMs: parseDuration(flags.timeout, '--timeout'),
        concurrency: 1,
        readOnly: false,
        onCommand: flags.verbose ? (line) => process.stderr.write(`$ ${line}\n`) : undefined,
      });
      try {
        const outcome = await restoreLogLevels(source, entry);
        restores.push({ pod: formatPod(entry.pod), context: entry.context, outcome: outcome.status === 'restored' ? `restored ${outcome.loggers} loggers` : outcome.status === 'proxy-restarted' ? outcome.detail : 'already as saved' });
      } catch (error) {
        restores.push({ pod: formatPod(entry.pod), context: entry.context, outcome: `failed: ${(error as Error).message}` });
      } finally {
        await source.close();
      }
    }
    const failed = restores.filter((r) => r.outcome.startsWith('failed'));
    if (failed.length) {
      throw new MeshDoctorError('exec-failed', `${failed.length} of ${restores.length} pending restores failed: ${failed.map((f) => `${f.pod}: ${f.outcome}`).join('; ')}`, {
        suggestion: 'Check access to those pods (pods/exec) and run `kubectl mesh-doctor logging --restore` again.',
      });
    }
    return {
      ...emptyReport('logging --restore', { mode: 'live', label: 'pending restores' }),
      verdict: { status: 'informational', summary: restores.length ? `${restores.length} pending restores finished` : 'no pending restores' },
      data: { restores },
    };
  }

  protected override renderData(report: Report<LoggingData>): string | undefined {
    if (report.data?.levels) return plainTable(['LOGGER', 'LEVEL'], report.data.levels.map((l) => [l.logger, l.level]));
    if (report.data?.restores?.length) return plainTable(['POD', 'CONTEXT', 'OUTCOME'], report.data.restores.map((r) => [r.pod, r.context ?? '', r.outcome]));
    return undefined;
  }
}

function emptyReport(command: string, source: { mode: 'live' | 'snapshot'; label: string }): Report<LoggingData> {
  return buildReport({ command, source, verdict: { status: 'informational', summary: '' } });
}
