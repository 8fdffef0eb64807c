/**
 * Parse a pod's nat table from what people and tools actually have:
 *
 * - `iptables-save` output (`*nat`, `:CHAIN POLICY [p:b]`, `-A ...`, `COMMIT`);
 * - the istio-init container log. Checked against istio/istio
 *   tools/istio-iptables: 1.10-era `pkg/cmd/run.go` prints "Writing following
 *   contents to rules file: <path>" then the iptables-restore input (`* nat`,
 *   `-N`, `-A`, `COMMIT`), every command it runs as `<cmd> <args>` and finally
 *   runs `iptables-save` with stdout to the log; without `--restore-format` it
 *   runs `iptables -t nat -A ...` one by one (testdata/logging.golden). Later
 *   releases log through istio's logger: `<ts>\tinfo\tRunning iptables-restore
 *   with the following input:` then the input, `Running command (with wait
 *   lock): ...`, and `Command output: ` followed by the iptables-save dump
 *   (pkg/dependencies/implementation_linux.go).
 *   When a log holds several, the last IPv4 `iptables-save` dump of the nat
 *   table wins (it is the state after istio-init ran), then the restore input,
 *   then the commands;
 * - `iptables -t nat -S` (`-P`, `-N`, `-A` lines);
 * - `iptables -t nat -L` with or without `-v`, `-n`, `--line-numbers`.
 *
 * Unknown lines and options are kept (raw, `unparsed`, `matches.other`), never
 * fatal. Input with no nat rules at all is a ParseError.
 */
import ipaddr from 'ipaddr.js';
import { ParseError } from '../../errors.js';
import {
  type AddressFamily,
  type AddressMatch,
  type Chain,
  type Counters,
  type NatTable,
  type Negatable,
  type PortMatch,
  type PortRange,
  type Rule,
  type TableFormat,
  type UnparsedLine,
  isBuiltinNatChain,
} from './types.js';

export * from './types.js';

export interface ParseNatTableOptions {
  /** Which family to pick when the input holds both (istio-init logs ip6tables too). Default ipv4. */
  family?: AddressFamily;
  /** Names the input in errors, e.g. "istio-init log of productpage-v1-123". */
  what?: string;
}

const MAX_INPUT_CHARS = 20_000_000;

export function parseNatTable(text: unknown, options: ParseNatTableOptions = {}): NatTable {
  const what = options.what ?? 'nat table';
  if (typeof text !== 'string') throw new ParseError(what, `expected text, got ${text === null ? 'null' : typeof text}`);
  if (text.length > MAX_INPUT_CHARS) throw new ParseError(what, `input is ${text.length} characters, more than the ${MAX_INPUT_CHARS} this parser reads`);
  const lines = logicalLines(text);
  if (lines.some((l) => LIST_CHAIN_RE.test(l.text))) return parseListing(lines, what);
  return parseRuleText(lines, what, options.family ?? 'ipv4');
}

// ---------------------------------------------------------------------------
// Input lines: undo log wrapping (JSON log lines, timestamps, kubectl prefixes)

interface Line {
  /** 1-based line number in the original input. */
  n: number;
  text: string;
}

const TS_PREFIX_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s+/;
const LEVEL_PREFIX_RE = /^(?:debug|info|warn|warning|error|fatal)\s+/i;
const KUBECTL_PREFIX_RE = /^\[pod\/[^\]\s]+\]\s/;

function logicalLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i]!;
    t = t.replace(KUBECTL_PREFIX_RE, '');
    const trimmed = t.trim();
    // istio's logger with --log_as_json: one JSON object per line, the message (with newlines) in "msg".
    if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
      const msg = jsonMessage(trimmed);
      if (msg !== undefined) {
        for (const m of msg.split(/\r?\n/)) out.push({ n: i + 1, text: stripLogPrefix(m) });
        continue;
      }
    }
    out.push({ n: i + 1, text: stripLogPrefix(t) });
  }
  return out;
}

