import type { Finding } from '../findings/finding.js';
import { confidenceText, type Report, type Step } from '../report/report.js';
import { formatRef } from '../model/k8s/ref.js';
import type { Painter } from './style.js';

const STATUS_MARK: Record<Step['status'], string> = { ok: '✔', found: '✖', skipped: '–', failed: '!' };
const SEVERITY_STYLE = { error: 'red', warning: 'yellow', info: 'cyan' } as const;

/**
 * One step of the guided transcript: its title; with details, also what it
 * looked at and what it saw. A failed step always says why.
 */
export function renderStep(step: Step, paint: Painter, details = true): string {
  const markStyle = step.status === 'found' || step.status === 'failed' ? 'red' : step.status === 'skipped' ? 'gray' : 'green';
  const lines = [`${paint(markStyle, STATUS_MARK[step.status])} ${paint('bold', step.title)}`];
  if (details) {
    for (const source of step.lookedAt) lines.push(paint('gray', `    $ ${source}`));
    for (const line of step.saw) lines.push(`    ${line}`);
  } else if (step.status === 'failed') {
    for (const line of step.saw.filter((l) => l.startsWith('failed: '))) lines.push(`    ${line}`);
  }
  return lines.join('\n');
}

/** How much a person sees: a screen by default, everything with --details. */
export interface HumanOptions {
  details: boolean;
}

/**
 * A finding for people. Brief: what, where, why, the fix and how to apply it.
 * With details: each piece of evidence, once per report — a piece an earlier
 * finding showed is referred to by its source (`shown`, shared across findings).
 */
export function renderFinding(finding: Finding, paint: Painter, options: HumanOptions = { details: true }, shown = new Map<string, string>()): string {
  const lines = [
    `${paint(SEVERITY_STYLE[finding.severity], `${finding.severity.toUpperCase()} ${finding.code}`)} ${paint('bold', finding.title)}`,
    `  culprit: ${formatRef(finding.target)}`,
    ...wrapIndented(finding.message, '  '),
  ];
  if (finding.evidence.length && options.details) {
    lines.push('  evidence:');
    for (const item of finding.evidence) {
      lines.push(paint('gray', `    $ ${item.source}${item.file ? `   [${item.file}]` : ''}`));
      const key = `${item.source}\n${item.excerpt}`;
      const earlier = shown.get(key);
      if (earlier) {
        lines.push(`      (shown above under ${earlier})`);
      } else {
        shown.set(key, finding.code);
        for (const excerptLine of item.excerpt.split('\n')) lines.push(`      ${excerptLine}`);
      }
      if (item.note) lines.push(`      (${item.note})`);
    }
  } else if (finding.evidence.length) {
    lines.push(paint('gray', `  evidence: ${finding.evidence.length} piece${finding.evidence.length === 1 ? '' : 's'} (--details shows them)`));
  }
  lines.push(`  fix: ${finding.remediation.text}`);
  const { patch, command } = finding.remediation;
  // Brief: the command that applies the fix stands for its patch.
  if (patch && (options.details || !command)) {
    for (const patchLine of patch.trimEnd().split('\n')) lines.push(`    ${patchLine}`);
  }
  if (command) lines.push(`    $ ${command}`);
  for (const assumption of finding.assumes ?? []) lines.push(paint('gray', `  assumes: ${assumption}`));
  lines.push(paint('gray', `  docs: ${finding.docs}`));
  return lines.join('\n');
}

/** Findings, skipped rules and the verdict: what follows the transcript. */
export function renderConclusion(report: Report, paint: Painter, options: HumanOptions = { details: true }): string {
  const blocks: string[] = [];
  const shown = new Map<string, string>();
  for (const finding of report.findings) blocks.push(renderFinding(finding, paint, options, shown));
  if (report.skipped.length && options.details) {
    blocks.push(['Skipped:', ...report.skipped.map((s) => `  ${s.rule}: ${s.reason}`)].join('\n'));
  } else if (report.skipped.length) {
    blocks.push(paint('gray', `Skipped ${report.skipped.length} check${report.skipped.length === 1 ? '' : 's'} for want of evidence (--details says which and why).`));
  }
  const verdictStyle = report.verdict.status === 'problem' ? 'red' : report.verdict.status === 'healthy' ? 'green' : 'yellow';
  // Inconclusive says so in words (exit 4): what follows is not a health verdict.
  const label = report.verdict.status === 'inconclusive' ? 'Verdict (inconclusive):' : 'Verdict:';
  blocks.push(`${paint(verdictStyle, label)} ${report.verdict.summary}`);
  const confidence = confidenceText(report);
  if (confidence) blocks[blocks.length - 1] += `\n${paint('yellow', 'Confidence:')} ${confidence}`;
  return blocks.join('\n\n');
}

function wrapIndented(text: string, indent: string): string[] {
  return text.split('\n').map((line) => indent + line);
}
