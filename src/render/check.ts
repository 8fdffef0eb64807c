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

export function renderCheck(data: CheckData, paint: Painter): string {
  const out: string[] = [proxiesLine(data)];
  for (const group of data.groups) {
    out.push('', group.title, '-'.repeat(group.title.length));
    for (const line of group.checks) out.push(...renderLine(line, paint));
  }
  return out.join('\n');
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