function jsonMessage(s: string): string | undefined {
  try {
    const v: unknown = JSON.parse(s);
    if (v && typeof v === 'object' && typeof (v as { msg?: unknown }).msg === 'string') return (v as { msg: string }).msg;
  } catch {
    // not JSON: an ordinary line that happens to start with '{'
  }
  return undefined;
}

function stripLogPrefix(t: string): string {
  let s = t.replace(KUBECTL_PREFIX_RE, '');
  if (TS_PREFIX_RE.test(s)) {
    s = s.replace(TS_PREFIX_RE, '');
    s = s.replace(LEVEL_PREFIX_RE, '');
  }
  return s.replace(/\s+$/, '');
}

// ---------------------------------------------------------------------------
// iptables-save / restore input / commands

const TABLE_HEADER_RE = /^\*\s?([a-z]+)\s*$/;
const CHAIN_DECL_RE = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/;
const RULE_LINE_RE = /^(?:\[(\d+):(\d+)\]\s+)?(-[AINPDFXRZ]|--append|--insert|--new-chain|--policy)\s+\S/;
const COMMAND_RE = /(?:^|[\s$#>])(ip6?tables)(?:-legacy|-nft)?\s+(.*)$/;
/** Lines after a prefix we do not know (stern's "pod container ", etc.): find where the iptables text starts. */
const EMBEDDED_RE = /\s(\*\s?nat\s*$|:[A-Z][A-Z0-9_-]*\s+(?:ACCEPT|DROP|RETURN|-)\s+\[\d+:\d+\]\s*$|-[AIN]\s+[A-Za-z][\w-]*(?:\s|$)|COMMIT\s*$)/;

type SectionKind = 'save' | 'restore' | 'commands' | 'loose';

interface Section {
  kind: SectionKind;
  table: string;
  family: AddressFamily;
  chains: Map<string, Chain>;
  unparsed: UnparsedLine[];
  startLine: number;
  ruleCount: number;
}

function newSection(kind: SectionKind, table: string, family: AddressFamily, startLine: number): Section {
  return { kind, table, family, chains: new Map(), unparsed: [], startLine, ruleCount: 0 };
}

function parseRuleText(lines: Line[], what: string, family: AddressFamily): NatTable {
  const sections: Section[] = [];
  let current: Section | undefined;
  let contextFamily: AddressFamily = 'ipv4';
  const commandSections = new Map<AddressFamily, Section>();
  let loose: Section | undefined;

  for (const line of lines) {
    let text = line.text.trim();
    if (text === '') continue;
    // Context: which tool the following dump/input belongs to.
    if (/ip6tables/.test(text)) contextFamily = 'ipv6';
    else if (/\biptables\b|iptables-(?:save|restore|rules)/.test(text)) contextFamily = 'ipv4';

    if (text.startsWith('#')) continue; // iptables-save comments ("# Generated by iptables-save v1.8.4 ...")

    // A command line: `iptables -t nat -A ISTIO_OUTPUT ...` (possibly after "Running command: ").
    const cmd = COMMAND_RE.exec(text);
    if (cmd && !RULE_LINE_RE.test(text)) {
      const fam: AddressFamily = cmd[1] === 'ip6tables' ? 'ipv6' : 'ipv4';
      const args = tokenize(cmd[2]!);
      const tIdx = args.findIndex((a) => a === '-t' || a === '--table');
      const table = tIdx >= 0 ? (args[tIdx + 1] ?? '') : 'filter';
      const rest = tIdx >= 0 ? [...args.slice(0, tIdx), ...args.slice(tIdx + 2)] : args;
      if (rest.length > 0 && /^(-[AINP]|--append|--insert|--new-chain|--policy)$/.test(rest[0]!)) {
        if (table !== 'nat') continue;
        let sec = commandSections.get(fam);
        if (!sec) {
          sec = newSection('commands', 'nat', fam, line.n);
          commandSections.set(fam, sec);
          sections.push(sec);
        }
        applyRuleTokens(sec, rest, cmd[0].trim(), line.n);
      }
      continue;
    }

    if (!startsWithIptablesToken(text)) {
      const m = EMBEDDED_RE.exec(text);
      if (!m) continue; // surrounding log text
      text = text.slice(m.index + 1).trim();
    }

    const header = TABLE_HEADER_RE.exec(text);
    if (header) {
      // A section is an iptables-save dump once it declares chains (`:NAME POLICY [p:b]`); until then restore input.
      current = newSection('restore', header[1]!, contextFamily, line.n);
      sections.push(current);
      continue;
    }
    if (text === 'COMMIT') {
      current = undefined;
      continue;
    }
    const decl = CHAIN_DECL_RE.exec(text);
    if (decl) {
      const sec = current ?? (loose ??= pushLoose(sections, contextFamily, line.n));
      if (sec.kind === 'restore') sec.kind = 'save';
      const chain = ensureChain(sec, decl[1]!);
      if (decl[2] !== '-') chain.policy = decl[2];
      if (decl[3] !== undefined) chain.policyCounters = { packets: Number(decl[3]), bytes: Number(decl[4]) };
      continue;
    }
    if (RULE_LINE_RE.test(text)) {
      const sec = current ?? (loose ??= pushLoose(sections, contextFamily, line.n));
      const counters = /^\[(\d+):(\d+)\]\s+/.exec(text);
      const body = counters ? text.slice(counters[0].length) : text;
      applyRuleTokens(sec, tokenize(body), text, line.n, counters ? { packets: Number(counters[1]), bytes: Number(counters[2]) } : undefined);
      continue;
    }
    if (current) current.unparsed.push({ lineNumber: line.n, text, reason: 'not an iptables-save line' });
  }

  return chooseSection(sections, what, family);
}

function pushLoose(sections: Section[], family: AddressFamily, n: number): Section {
  const s = newSection('loose', 'nat', family, n);
  sections.push(s);
  return s;
}

function startsWithIptablesToken(text: string): boolean {
  return TABLE_HEADER_RE.test(text) || text === 'COMMIT' || CHAIN_DECL_RE.test(text) || RULE_LINE_RE.test(text);
}

function chooseSection(sections: Section[], what: string, family: AddressFamily): NatTable {
  const nat = sections.filter((s) => s.table === 'nat' && (s.chains.size > 0 || s.kind === 'save'));
  if (nat.length === 0) {
    const tables = [...new Set(sections.map((s) => s.table))];
    if (tables.length > 0) throw new ParseError(what, `no nat table in the input (found: ${tables.join(', ')})`, { suggestion: 'Capture it with `iptables-save -t nat` or `iptables -t nat -L -v -n`.' });
    throw new ParseError(what, 'no iptables nat rules found in the input', {
      suggestion: 'Give `iptables-save` output, `iptables -t nat -L -v`, or the istio-init container log.',
    });
  }
  const ofFamily = nat.filter((s) => s.family === family);
  const notes: string[] = [];
  if (ofFamily.length === 0) {
    throw new ParseError(what, `no ${family} nat table in the input (only ${[...new Set(nat.map((s) => s.family))].join(', ')})`);
  }
  const saves = ofFamily.filter((s) => s.kind === 'save');
  const restores = ofFamily.filter((s) => s.kind === 'restore');
  const commands = ofFamily.filter((s) => s.kind === 'commands');
  const looses = ofFamily.filter((s) => s.kind === 'loose');
  let chosen: Section;
  let format: TableFormat;
  if (saves.length > 0) {
    chosen = saves[saves.length - 1]!;
    format = 'iptables-save';
    if (saves.length > 1 || restores.length > 0 || commands.length > 0) {
      notes.push(`used the iptables-save dump at line ${chosen.startLine} (the last one: the state after istio-init ran)`);
    }
  } else if (restores.length > 0) {
    chosen = restores.length === 1 ? restores[0]! : mergeSections(restores);
    format = 'iptables-restore';
    notes.push('read from the iptables-restore input istio-init logged; builtin chain policies are not in it');
  } else if (commands.length > 0) {
    chosen = commands[0]!;
    format = 'iptables-commands';
    notes.push('read from iptables commands; builtin chain policies are not in them');
  } else {
    chosen = looses.length === 1 ? looses[0]! : mergeSections(looses);
    format = 'iptables-commands'; // `iptables -t nat -S` prints rule specs (-P/-N/-A) without a table header
    notes.push('rules had no `*nat` header; assumed they are the nat table');
  }
  return { format, family, chains: chosen.chains, unparsed: chosen.unparsed, notes };
}

function mergeSections(sections: Section[]): Section {
  const merged = newSection(sections[0]!.kind, 'nat', sections[0]!.family, sections[0]!.startLine);
  for (const s of sections) {
    for (const c of s.chains.values()) {
      const into = ensureChain(merged, c.name);
      if (c.policy) into.policy = c.policy;
      for (const r of c.rules) {
        into.rules.push({ ...r, position: into.rules.length + 1 });
      }
    }
    merged.unparsed.push(...s.unparsed);
  }
  return merged;
}

function ensureChain(sec: Section, name: string): Chain {
  let c = sec.chains.get(name);
  if (!c) {
    c = { name, builtin: isBuiltinNatChain(name), rules: [] };
    sec.chains.set(name, c);
  }
  return c;
}

/** Apply one `-A/-I/-N/-P` statement (tokens start at the command option). */
function applyRuleTokens(sec: Section, tokens: string[], raw: string, lineNumber: number, counters?: Counters): void {
  const op = tokens[0]!;
  const chainName = tokens[1];
  if (!chainName || chainName.startsWith('-')) {
    sec.unparsed.push({ lineNumber, text: raw, reason: `${op} without a chain name` });
    return;
  }
  switch (op) {
    case '-N':
    case '--new-chain':
      ensureChain(sec, chainName);
      return;
    case '-P':
    case '--policy': {
      const c = ensureChain(sec, chainName);
      if (tokens[2]) c.policy = tokens[2];
      return;
    }
    case '-A':
    case '--append':
    case '-I':
    case '--insert': {
      const chain = ensureChain(sec, chainName);
      let args = tokens.slice(2);
      let insertAt: number | undefined;
      if (op === '-I' || op === '--insert') {
        insertAt = 1;
        if (args[0] !== undefined && /^\d+$/.test(args[0])) {
          insertAt = Number(args[0]);
          args = args.slice(1);
        }
      }
      const rule = ruleFromArgs(chainName, args, raw, lineNumber);
      if (counters) rule.counters = counters;
      if (insertAt === undefined || insertAt > chain.rules.length) chain.rules.push(rule);
      else chain.rules.splice(Math.max(0, insertAt - 1), 0, rule);
      chain.rules.forEach((r, i) => (r.position = i + 1));
      sec.ruleCount++;
      return;
    }
    default:
      // -D/-F/-X/-R/-Z: deletions and flushes are not replayed; say so.
      sec.unparsed.push({ lineNumber, text: raw, reason: `${op} is not replayed by this parser` });
  }
}

/** Split like a shell would for iptables-save output: whitespace, "double" and 'single' quotes. */
export function tokenize(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inTok = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '"' || ch === "'") {
      inTok = true;
      const close = ch;
      i++;
      while (i < s.length && s[i] !== close) {
        if (close === '"' && s[i] === '\\' && i + 1 < s.length) i++;
        cur += s[i];
        i++;
      }
      continue;
    }
    if (/\s/.test(ch)) {
      if (inTok) out.push(cur);
      cur = '';
      inTok = false;
      continue;
    }
    cur += ch;
    inTok = true;
  }
  if (inTok) out.push(cur);
  return out;
}

