/**
 * `iptables -t nat -L` with or without `-v`, `-n`, `--line-numbers`.
 */
import { ParseError } from '../../errors.js';
import { isAllProtocol, protocolName, portMatch, portRange, addressMatch } from './matches.js';
import type { Line } from './input-lines.js';
import { type Chain, type Counters, type NatTable, type Negatable, type Rule, type UnparsedLine, isBuiltinNatChain } from './types.js';

export const LIST_CHAIN_RE = /^Chain\s+(\S+)\s+\((?:policy\s+(\S+)(?:\s+(\S+)\s+packets,\s+(\S+)\s+bytes)?|(\d+)\s+references?)\)\s*$/;
const OPT_RE = /^(--|-f|!f)$/;
/** Targets whose `-L` text after the addresses is the target's, not a match. */
const TARGETS_WITH_PRINTED_OPTIONS = new Set(['LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CT', 'TRACE', 'TPROXY', 'DNAT', 'SNAT', 'MASQUERADE', 'AUDIT', 'REDIRECT']);

interface Columns {
  num: boolean;
  counters: boolean;
  via: boolean;
}

export function parseListing(lines: Line[], what: string): NatTable {
  const chains = new Map<string, Chain>();
  const unparsed: UnparsedLine[] = [];
  let chain: Chain | undefined;
  let cols: Columns | undefined;
  let numeric = true;
  for (const line of lines) {
    const text = line.text.replace(/\s+$/, '');
    if (text.trim() === '') continue;
    const head = LIST_CHAIN_RE.exec(text.trim());
    if (head) {
      chain = { name: head[1]!, builtin: isBuiltinNatChain(head[1]!), rules: [] };
      if (head[2]) chain.policy = head[2];
      if (head[3] !== undefined && head[4] !== undefined) {
        const p = listNumber(head[3]);
        const b = listNumber(head[4]);
        if (p && b) chain.policyCounters = { packets: p.n, bytes: b.n, ...(p.approx || b.approx ? { approximate: true } : {}) };
      }
      if (head[5] !== undefined) chain.references = Number(head[5]);
      chains.set(chain.name, chain);
      cols = undefined;
      continue;
    }
    if (!chain) continue; // text before the first chain: prompts, log lines
    const toks = text.trim().split(/\s+/);
    if (toks.includes('target') && toks.includes('prot') && toks.includes('source')) {
      cols = { num: toks[0] === 'num', counters: toks.includes('pkts'), via: toks.includes('in') && toks.includes('out') };
      continue;
    }
    if (!cols) {
      unparsed.push({ lineNumber: line.n, text, reason: 'rule line before the column header' });
      continue;
    }
    const rule = listRule(chain, text, cols, line.n);
    if (typeof rule === 'string') {
      unparsed.push({ lineNumber: line.n, text, reason: rule });
      continue;
    }
    if (rule.source?.host || rule.destination?.host || /anywhere/.test(text)) numeric = false;
    chain.rules.push(rule);
    rule.position = chain.rules.length;
  }
  if (chains.size === 0) throw new ParseError(what, 'no chains found in the iptables listing');
  const notes: string[] = [];
  const anyRules = [...chains.values()].some((c) => c.rules.length > 0);
  if (anyRules && [...chains.values()].some((c) => c.rules.some((r) => !r.interfacesShown))) {
    notes.push('the listing has no in/out columns (iptables -L without -v): interface conditions of the rules are unknown');
  }
  if (!numeric) notes.push('the listing resolved names (no -n); `localhost` is read as 127.0.0.1');
  // `ip6tables -L` looks the same; its addresses give it away.
  const v6 = [...chains.values()].some((c) => c.rules.some((r) => (r.source?.cidr ?? '').includes(':') || (r.destination?.cidr ?? '').includes(':') || /\s::\/0\s/.test(r.raw)));
  return { format: 'iptables-list', family: v6 ? 'ipv6' : 'ipv4', chains, unparsed, notes };
}

function listNumber(s: string): { n: number; approx: boolean } | undefined {
  const m = /^(\d+)([KMGT])?$/.exec(s);
  if (!m) return undefined;
  const mult = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as 'K' | 'M' | 'G' | 'T'] ?? 1;
  return { n: Number(m[1]) * mult, approx: m[2] !== undefined };
}

