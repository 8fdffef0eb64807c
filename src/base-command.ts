import { Command, Flags, type Interfaces } from '@oclif/core';
import { stringify as toYaml } from 'yaml';
import { Guide } from './diagnoses/guide.js';
import { parseDuration } from './duration.js';
import { ExitCode, MeshDoctorError, usageError } from './errors.js';
import { registerCleanup, runCleanups } from './lifecycle.js';
import { usageFromParser } from './parse-errors.js';
import { renderConclusion } from './render/human.js';
import { renderMarkdown } from './render/markdown.js';
import { TranscriptPrinter } from './render/progress.js';
import { colorEnabled, painter, type Painter } from './render/style.js';
import type { ProxyKind } from './model/proxy-kind.js';
import { buildErrorReport, exitCodeOf, sortFindings, type FailOn, type Report } from './report/report.js';
import { LiveSource } from './sources/live.js';
import { resolvePodArgument } from './sources/pod-argument.js';
import { SnapshotSource } from './sources/snapshot.js';
import type { EvidenceSource, PodRef } from './sources/source.js';

export type OutputFormat = 'table' | 'json' | 'yaml' | 'markdown';

/**
 * kubectl does not hand its global flags to plugins, so the plugin parses
 * --context, --kubeconfig and -n itself (design: "Talking to a cluster").
 */
export const baseFlags = {
  context: Flags.string({ description: 'kubeconfig context to use', helpGroup: 'KUBECTL' }),
  kubeconfig: Flags.string({ description: 'path to the kubeconfig file', helpGroup: 'KUBECTL' }),
  namespace: Flags.string({ char: 'n', description: 'namespace of the pod (default: the context\'s)', helpGroup: 'KUBECTL' }),
  'all-namespaces': Flags.boolean({ char: 'A', description: 'look at pods in every namespace', helpGroup: 'KUBECTL', default: false }),
  output: Flags.string({ char: 'o', description: 'output format', options: ['table', 'json', 'yaml', 'markdown'], default: 'table', helpGroup: 'OUTPUT' }),
  json: Flags.boolean({ description: 'same as -o json', default: false, helpGroup: 'OUTPUT' }),
  from: Flags.string({ description: 'run offline on a snapshot directory or .tar.gz (also istioctl bug-report archives)', helpGroup: 'SOURCE' }),
  'read-only': Flags.boolean({ description: 'never change anything, not even an Envoy log level', default: false, helpGroup: 'SOURCE' }),
  'fail-on': Flags.string({ description: 'exit 3 when a finding is at or above this severity (an inconclusive run exits 4 whatever this says)', options: ['error', 'warning', 'info', 'never'], default: 'error', helpGroup: 'OUTPUT' }),
  timeout: Flags.string({ description: 'time limit for each cluster call (30s, 2m, ...)', default: '30s', helpGroup: 'SOURCE' }),
  concurrency: Flags.integer({ description: 'cluster calls in flight at once', default: 8, min: 1, max: 64, helpGroup: 'SOURCE' }),
  verbose: Flags.boolean({ description: 'print every kubectl/istioctl/Envoy admin call as a command you could run', default: false, helpGroup: 'OUTPUT' }),
  details: Flags.boolean({ description: 'with -o table: what each step looked at and saw, every piece of evidence, every skipped check (json, yaml and markdown always have them)', default: false, helpGroup: 'OUTPUT' }),
};

/** A TCP port flag: the range is checked by the parser and named in its error. */
export function portFlag(description: string, defaultPort?: number) {
  return Flags.integer({ description, min: 1, max: 65_535, ...(defaultPort === undefined ? {} : { default: defaultPort }) });
}

export type BaseFlags = Interfaces.InferredFlags<typeof baseFlags>;

/** A command's own flags and args, typed from its definitions (`static flags`, `static args`), never copied by hand. */
export type FlagsOf<C extends { flags: Interfaces.FlagInput }> = Interfaces.InferredFlags<C['flags']>;
export type ArgsOf<C extends { args: Interfaces.ArgInput }> = Interfaces.InferredArgs<C['args']>;

