import { Flags } from '@oclif/core';
import { parseDuration } from '../duration.js';
import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { check, type CheckProgress } from '../diagnoses/check.js';
import { interruption, registerCleanup } from '../lifecycle.js';
import { renderCheck } from '../render/check.js';
import { ProgressLine } from '../render/progress.js';
import type { Painter } from '../render/style.js';
import type { CheckData } from '../report/check.js';
import type { Report } from '../report/report.js';

export default class Check extends MeshDoctorCommand {
  static summary = 'The whole mesh triaged in one command: grouped checks ending in culprits';
  static description = `Runs every check over the selected sidecars (one namespace, or every one with -A), live or
offline on a snapshot or an istioctl bug-report archive: the static checks of the resources once,
and the per-proxy checks for each sidecar, each proxy's config read once. Prints one line per
check, √ passed, ‼ warning, × error, – skipped (with why), and under each failure the culprit
resource, the pods affected, the evidence line and the command that digs deeper. Ctrl-C stops
reading proxies and prints what was checked so far (exit 130).`;
  static examples = [
    '<%= config.bin %> check -A --from examples/incident-4-catch-all-serviceentry',
    '<%= config.bin %> check -n shop',
    '<%= config.bin %> check -A -o json',
  ];
  static args = {};
  static flags = {
    since: Flags.string({ description: "live: how far back each sidecar's access log is read (10m, 1h, ...); offline the recorded log is read whole", default: '10m' }),
  };

  /** Settled once the report is written: Ctrl-C's cleanup waits for it before the process exits. */
  private written?: () => void;

  override async run(): Promise<void> {
    try {
      await super.run();
    } finally {
      this.written?.();
    }
  }

  protected async diagnose(context: RunContext<FlagsOf<typeof Check>, ArgsOf<typeof Check>>): Promise<Report> {
    const { flags, guide } = context;
    const sinceMs = parseDuration(flags.since, '--since');
    const source = await context.source();
    const stop = new AbortController();
    const reported = new Promise<void>((resolve) => { this.written = resolve; });
    // Ctrl-C: stop reading proxies, let the report of those checked be written, then exit 130 (lifecycle.ts).
    // On a normal end the cleanup has nothing to wait for (the report is being written by the caller).
    registerCleanup(async () => {
      if (!interruption()) return;
      stop.abort();
      await reported;
    });
    const line = new ProgressLine();
    const progress = ({ checked, total, errors }: CheckProgress) => {
      const text = `checked ${checked}/${total} proxies, ${errors} error${errors === 1 ? '' : 's'} so far`;
      if (!guide.progress(text)) line.update(text);
    };
    try {
      return await check(guide, source, {
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
        allNamespaces: flags['all-namespaces'],
        concurrency: flags.concurrency,
        sinceMs,
        onProxy: progress,
        signal: stop.signal,
      });
    } finally {
      line.done();
    }
  }

  /** The grouped lines already name each culprit; the findings in full come with --details (and always in json/yaml/markdown). */
  protected override renderConclusion(report: Report, paint: Painter): string {
    if (this.details) return super.renderConclusion(report, paint);
    const style = report.verdict.status === 'problem' ? 'red' : report.verdict.status === 'healthy' ? 'green' : 'yellow';
    return `${paint(style, 'Verdict:')} ${report.verdict.summary}${report.findings.length ? paint('gray', '\n(--details prints each finding with its evidence and fix)') : ''}`;
  }

  protected override renderData(report: Report<CheckData>, paint: Painter): string | undefined {
    return report.data ? renderCheck(report.data, paint, { details: this.details }) : undefined;
  }
}
