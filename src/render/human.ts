import type { Finding } from '../findings/finding.js';
import type { Report, Step } from '../report/report.js';
import { formatRef } from '../model/k8s/resources.js';
import type { Painter } from './style.js';

const STATUS_MARK: Record<Step['status'], string> = { ok: '✔', found: '✖', skipped: '–', failed: '!' };
const SEVERITY_STYLE = { error: 'red', warning: 'yellow', info: 'cyan' } as const;

/** One step of the guided transcript: its title, what it looked at, what it saw. */
export function renderStep(step: Step, paint: Painter): string {
  const markStyle = step.status === 'found' || step.status === 'failed' ? 'red' : step.status === 'skipped' ? 'gray' : 'green';
  const lines = [`${paint(markStyle, STATUS_MARK[step.status])} ${paint('bold', step.title)}`];
  for (const source of step.lookedAt) lines.push(paint('gray', `    $ ${source}`));
  for (const line of step.saw) lines.push(`    ${line}`);
  return lines.join('\n');
}

export function renderFinding(finding: Finding, paint: Painter): string {
  const lines = [
    `${paint(SEVERITY_STYLE[finding.severity], `${finding.severity.toUpperCase()} ${finding.code}`)} ${paint('bold', finding.title)}`,
    `  culprit: ${formatRef(finding.target)}`,
    ...wrapIndented(finding.message, '  '),
  ];
  if (finding.evidence.length) {
    lines.push('  evidence:');
    for (const item of finding.evidence) {
      lines.push(paint('gray', `    $ ${item.source}${item.file ? `   [${item.file}]` : ''}`));
      for (const excerptLine of item.excerpt.split('\n')) lines.push(`      ${excerptLine}`);
      if (item.note) lines.push(`      (${item.note})`);
    }
  }
  lines.push(`  fix: ${finding.remediation.text}`);
  if (finding.remediation.patch) {
    for (const patchLine of finding.remediation.patch.trimEnd().split('\n')) lines.push(`    ${patchLine}`);
  }
  if (finding.remediation.command) lines.push(`    $ ${finding.remediation.command}`);
  for (const assumption of finding.assumes ?? []) lines.push(paint('gray', `  assumes: ${assumption}`));
  lines.push(paint('gray', `  docs: ${finding.docs}`));
  return lines.join('\n');
}

/** Findings, skipped rules and the verdict: what follows the transcript. */
export function renderConclusion(report: Report, paint: Painter): string {
  const blocks: string[] = [];
  for (const finding of report.findings) blocks.push(renderFinding(finding, paint));
  if (report.skipped.length) {
    blocks.push(['Skipped:', ...report.skipped.map((s) => `  ${s.rule}: ${s.reason}`)].join('\n'));
  }
  const verdictStyle = report.verdict.status === 'problem' ? 'red' : report.verdict.status === 'healthy' ? 'green' : 'yellow';
  blocks.push(`${paint(verdictStyle, 'Verdict:')} ${report.verdict.summary}`);
  return blocks.join('\n\n');
}

function wrapIndented(text: string, indent: string): string[] {
  return text.split('\n').map((line) => indent + line);
}