/** What a command's body gets: parsed flags, a source opened on demand, a guide for steps. */
export interface RunContext<F = object, A = Record<string, unknown>> {
  flags: F & BaseFlags;
  args: A;
  /** Positional arguments as given, for commands that take free text (strict = false). */
  argv: string[];
  guide: Guide;
  /** The evidence source named by the flags (--from, else the live cluster). Opened once. */
  source(): Promise<EvidenceSource>;
  /** A pod argument (`name`, `name.namespace`, `namespace/name`), asked for on a TTY when missing. */
  /** kinds: the proxy kinds the command supports (sidecar when not said). */
  pod(argument: string | undefined, options?: { requireSidecar?: boolean; kinds?: readonly ProxyKind[] }): Promise<PodRef>;
  paint: Painter;
}

/**
 * The base of every command: shared flags, the source, the guided transcript,
 * the output formats and the exit codes (0 nothing at --fail-on, 3 findings,
 * 4 inconclusive, 1 the run failed, 2 usage), identical with --json.
 */
export abstract class MeshDoctorCommand extends Command {
  static baseFlags = baseFlags;

  /** The body: gather evidence, run rules, return the report. */
  protected abstract diagnose(context: RunContext<any, any>): Promise<Report>;

  /** The command's own payload for people (a table, an explanation); printed before the findings. */
  protected renderData(_report: Report, _paint: Painter): string | undefined {
    return undefined;
  }

  /** Findings, skipped rules and the verdict for people; a command may print them more briefly. */
  protected renderConclusion(report: Report, paint: Painter): string {
    return renderConclusion(report, paint, { details: this.details });
  }

  /** The same payload for a Markdown ticket. */
  protected markdownData(report: Report): string | undefined {
    const text = this.renderData(report, painter(false));
    return text ? '```\n' + text + '\n```' : undefined;
  }

  private openedSource?: Promise<EvidenceSource>;
  /** --details: the human output in full rather than one screen. */
  protected details = false;

