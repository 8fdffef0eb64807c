/**
 * Print a NatTable back the way people know it:
 * - formatChains: `iptables -t nat -L -v` (the layout seed 001 quotes), column
 *   widths and counter rounding as iptables' own print_header/print_firewall and
 *   xtables_print_num do (`%5llu`, `%4lluK` after (n+500)/1000, `%-9s` target,
 *   `%-5s` prot, ` %-6s ` in, `%-6s ` out, `%-19s ` addresses);
 * - ruleToSave: one rule as an `iptables-save` line (`-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN`).
 */
import { PORT_SERVICE_NAMES } from './parse.js';
import type { AddressMatch, Chain, Counters, NatTable, PortMatch, Rule } from './types.js';

export interface FormatChainsOptions {
  /** `-n`: numeric addresses, ports and `*` for any interface. Default false (like the seed). */
  numeric?: boolean;
  /** `--line-numbers`. Default false. */
  lineNumbers?: boolean;
  /** `-v`: counters and in/out columns. Default true (like the seed). */
  verbose?: boolean;
}

export function formatChains(table: NatTable, options: FormatChainsOptions = {}): string {
  const numeric = options.numeric ?? false;
  const lineNumbers = options.lineNumbers ?? false;
  const verbose = options.verbose ?? true;
  const refs = referenceCounts(table);
  const blocks: string[] = [];
  for (const chain of orderedChains(table)) {
    const lines: string[] = [chainHeader(chain, refs.get(chain.name) ?? 0, verbose)];
    let h = '';
    if (lineNumbers) h += pad('num', 4) + ' ';
    if (verbose) h += `${'pkts'.padStart(5)} ${'bytes'.padStart(5)} `;
    h += pad('target', 9) + ' ' + ' prot ' + 'opt';
    if (verbose) h += ` ${pad('in', 6)} ${pad('out', 6)} `;
    h += ` ${pad('source', 19)} `;
    h += ` ${pad('destination', 19)} `;
    lines.push(h);
    for (const rule of chain.rules) lines.push(ruleLine(rule, { numeric, lineNumbers, verbose }));
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n') + '\n';
}

/** Builtin chains first in the kernel's order, then user chains in the order iptables lists them (sorted by name). */
function orderedChains(table: NatTable): Chain[] {
  const builtin = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((n) => table.chains.get(n)).filter((c): c is Chain => c !== undefined);
  const user = [...table.chains.values()].filter((c) => !c.builtin).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...builtin, ...user];
}

export function referenceCounts(table: NatTable): Map<string, number> {
  const refs = new Map<string, number>();
  for (const c of table.chains.values()) for (const r of c.rules) if (r.target && table.chains.has(r.target)) refs.set(r.target, (refs.get(r.target) ?? 0) + 1);
  return refs;
}

function chainHeader(chain: Chain, computedRefs: number, verbose: boolean): string {
  if (chain.builtin) {
    // Istio's restore input and command logs do not say the policy; the nat table's builtin policy is ACCEPT
    // in practice (iptables(8): the nat table does not allow DROP), marked "?" so nobody mistakes it for data.
    const policy = chain.policy ?? 'ACCEPT?';
    if (!verbose) return `Chain ${chain.name} (policy ${policy})`;
    const c = chain.policyCounters ?? { packets: 0, bytes: 0 };
    return `Chain ${chain.name} (policy ${policy} ${num(c.packets, false)}packets, ${num(c.bytes, false)}bytes)`;
  }
  return `Chain ${chain.name} (${chain.references ?? computedRefs} references)`;
}

/** xtables_print_num with FMT_KILOMEGAGIGA: padded in tables, not in the chain header. */
function num(n: number, table: boolean): string {
  let v = Math.max(0, Math.floor(n));
  if (v <= 99999) return table ? `${String(v).padStart(5)} ` : `${v} `;
  for (const unit of ['K', 'M', 'G', 'T']) {
    v = Math.floor((v + 500) / 1000);
    if (v <= 9999 || unit === 'T') return table ? `${String(v).padStart(4)}${unit} ` : `${v}${unit} `;
  }
  return `${v} `;
}

