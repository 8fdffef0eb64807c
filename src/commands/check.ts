import { MeshDoctorCommand, type FlagsOf, type ArgsOf, type RunContext } from '../base-command.js';
import { check } from '../diagnoses/check.js';
import type { CheckData } from '../report/check.js';
import { renderCheck } from '../render/check.js';
import type { Painter } from '../render/style.js';
import type { Report } from '../report/report.js';

export default class Check extends MeshDoctorCommand {
  static summary = 'The whole mesh triaged in one command: grouped checks ending in culprits';
  static description = `Runs every check over the selected sidecars (one namespace, or every one with -A), live or
offline on a snapshot or an istioctl bug-report archive: the static checks of the resources once,
and the per-proxy checks for each sidecar, each proxy's config read once. Prints one line per
check, √ passed, ‼ warning, × error, – skipped (with why), and under each failure the culprit
resource, the pods affected, the evidence line and the command that digs deeper.`;
  static examples = [
    '<%= config.bin %> check -A --from examples/incident-4-catch-all-serviceentry',
    '<%= config.bin %> check -n shop',
    '<%= config.bin %> check -A -o json',
  ];
  static args = {};
  static flags = {};

  protected async diagnose(context: RunContext<FlagsOf<typeof Check>, ArgsOf<typeof Check>>): Promise<Report> {
    const source = await context.source();
    const { flags } = context;
    return check(context.guide, source, {
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      allNamespaces: flags['all-namespaces'],
      concurrency: flags.concurrency,
    });
  }

  /** The grouped lines already name each culprit; the findings in full come with --details (and always in json/yaml/markdown). */
  protected override renderConclusion(report: Report, paint: Painter): string {
    if (this.details) return super.renderConclusion(report, paint);
    const style = report.verdict.status === 'problem' ? 'red' : report.verdict.status === 'healthy' ? 'green' : 'yellow';
    return `${paint(style, 'Verdict:')} ${report.verdict.summary}${report.findings.length ? paint('gray', '\n(--details prints each finding with its evidence and fix)') : ''}`;
  }

  protected override renderData(report: Report<CheckData>, paint: Painter): string | undefined {
    return report.data ? renderCheck(report.data, paint) : undefined;
  }
}