  async run(): Promise<void> {
    const { flags, args, argv } = await this.parse(this.ctor as typeof MeshDoctorCommand);
    const format = outputFormat(flags as BaseFlags);
    // Checked before anything runs, also with --from where it is unused: a typo is a typo.
    const timeoutMs = parseTimeout(flags.timeout);
    const human = format === 'table';
    this.details = (flags as BaseFlags).details;
    const paint = painter(human && colorEnabled(process.stdout));
    const printer = human ? new TranscriptPrinter((text) => process.stdout.write(text), paint, spinnersWanted(flags as BaseFlags), this.details) : undefined;
    const context: RunContext = {
      flags: flags as BaseFlags,
      args,
      argv: argv as string[],
      guide: new Guide(printer),
      source: () => (this.openedSource ??= this.openSource(flags as BaseFlags, timeoutMs)),
      pod: async (argument, options) => resolvePodArgument(await context.source(), argument, {
        namespace: flags.namespace,
        requireSidecar: options?.requireSidecar ?? true,
        ...(options?.kinds ? { kinds: options.kinds } : {}),
        interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY) && human,
      }),
      paint,
    };
    let report: Report;
    try {
      report = await this.diagnose(context);
    } finally {
      printer?.stop();
    }
    report.findings = sortFindings(report.findings);
    this.write(report, format, paint);
    await runCleanups();
    const code = exitCodeOf(report, flags['fail-on'] as FailOn);
    if (code !== ExitCode.ok) process.exitCode = code;
  }

  private async openSource(flags: BaseFlags, timeoutMs: number): Promise<EvidenceSource> {
    const source = flags.from
      ? await SnapshotSource.open(flags.from, { namespace: flags.namespace })
      : await LiveSource.open({
        context: flags.context,
        kubeconfig: flags.kubeconfig,
        namespace: flags.namespace,
        timeoutMs,
        concurrency: flags.concurrency,
        readOnly: flags['read-only'],
        onCommand: flags.verbose ? (line) => process.stderr.write(`$ ${line}\n`) : undefined,
      });
    registerCleanup(() => source.close());
    return source;
  }

  private write(report: Report, format: OutputFormat, paint: Painter): void {
    switch (format) {
      case 'json':
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      case 'yaml':
        process.stdout.write(toYaml(report, { lineWidth: 0 }));
        return;
      case 'markdown':
        process.stdout.write(renderMarkdown(report, this.markdownData(report)) + '\n');
        return;
      default: {
        const data = this.renderData(report, paint);
        if (data) process.stdout.write((report.steps.length ? '\n' : '') + data + '\n');
        if (report.steps.length || report.findings.length || report.verdict.status !== 'informational') {
          process.stdout.write('\n' + this.renderConclusion(report, paint) + '\n');
        }
      }
    }
  }

  /**
   * One line and a next step instead of a stack; the same exit code with
   * --json (oclif's default catch would turn them all into 1).
   */
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    // A parse failure is handled here; stop oclif's "did not parse its arguments" development warning.
    this.parsed = true;
    await runCleanups();
    const json = wantsJson(this.argv);
    let failure: MeshDoctorError;
    if (error instanceof MeshDoctorError) failure = error;
    else if (error.oclif?.exit !== undefined || /Parse|Nonexistent flag|Unexpected argument|Expected --/.test(error.name + error.message)) {
      // oclif's parser errors (unknown flag, bad option value, missing argument): usage.
      const flags = { ...(this.ctor as typeof MeshDoctorCommand).baseFlags, ...this.ctor.flags } as Record<string, { description?: string }>;
      failure = usageFromParser(error.message, flags, `See \`kubectl mesh-doctor ${this.id ?? ''} --help\`.`);
      if (error.oclif?.exit === 0) return;
    } else {
      failure = new MeshDoctorError('exec-failed', `unexpected failure: ${error.message}`, {
        suggestion: 'Run again with --verbose; if it persists, report it with that output.',
      });
      if (process.argv.includes('--verbose')) process.stderr.write(`${error.stack}\n`);
    }
    // A person cancelled (Ctrl-C or Esc in a prompt): no error to report.
    if (failure.exitCode === ExitCode.interrupted) {
      process.exitCode = failure.exitCode;
      return;
    }
    if (json) {
      process.stdout.write(JSON.stringify(buildErrorReport(this.id, failure), null, 2) + '\n');
    }
    process.stderr.write(`Error: ${failure.message}\n${failure.suggestion ? `  ${failure.suggestion}\n` : ''}`);
    process.exitCode = failure.exitCode;
  }
}

/**
 * A spinner only on a real, sized terminal: ora spins forever when a pseudo
 * terminal reports 0 columns (`script` in CI), and --verbose lines would
 * interleave with it.
 */
function spinnersWanted(flags: BaseFlags): boolean {
  return Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0 && !flags.verbose;
}

/**
 * Node's timers hold at most 2^31-1 ms (about 24.8 days) and fire after 1 ms
 * beyond that (TimeoutOverflowWarning), so a huge --timeout would end every
 * call at once; a day is far past any cluster call.
 */
const MAX_TIMEOUT_MS = 24 * 3_600_000;

function parseTimeout(text: string): number {
  const ms = parseDuration(text, '--timeout');
  if (ms > MAX_TIMEOUT_MS) throw usageError(`--timeout is at most 24h, not "${text}"`, 'Give a duration like 30s, 2m or 1h.');
  return ms;
}

export function outputFormat(flags: Pick<BaseFlags, 'output' | 'json'>): OutputFormat {
  return flags.json ? 'json' : (flags.output as OutputFormat);
}

function wantsJson(argv: string[]): boolean {
  return argv.some((arg, i) => arg === '--json' || arg === '-ojson' || arg === '--output=json' || arg === '-o=json'
    || ((arg === '-o' || arg === '--output') && argv[i + 1] === 'json'));
}

export type { Report } from './report/report.js';