/** Options that take one value, so an unknown module option can be told from its value. */
function ruleFromArgs(chain: string, args: string[], raw: string, lineNumber: number): Rule {
  const rule: Rule = {
    chain,
    interfacesShown: true,
    matches: { modules: [], other: [] },
    targetOptions: [],
    raw,
    lineNumber,
    position: 0,
  };
  let negate = false;
  let i = 0;
  const value = (): { v: string | undefined; neg: boolean } => {
    // Old iptables accepted the '!' after the option: `-s ! 1.2.3.4`.
    let v = args[++i];
    let neg = negate;
    if (v === '!') {
      neg = !neg;
      v = args[++i];
    }
    negate = false;
    return { v, neg };
  };
  while (i < args.length) {
    const tok = args[i]!;
    if (tok === '!') {
      negate = true;
      i++;
      continue;
    }
    switch (tok) {
      case '-p':
      case '--protocol': {
        const { v, neg } = value();
        if (v !== undefined && !isAllProtocol(v)) rule.protocol = { value: protocolName(v), negated: neg };
        break;
      }
      case '-s':
      case '--source':
      case '--src': {
        const { v, neg } = value();
        if (v !== undefined) rule.source = addressMatch(v, neg);
        break;
      }
      case '-d':
      case '--destination':
      case '--dst': {
        const { v, neg } = value();
        if (v !== undefined) rule.destination = addressMatch(v, neg);
        break;
      }
      case '-i':
      case '--in-interface': {
        const { v, neg } = value();
        if (v !== undefined) rule.in = { value: v, negated: neg };
        break;
      }
      case '-o':
      case '--out-interface': {
        const { v, neg } = value();
        if (v !== undefined) rule.out = { value: v, negated: neg };
        break;
      }
      case '-m':
      case '--match': {
        const { v } = value();
        if (v !== undefined) rule.matches.modules.push(v);
        break;
      }
      case '--uid-owner': {
        const { v, neg } = value();
        if (v !== undefined) rule.matches.uidOwner = { value: v, negated: neg };
        break;
      }
      case '--gid-owner': {
        const { v, neg } = value();
        if (v !== undefined) rule.matches.gidOwner = { value: v, negated: neg };
        break;
      }
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports': {
        const { v, neg } = value();
        if (v !== undefined) rule.matches.dport = portMatch(v, neg);
        break;
      }
      case '--sport':
      case '--source-port':
      case '--sports':
      case '--source-ports': {
        const { v, neg } = value();
        if (v !== undefined) rule.matches.sport = portMatch(v, neg);
        break;
      }
      case '--comment': {
        const { v } = value();
        if (v !== undefined) rule.matches.comment = v;
        break;
      }
      case '-c':
      case '--set-counters': {
        const p = args[++i];
        const b = args[++i];
        if (p !== undefined && b !== undefined && /^\d+$/.test(p) && /^\d+$/.test(b)) rule.counters = { packets: Number(p), bytes: Number(b) };
        break;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        const { v } = value();
        if (v !== undefined) rule.target = v;
        if (tok === '-g' || tok === '--goto') rule.goto = true;
        // Everything after the target is the target's options.
        const rest = args.slice(i + 1);
        rule.targetOptions.push(...rest.map(quoteIfNeeded));
        const to = rest.findIndex((a) => a === '--to-ports' || a === '--to-port');
        if (to >= 0 && rest[to + 1] !== undefined) {
          const pr = portRange(rest[to + 1]!);
          if (pr) rule.redirectPorts = pr;
        }
        i = args.length;
        continue;
      }
      default: {
        // An option this model does not interpret: keep it with its values.
        const parts = [negate ? `! ${tok}` : tok];
        negate = false;
        while (i + 1 < args.length && !args[i + 1]!.startsWith('-') && args[i + 1] !== '!') parts.push(quoteIfNeeded(args[++i]!));
        rule.matches.other.push(parts.join(' '));
      }
    }
    i++;
  }
  return rule;
}

