import { Args } from '@oclif/core';
import { readBundled } from '../assets.js';
import { MeshDoctorCommand, type ArgsOf, type RunContext } from '../base-command.js';
import { MeshDoctorError } from '../errors.js';
import { CATALOG, docsPath } from '../findings/catalog.js';
import type { Painter } from '../render/style.js';
import { plainTable } from '../render/table.js';
import { buildReport, type Report } from '../report/report.js';

interface DocsData {
  code?: string;
  title?: string;
  severity?: string;
  /** The finding's page (Markdown). */
  page?: string;
  catalog?: Array<{ code: string; severity: string; title: string }>;
}

/** A finding's page from the catalog, read from the package or from inside the single executable. */
export default class Docs extends MeshDoctorCommand {
  static summary = "Print a finding's documentation page (what it means, why, the evidence, the fix); without a code, list every code";
  static examples = ['<%= config.bin %> docs MD1002', '<%= config.bin %> docs', '<%= config.bin %> docs md3001 -o json'];
  static args = { code: Args.string({ description: 'a finding code such as MD1002', required: false }) };

  protected async diagnose({ args }: RunContext<object, ArgsOf<typeof Docs>>): Promise<Report<DocsData>> {
    const base = { command: 'docs', source: { mode: 'none', label: 'finding catalog' } } as const;
    if (!args.code) {
      const catalog = [...CATALOG.values()].map((e) => ({ code: e.code, severity: e.severity, title: e.title }));
      return buildReport<DocsData>({ ...base, verdict: { status: 'informational', summary: `${catalog.length} finding codes` }, data: { catalog } });
    }
    const code = args.code.toUpperCase();
    const entry = CATALOG.get(code);
    const page = entry ? await readBundled(this.config.root, docsPath(code)) : undefined;
    if (!entry || page === undefined) {
      throw new MeshDoctorError('not-found', `no finding code ${args.code}`, { suggestion: 'Run `kubectl mesh-doctor docs` to list every code.' });
    }
    return buildReport<DocsData>({ ...base, subject: code, verdict: { status: 'informational', summary: `${code}: ${entry.title}` }, data: { code, title: entry.title, severity: entry.severity, page } });
  }

  protected override renderData(report: Report<DocsData>): string | undefined {
    const data = report.data;
    if (data?.page) return data.page.trimEnd();
    return data?.catalog ? plainTable(['CODE', 'SEVERITY', 'TITLE'], data.catalog.map((e) => [e.code, e.severity, e.title])) : undefined;
  }

  protected override renderConclusion(_report: Report, _paint: Painter): string {
    return '';
  }
}
