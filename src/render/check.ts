/**
 * check's grouped output, in the shape people know from `linkerd check`: a
 * group title underlined, one line per check with √ (passed), ‼ (warning),
 * × (error) or – (skipped, with why), and under a failing check each culprit:
 * the resource, the pods affected (counted, a few named), the evidence line
 * and the command that digs deeper.
 */
import type { CheckData, CheckLine, CheckStatus } from '../report/check.js';
import type { Painter } from './style.js';

const MARK: Record<CheckStatus, string> = { passed: '√', warning: '‼', error: '×', skipped: '–' };
const COLOUR = { passed: 'green', warning: 'yellow', error: 'red', skipped: 'gray' } as const;

/**
 * details: every line of every group. Without it, one screen: a group with
 * nothing to report is one line of counts, and a group with a warning or an
 * error shows those lines (with their culprits) and counts the rest.
 */
export function renderCheck(data: CheckData, paint: Painter, options: { details?: boolean } = {}): string {
  const out: string[] = [proxiesLine(data)];
  if (!options.details) {
    for (const group of data.groups) out.push(...briefGroup(group, paint));
    const skipped = data.groups.flatMap((g) => g.checks).filter((l) => l.status === 'skipped').length;
    if (skipped) out.push('', paint('gray', `(${skipped} checks skipped; --details shows every line and why)`));
    return out.join('\n').replace(/\n{3,}/g, '\n\n');
  }
  for (const group of data.groups) {
    out.push('', group.title, '-'.repeat(group.title.length));
    for (const line of group.checks) out.push(...renderLine(line, paint));
  }
  return out.join('\n');
}

function counts(lines: readonly CheckLine[], paint: Painter): string {
  const n = (status: CheckStatus) => lines.filter((l) => l.status === status).length;
  return (['passed', 'skipped'] as const).filter((st) => n(st)).map((st) => paint(COLOUR[st], `${MARK[st]} ${n(st)} ${st}`)).join(', ');
}

function briefGroup(group: CheckData['groups'][number], paint: Painter): string[] {
  const loud = group.checks.filter((l) => l.status === 'error' || l.status === 'warning');
  const quiet = group.checks.filter((l) => !loud.includes(l));
  if (!loud.length) return [`${group.title}: ${counts(quiet, paint) || 'no checks'}`];
  return ['', `${group.title}${quiet.length ? ` (also ${counts(quiet, paint)})` : ''}`, ...loud.flatMap((l) => renderLine(l, paint)), ''];
}

function proxiesLine(data: CheckData): string {
  const p = data.proxies;
  const versions = data.versions.map((v) => `${v.istio} ×${v.proxies}`).join(', ');
  return `Proxies: ${p.read} of ${p.selected} read${versions ? ` (Istio ${versions})` : ''}${p.unreadable.length ? `; ${p.unreadable.length} unreadable: ${p.unreadable.slice(0, 3).map((u) => u.pod).join(', ')}${p.unreadable.length > 3 ? ', ...' : ''}` : ''}${data.interrupted ? '; interrupted: the lines below cover the proxies checked so far' : ''}`;
}

function renderLine(line: CheckLine, paint: Painter): string[] {
  const head = `${paint(COLOUR[line.status], MARK[line.status])} ${line.code ? `${line.code} ` : ''}${line.title}`;
  const out = [line.status === 'skipped' || (line.because && line.proxies?.skipped) ? `${head}${paint('gray', `  (${line.status === 'skipped' ? 'skipped: ' : ''}${line.because})`)}` : head];
  for (const c of line.culprits) {
    const pods = c.pods.count ? `, ${c.pods.count} pod${c.pods.count > 1 ? 's' : ''}: ${c.pods.names.join(', ')}${c.pods.count > c.pods.names.length ? `, +${c.pods.count - c.pods.names.length} more` : ''}` : '';
    out.push(`    ${paint(c.severity === 'error' ? 'red' : 'yellow', c.target)}${c.code !== line.code ? ` (${c.code})` : ''}${pods}`);
    if (c.evidence) out.push(paint('gray', `      evidence: ${c.evidence}`));
    out.push(`      dig deeper: ${c.next}`);
  }
  return out;
}