function quoteIfNeeded(s: string): string {
  return /\s/.test(s) || s === '' ? JSON.stringify(s) : s;
}

function isAllProtocol(p: string): boolean {
  return p === 'all' || p === '0';
}

function protocolName(p: string): string {
  const lower = p.toLowerCase();
  if (lower === '6') return 'tcp';
  if (lower === '17') return 'udp';
  if (lower === '1') return 'icmp';
  return lower;
}

/** `/etc/services` names iptables prints without -n; only the ones a pod's nat table plausibly shows. */
const SERVICE_PORTS: Record<string, number> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  https: 443,
  'http-alt': 8080,
  webcache: 8080,
  mysql: 3306,
  postgresql: 5432,
};

export const PORT_SERVICE_NAMES: Record<number, string> = { 21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'domain', 80: 'http', 443: 'https', 3306: 'mysql', 5432: 'postgresql' };

function portNumber(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n <= 65535 ? n : undefined;
  }
  return SERVICE_PORTS[s.toLowerCase()];
}

function portMatch(text: string, negated: boolean): PortMatch {
  let t = text;
  let neg = negated;
  if (t.startsWith('!')) {
    neg = !neg;
    t = t.slice(1);
  }
  const ranges: Array<[number, number]> = [];
  const unresolved: string[] = [];
  for (const part of t.split(',')) {
    if (part === '') continue;
    const [a, b] = part.split(':');
    const from = portNumber(a ?? '');
    const to = b === undefined ? from : b === '' ? 65535 : portNumber(b);
    if (from === undefined || to === undefined) unresolved.push(part);
    else ranges.push([Math.min(from, to), Math.max(from, to)]);
  }
  const pm: PortMatch = { ranges, negated: neg, text: t };
  if (unresolved.length > 0) pm.unresolved = unresolved;
  return pm;
}

