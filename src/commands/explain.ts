import { Args } from '@oclif/core';
import { text as readStream } from 'node:stream/consumers';
import { MeshDoctorCommand, type RunContext } from '../base-command.js';
import { usageError } from '../errors.js';
import { explain, type Explanation } from '../explain/explain.js';
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
  ];
  static strict = false;
  static args = { text: Args.string({ description: 'the text to explain, or - for standard input', required: false }) };

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

  protected override renderData(report: Report<Explanation>, paint: Painter): string | undefined {
    const blocks: string[] = [];
    for (const item of report.data?.items ?? []) {
      const lines = [paint('bold', item.title), paint('gray', `  ${item.input.length > 140 ? item.input.slice(0, 137) + '...' : item.input}`)];
      if (item.fields.length) {
        const table = plainTable(['FIELD', 'VALUE', 'MEANING'], item.fields.map((f) => [f.name, truncate(f.value, 60), f.meaning ?? '']));
        lines.push(...table.split('\n').map((l) => `  ${l}`));
      }
      lines.push(`  Means: ${item.meaning}`, `  In a mesh: ${item.inMesh}`);
      for (const next of item.next) {
        lines.push(`  Next: ${next.diagnosis ? `kubectl mesh-doctor ${next.diagnosis}` : next.command ?? ''}${next.why ? ` (${next.why})` : ''}`);
      }
      blocks.push(lines.join('\n'));
    }
    if (report.data?.unrecognised.length) blocks.push(`Not recognised:\n${report.data.unrecognised.map((l) => `  ${l}`).join('\n')}`);
    return blocks.join('\n\n') || undefined;
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 3) + '...' : text;
}
