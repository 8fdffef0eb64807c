import { confidenceText, type Report } from '../report/report.js';
import { formatRef } from '../model/k8s/ref.js';

/** A report as Markdown for an incident ticket: verdict first, then findings with evidence, then the steps. */
export function renderMarkdown(report: Report, dataMarkdown?: string): string {
  const out: string[] = [];
  out.push(`## mesh-doctor ${report.command}${report.subject ? `: ${report.subject}` : ''}`, '');
  out.push(`**Verdict (${report.verdict.status}):** ${report.verdict.summary}`, '');
  const confidence = confidenceText(report);
  if (confidence) out.push(`**Confidence:** ${confidence}`, '');
  out.push(`Source: ${report.source.label}${versionLine(report)}`, '');
  if (dataMarkdown) out.push(dataMarkdown, '');
  for (const f of report.findings) {
    out.push(`### ${f.severity.toUpperCase()} ${f.code}: ${f.title}`, '');
    out.push(`Culprit: \`${formatRef(f.target)}\``, '', f.message, '');
    for (const e of f.evidence) {
      out.push(`- \`${e.source}\`${e.file ? ` (${e.file})` : ''}${e.note ? ` — ${e.note}` : ''}`, '', fence(e.excerpt), '');
    }
    out.push(`**Fix:** ${f.remediation.text}`, '');
    if (f.remediation.patch) out.push(fence(f.remediation.patch, 'yaml'), '');
    if (f.remediation.command) out.push(fence(f.remediation.command, 'sh'), '');
    for (const a of f.assumes ?? []) out.push(`_Assumes: ${a}_`, '');
    out.push(`Documentation: \`${f.docs}\``, '');
  }
  if (report.skipped.length) {
    out.push('### Skipped', '', ...report.skipped.map((s) => `- ${s.rule}: ${s.reason}`), '');
  }
  if (report.steps.length) {
    out.push('### Steps', '');
    for (const step of report.steps) {
      out.push(`${report.steps.indexOf(step) + 1}. **${step.title}** (${step.status})`);
      for (const l of step.lookedAt) out.push(`   - looked at \`${l}\``);
      for (const s of step.saw) out.push(`   - ${s}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function versionLine(report: Report): string {
  const v = report.versions;
  const parts = [v?.istio && `Istio ${v.istio}${v.from ? ` (from ${v.from})` : ''}`, v?.envoy && `Envoy ${v.envoy}`, v?.skew].filter(Boolean);
  return parts.length ? ` · ${parts.join(' · ')}` : '';
}

function fence(text: string, lang = ''): string {
  const ticks = text.includes('```') ? '````' : '```';
  return `${ticks}${lang}\n${text.trimEnd()}\n${ticks}`;
}