function portRange(s: string): PortRange | undefined {
  const m = /^(\d+)(?:[-:](\d+))?$/.exec(s);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > 65535 || to > 65535) return undefined;
  return { from, to };
}

/** Normalize an address as iptables prints or takes it. `anywhere` and /0 mean "no constraint" (undefined). */
export function addressMatch(value: string, negated: boolean, family: AddressFamily = 'ipv4'): AddressMatch | undefined {
  let v = value;
  let neg = negated;
  if (v.startsWith('!')) {
    neg = !neg;
    v = v.slice(1);
  }
  if (v === 'anywhere') return undefined;
  if (v === 'localhost' || v === 'ip6-localhost' || v === 'ip6-loopback') {
    const v6 = v !== 'localhost' || family === 'ipv6';
    return { cidr: v6 ? '::1/128' : '127.0.0.1/32', negated: neg, host: v };
  }
  const cidr = normalizeCidr(v);
  if (cidr === undefined) return { cidr: '', negated: neg, host: v };
  if (cidr.endsWith('/0')) return neg ? { cidr, negated: neg } : undefined;
  return { cidr, negated: neg };
}

export function normalizeCidr(v: string): string | undefined {
  const slash = v.indexOf('/');
  const addr = slash >= 0 ? v.slice(0, slash) : v;
  const mask = slash >= 0 ? v.slice(slash + 1) : undefined;
  if (!ipaddr.isValid(addr)) return undefined;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(addr);
  } catch {
    return undefined;
  }
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  let prefix = max;
  if (mask !== undefined) {
    if (/^\d+$/.test(mask)) prefix = Number(mask);
    else if (parsed.kind() === 'ipv4' && ipaddr.IPv4.isValidFourPartDecimal(mask)) {
      const p = ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask();
      if (p === null) return undefined;
      prefix = p;
    } else return undefined;
  }
  if (prefix > max) return undefined;
  return `${parsed.toString()}/${prefix}`;
}

// ---------------------------------------------------------------------------
// iptables -t nat -L [-v] [-n] [--line-numbers]

const LIST_CHAIN_RE = /^Chain\s+(\S+)\s+\((?:policy\s+(\S+)(?:\s+(\S+)\s+packets,\s+(\S+)\s+bytes)?|(\d+)\s+references?)\)\s*$/;
const OPT_RE = /^(--|-f|!f)$/;
/** Targets whose `-L` text after the addresses is the target's, not a match. */
const TARGETS_WITH_PRINTED_OPTIONS = new Set(['LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CT', 'TRACE', 'TPROXY', 'DNAT', 'SNAT', 'MASQUERADE', 'AUDIT', 'REDIRECT']);

interface Columns {
  num: boolean;
  counters: boolean;
  via: boolean;
}

function parseListing(lines: Line[], what: string): NatTable {
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