function pad(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

function ruleLine(rule: Rule, o: { numeric: boolean; lineNumbers: boolean; verbose: boolean }): string {
  let s = '';
  if (o.lineNumbers) s += pad(String(rule.position), 4) + ' ';
  if (o.verbose) {
    const c: Counters = rule.counters ?? { packets: 0, bytes: 0 };
    s += num(c.packets, true) + num(c.bytes, true);
  }
  s += pad(rule.target ?? '', 9) + ' ';
  s += rule.protocol?.negated ? '!' : ' ';
  s += pad(rule.protocol?.value ?? 'all', 5);
  s += '-- ';
  if (o.verbose) {
    const any = o.numeric ? '*' : 'any';
    const ifc = (m: Rule['in']): string => (m ? (m.negated ? '!' : '') + m.value : any);
    s += ` ${pad(ifc(rule.in), 6)} `;
    s += `${pad(ifc(rule.out), 6)} `;
  }
  s += addressColumn(rule.source, o.numeric);
  s += addressColumn(rule.destination, o.numeric);
  const extras = extrasText(rule, o.numeric);
  if (extras) s += extras;
  return s;
}

function addressColumn(a: AddressMatch | undefined, numeric: boolean): string {
  const inv = a?.negated ? '!' : ' ';
  let text: string;
  if (!a) text = numeric ? '0.0.0.0/0' : 'anywhere';
  else if (a.cidr === '') text = a.host ?? '?';
  else {
    const [addr, prefix] = a.cidr.split('/');
    const full = (a.cidr.includes(':') ? '128' : '32') === prefix;
    if (!numeric && (a.cidr === '127.0.0.1/32' || a.cidr === '::1/128')) text = a.host ?? 'localhost';
    else text = full ? addr! : a.cidr;
  }
  return `${inv}${pad(text, 19)} `;
}

function portText(p: PortMatch, numeric: boolean): string {
  return p.ranges
    .map(([a, b]) => (a === b ? (numeric ? String(a) : (PORT_SERVICE_NAMES[a] ?? String(a))) : `${a}:${b}`))
    .concat(p.unresolved ?? [])
    .join(',');
}

function extrasText(rule: Rule, numeric: boolean): string {
  const parts: string[] = [];
  const m = rule.matches;
  if (m.dport || m.sport) {
    const multi = (m.dport?.ranges.length ?? 0) > 1 || (m.sport?.ranges.length ?? 0) > 1;
    const proto = rule.protocol?.value ?? 'tcp';
    if (multi) {
      if (m.dport) parts.push(`multiport dports ${m.dport.negated ? '!' : ''}${portText(m.dport, numeric)}`);
      if (m.sport) parts.push(`multiport sports ${m.sport.negated ? '!' : ''}${portText(m.sport, numeric)}`);
    } else {
      const pp: string[] = [proto];
      const one = (name: string, p: PortMatch): string => {
        const r = p.ranges[0];
        const inv = p.negated ? '!' : '';
        if (r && r[0] !== r[1]) return `${name}s:${inv}${r[0]}:${r[1]}`;
        return `${name}:${inv}${portText(p, numeric)}`;
      };
      if (m.sport) pp.push(one('spt', m.sport));
      if (m.dport) pp.push(one('dpt', m.dport));
      parts.push(pp.join(' '));
    }
  }
  if (m.uidOwner) parts.push(`${m.uidOwner.negated ? '! ' : ''}owner UID match ${m.uidOwner.value}`);
  if (m.gidOwner) parts.push(`${m.gidOwner.negated ? '! ' : ''}owner GID match ${m.gidOwner.value}`);
  if (m.comment !== undefined) parts.push(`/* ${m.comment} */`);
  parts.push(...m.other);
  if (rule.redirectPorts) {
    const r = rule.redirectPorts;
    parts.push(`redir ports ${r.from === r.to ? r.from : `${r.from}-${r.to}`}`);
  } else if (rule.targetOptions.length > 0) parts.push(rule.targetOptions.join(' '));
  if (rule.goto) parts.push('[goto]');
  return parts.length > 0 ? ' ' + parts.join(' ') : '';
}

/** One rule in iptables-save syntax; the reader's common language for "which rule". */
export function ruleToSave(rule: Rule): string {
  const p: string[] = [`-A ${rule.chain}`];
  const neg = (n: boolean): string => (n ? '! ' : '');
  if (rule.source) p.push(`${neg(rule.source.negated)}-s ${rule.source.cidr || rule.source.host}`);
  if (rule.destination) p.push(`${neg(rule.destination.negated)}-d ${rule.destination.cidr || rule.destination.host}`);
  if (rule.in) p.push(`${neg(rule.in.negated)}-i ${rule.in.value}`);
  if (rule.out) p.push(`${neg(rule.out.negated)}-o ${rule.out.value}`);
  if (rule.protocol) p.push(`${neg(rule.protocol.negated)}-p ${rule.protocol.value}`);
  const m = rule.matches;
  if (m.dport || m.sport) {
    const multi = (m.dport?.ranges.length ?? 0) > 1 || (m.sport?.ranges.length ?? 0) > 1;
    p.push(`-m ${multi ? 'multiport' : (rule.protocol?.value ?? 'tcp')}`);
    const pt = (x: PortMatch): string => x.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).concat(x.unresolved ?? []).join(',');
    if (m.sport) p.push(`${neg(m.sport.negated)}--sport${multi ? 's' : ''} ${pt(m.sport)}`);
    if (m.dport) p.push(`${neg(m.dport.negated)}--dport${multi ? 's' : ''} ${pt(m.dport)}`);
  }
  if (m.uidOwner || m.gidOwner) {
    p.push('-m owner');
    if (m.uidOwner) p.push(`${neg(m.uidOwner.negated)}--uid-owner ${m.uidOwner.value}`);
    if (m.gidOwner) p.push(`${neg(m.gidOwner.negated)}--gid-owner ${m.gidOwner.value}`);
  }
  if (m.comment !== undefined) p.push(`-m comment --comment ${JSON.stringify(m.comment)}`);
  p.push(...m.other);
  if (rule.target) {
    p.push(`${rule.goto ? '-g' : '-j'} ${rule.target}`);
    if (rule.redirectPorts) {
      const r = rule.redirectPorts;
      p.push(`--to-ports ${r.from === r.to ? r.from : `${r.from}-${r.to}`}`);
    } else if (rule.targetOptions.length > 0) p.push(...rule.targetOptions);
  }
  return p.join(' ');
}