function listRule(chain: Chain, text: string, cols: Columns, lineNumber: number): Rule | string {
  const spans = [...text.matchAll(/\S+/g)].map((m) => ({ t: m[0], end: (m.index ?? 0) + m[0].length }));
  let k = 0;
  if (cols.num) {
    if (!/^\d+$/.test(spans[k]?.t ?? '')) return 'expected a rule number';
    k++;
  }
  let counters: Counters | undefined;
  if (cols.counters) {
    const p = listNumber(spans[k]?.t ?? '');
    const b = listNumber(spans[k + 1]?.t ?? '');
    if (!p || !b) return 'expected packet and byte counters';
    counters = { packets: p.n, bytes: b.n, ...(p.approx || b.approx ? { approximate: true } : {}) };
    k += 2;
  }
  // target may be empty; the opt column (`--`) tells where prot is.
  let optAt = -1;
  for (let j = k; j < Math.min(spans.length, k + 3); j++) {
    if (OPT_RE.test(spans[j]!.t) && j > k) {
      optAt = j;
      break;
    }
  }
  if (optAt < 0) return 'no opt column (`--`) where one was expected';
  const target = optAt - k === 2 ? spans[k]!.t : undefined;
  const prot = spans[optAt - 1]!.t;
  let j = optAt + 1;
  let inIf: string | undefined;
  let outIf: string | undefined;
  if (cols.via) {
    inIf = spans[j]?.t;
    outIf = spans[j + 1]?.t;
    j += 2;
  }
  const src = spans[j]?.t;
  const dst = spans[j + 1]?.t;
  if (src === undefined || dst === undefined) return 'missing source or destination';
  const extras = text.slice(spans[j + 1]!.end).trim();

  const rule: Rule = {
    chain: chain.name,
    interfacesShown: cols.via,
    matches: { modules: [], other: [] },
    targetOptions: [],
    raw: text,
    lineNumber,
    position: 0,
  };
  if (target) rule.target = target;
  if (counters) rule.counters = counters;
  const protNeg = prot.startsWith('!');
  const protName = protNeg ? prot.slice(1) : prot;
  if (!isAllProtocol(protName)) rule.protocol = { value: protocolName(protName), negated: protNeg };
  if (inIf !== undefined) {
    const n = ifaceMatch(inIf);
    if (n) rule.in = n;
  }
  if (outIf !== undefined) {
    const n = ifaceMatch(outIf);
    if (n) rule.out = n;
  }
  const s = addressMatch(src, false);
  if (s) rule.source = s;
  const d = addressMatch(dst, false);
  if (d) rule.destination = d;
  parseListExtras(rule, extras);
  return rule;
}

function ifaceMatch(v: string): Negatable<string> | undefined {
  const neg = v.startsWith('!');
  const name = neg ? v.slice(1) : v;
  if (name === 'any' || name === '*') return undefined;
  return { value: name, negated: neg };
}

/** The match and target text `iptables -L` prints after the destination column. */
function parseListExtras(rule: Rule, extras: string): void {
  let rest = extras;
  const take = (re: RegExp): RegExpExecArray | null => {
    const m = re.exec(rest);
    if (m) rest = (rest.slice(0, m.index) + ' ' + rest.slice(m.index + m[0].length)).trim();
    return m;
  };
  let m: RegExpExecArray | null;
  if ((m = take(/\/\*\s(.*?)\s\*\//))) rule.matches.comment = m[1];
  if (take(/\[goto\]/)) rule.goto = true;
  while ((m = take(/(!\s+)?owner\s+(UID|GID)\s+match\s+(\S+)/))) {
    rule.matches.modules.push('owner');
    const nm = { value: m[3]!, negated: Boolean(m[1]) };
    if (m[2] === 'UID') rule.matches.uidOwner = nm;
    else rule.matches.gidOwner = nm;
  }
  if ((m = take(/\b(tcp|udp|sctp)((?:\s+(?:spts?|dpts?):!?\S+)+)/))) {
    rule.matches.modules.push(m[1]!);
    for (const pm of m[2]!.trim().split(/\s+/)) {
      const pp = /^(spts?|dpts?):(!?)(.*)$/.exec(pm);
      if (!pp) continue;
      const port = portMatch(pp[3]!, pp[2] === '!');
      if (pp[1]!.startsWith('d')) rule.matches.dport = port;
      else rule.matches.sport = port;
    }
  }
  if ((m = take(/multiport\s+(d|s|)ports\s+(!\s*)?(\S+)/))) {
    rule.matches.modules.push('multiport');
    const pm = portMatch(m[3]!, Boolean(m[2]));
    if (m[1] === 's') rule.matches.sport = pm;
    else rule.matches.dport = pm;
  }
  if ((m = take(/redir\s+ports\s+(\S+)/))) {
    const pr = portRange(m[1]!);
    if (pr) rule.redirectPorts = pr;
    rule.targetOptions.push(m[0]);
  }
  rest = rest.trim();
  if (rest === '') return;
  if (rule.target && TARGETS_WITH_PRINTED_OPTIONS.has(rule.target)) rule.targetOptions.push(rest);
  else rule.matches.other.push(rest);
}
