import { Args, Flags, type Config } from '@oclif/core';
import { text as readStream } from 'node:stream/consumers';
import { MeshDoctorCommand, type RunContext } from '../base-command.js';
import { usageError } from '../errors.js';
import { diagnosisForLine } from '../explain/diagnose-line.js';
import { explain, type Explanation, type ExplanationItem } from '../explain/explain.js';
import type { Painter } from '../render/style.js';
import { plainTable } from '../render/table.js';
import { buildReport, type Report } from '../report/report.js';

export default class Explain extends MeshDoctorCommand {
  static summary = 'Decode what you pasted: response flags, access-log lines, TLS errors, BoringSSL codes, curl errors';
  static description = `Reads the text from the arguments, or from standard input with "-" (or when piped),
and says what each recognised line means, what it usually means in a mesh, and which
diagnosis to run next. Needs no cluster.`;
  static examples = [
    '<%= config.bin %> explain UC',
    '<%= config.bin %> explain 268435612',
    `<%= config.bin %> explain '"GET /get HTTP/1.1" 503 UC 0 57 0 - "-" "curl/7.35.0" "a1b2" "httpbin:8000" "172.17.0.14:8000"'`,
    'kubectl logs sleep-7f -c istio-proxy --tail 20 | <%= config.bin %> explain -',
    `<%= config.bin %> explain --diagnose --pod sleep-5b597748b4-77kj5.foo --from test/fixtures/why-503/e2e-dr-tls-disable '"GET /get HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 1 - "-" "curl/8.5.0" "e2e-1" "httpbin:8000" "172.17.0.14:8080" outbound|8000||httpbin.foo.svc.cluster.local 172.17.0.13:46846 10.105.235.142:8000 172.17.0.13:52044 - default'`,
  ];
  static strict = false;
  static args = { text: Args.string({ description: 'the text to explain, or - for standard input', required: false }) };
  static flags = {
    diagnose: Flags.boolean({ description: 'run the diagnosis one access-log line calls for, its arguments filled from the line (needs --pod)', default: false }),
    pod: Flags.string({ description: 'with --diagnose: the pod whose istio-proxy logged the line (name.namespace)' }),
  };

  /** The base flags a diagnosis run from --diagnose gets as given. */
  private static readonly FORWARDED = ['from', 'context', 'kubeconfig', 'output', 'read-only', 'fail-on', 'timeout', 'concurrency'] as const;

  override async run(): Promise<void> {
    const { flags, argv } = await this.parse(Explain);
    if (!flags.diagnose) return super.run();
    if (!flags.pod) throw usageError('--diagnose needs --pod', 'Name the pod whose istio-proxy logged the line: --pod NAME.NAMESPACE.');
    const picked = diagnosisForLine(await this.input(argv as string[]), flags.pod);
    if ('why' in picked) throw usageError(`nothing to diagnose: ${picked.why}`, 'Run explain without --diagnose to read the line, or run the diagnosis yourself.');
    const forwarded = Explain.FORWARDED.flatMap((name) => {
      const value = (flags as Record<string, unknown>)[name];
      if (value === undefined || value === false || value === (Explain.baseFlags as Record<string, { default?: unknown }>)[name]?.default) return [];
      return value === true ? [`--${name}`] : [`--${name}`, String(value)];
    });
    const extra = [...(flags.json ? ['--json'] : []), ...(flags.verbose ? ['--verbose'] : []), ...(flags.details ? ['--details'] : [])];
    const argvOut = [...picked.call.args, ...forwarded, ...extra];
    process.stderr.write(`explain: the line calls for \`kubectl mesh-doctor ${picked.call.command} ${argvOut.join(' ')}\`\n`);
    // Through the loaders, not the oclif registry: the bundle registers only the command named on the command line.
    const { COMMAND_LOADERS } = await import('../command-loaders.js');
    const Diagnosis = (await COMMAND_LOADERS[picked.call.command]!()).default as { run(argv: string[], config: Config): Promise<unknown> };
    await Diagnosis.run(argvOut, this.config);
  }

  protected async diagnose({ argv }: RunContext): Promise<Report<Explanation>> {
    const input = await this.input(argv);
    const explanation = explain(input);
    const recognised = explanation.items.length;
    return buildReport({
      command: 'explain',
      source: { mode: 'none', label: 'pasted text' },
      verdict: recognised
        ? { status: 'informational', summary: `${recognised} item${recognised === 1 ? '' : 's'} explained${explanation.unrecognised.length ? `; ${explanation.unrecognised.length} line(s) not recognised` : ''}` }
        : { status: 'inconclusive', summary: 'nothing recognised: paste a response flag, an access-log or Envoy log line, a BoringSSL code, or a curl error' },
      data: explanation,
    });
  }

  private async input(words: string[]): Promise<string> {
    if (words.length === 1 && words[0] === '-') return readStream(process.stdin);
    if (words.length > 0) return words.join(' ');
    if (!process.stdin.isTTY) return readStream(process.stdin);
    throw usageError('nothing to explain', 'Pass the text as an argument, or pipe it with `explain -`.');
  }

  /**
   * In input order: each recognised item, and where nothing was recognised a
   * marked line. Lines of one Envoy connection ([C48]) are read together, so
   * they are shown together, under the first. Long values are shortened only
   * on a terminal; piped output stays whole.
   */
  protected override renderData(report: Report<Explanation>, paint: Painter): string | undefined {
    const data = report.data;
    if (!data) return undefined;
    const shorten = process.stdout.isTTY ? truncate : (text: string) => text;
    const entries: Array<{ line: number; text: string }> = data.unrecognised.map((text, i) => ({
      line: data.unrecognisedLines[i] ?? 0,
      text: `${paint('yellow', '? not recognised')}\n  ${text}`,
    }));
    const connections = new Map<string, { line: number; items: ExplanationItem[] }>();
    for (const item of data.items) {
      const group = item.connection ? connections.get(item.connection) : undefined;
      if (group) group.items.push(item);
      else if (item.connection) connections.set(item.connection, { line: item.line ?? 0, items: [item] });
      else entries.push({ line: item.line ?? 0, text: renderItem(item, paint, shorten) });
    }
    for (const [id, group] of connections) {
      const text = group.items.length === 1
        ? renderItem(group.items[0], paint, shorten)
        : [paint('bold', `Connection C${id}: ${group.items.length} lines`), ...group.items.map((i) => renderItem(i, paint, shorten).split('\n').map((l) => `  ${l}`).join('\n'))].join('\n\n');
      entries.push({ line: group.line, text });
    }
    return entries.sort((a, b) => a.line - b.line).map((e) => e.text).join('\n\n') || undefined;
  }
}

function renderItem(item: ExplanationItem, paint: Painter, shorten: (text: string, max: number) => string): string {
  const lines = [paint('bold', item.title), paint('gray', `  ${shorten(item.input, 140)}`)];
  if (item.fields.length) {
    const table = plainTable(['FIELD', 'VALUE', 'MEANING'], item.fields.map((f) => [f.name, shorten(f.value, 60), f.meaning ?? '']));
    lines.push(...table.split('\n').map((l) => `  ${l}`));
  }
  lines.push(`  Means: ${item.meaning}`);
  if (item.inMesh) lines.push(`  In a mesh: ${item.inMesh}`);
  for (const next of item.next) {
    lines.push(`  Next: ${next.diagnosis ? `kubectl mesh-doctor ${next.diagnosis}` : next.command ?? ''}${next.why ? ` (${next.why})` : ''}`);
  }
  return lines.join('\n');
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 3) + '...' : text;
}
