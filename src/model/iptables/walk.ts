/**
 * Walk one packet through a pod's nat table, rule by rule, the way netfilter
 * does: from the builtin chain of the hook, into jumped-to chains, back on
 * RETURN (or at a user chain's end), to the builtin chain's policy. Every rule
 * looked at becomes a step with the reason it matched or not, so the output
 * reads like seed 001's hand walk.
 *
 * Loops: Istio 1.10 moved inbound forwarding from 127.0.0.1 to the pod IP and
 * bound the upstream side to 127.0.0.6 so that ISTIO_OUTPUT's first rule
 * (`-o lo -s 127.0.0.6/32 -j RETURN`) lets it through; traffic from the proxy
 * (uid 1337) to a non-localhost address on `lo` otherwise matches
 * `-o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT` and
 * comes back to Envoy on 15006 (istio/istio#30226; the inbound-forwarding
 * design doc quoted in seed 001).
 */
import ipaddr from 'ipaddr.js';
import { ParseError } from '../../errors.js';
import { ruleToSave } from './format.js';
import type { AddressMatch, Chain, NatTable, Negatable, PortMatch, PortRange, Rule } from './types.js';

export type Hook = 'PREROUTING' | 'OUTPUT';

export interface Packet {
  src: string;
  dst: string;
  dport?: number;
  sport?: number;
  /** Default tcp. */
  proto?: string;
  /** The sending socket's owner (OUTPUT only). */
  uid?: number;
  gid?: number;
  inInterface?: string;
  outInterface?: string;
}

export interface WalkOptions {
  hook: Hook;
  /** Istio's proxy uid/gid (istio-iptables -u/-g; 1337 by default). */
  proxyUid?: number;
  proxyGid?: number;
  /** Envoy's capture ports; a proxy packet redirected to one of them is a loop. Default 15001 and 15006. */
  capturePorts?: number[];
}

export type StepAction =
  | 'jump'
  | 'goto'
  | 'return'
  | 'redirect'
  | 'dnat'
  | 'accept'
  | 'drop'
  | 'continue'
  | 'next'
  | 'end-of-chain'
  | 'policy';

export interface WalkStep {
  chain: string;
  /** Undefined for end-of-chain and policy steps. */
  rule?: Rule;
  matched: boolean;
  why: string;
  action: StepAction;
  /** The verdict of this step rests on an assumption (unknown uid, interface, unreadable match). */
  assumed?: boolean;
}

export interface RuleRef {
  chain: string;
  position: number;
  rule: Rule;
}

export type Verdict =
  | ({ kind: 'REDIRECT'; port: number; ports: PortRange } & RuleRef)
  | ({ kind: 'DNAT'; to: string } & RuleRef)
  /** An explicit RETURN sent the packet back to the builtin chain, which then ended at its policy: not NATed. */
  | { kind: 'RETURN'; returnedBy: RuleRef; chain: string; policy: string; policyAssumed: boolean }
  /** Reached an ACCEPT rule, or the builtin chain's policy without an explicit RETURN: not NATed. */
  | { kind: 'ACCEPT'; chain: string; by: 'rule' | 'policy'; rule?: RuleRef; policyAssumed?: boolean }
  | { kind: 'DROP'; chain: string; by: 'rule' | 'policy'; rule?: RuleRef }
  /** The table could not be walked to the end (jump cycle, runaway depth). */
  | { kind: 'UNRESOLVED'; reason: string };

export interface PacketWalk {
  hook: Hook;
  packet: Packet;
  steps: WalkStep[];
  verdict: Verdict;
  /** Chains entered, in order (`OUTPUT`, `ISTIO_OUTPUT`, `ISTIO_IN_REDIRECT`). */
  path: string[];
  loop: boolean;
  loopReason?: string;
  /** What the walk had to assume (inferred interface, unknown uid...). */
  assumptions: string[];
}

const NON_TERMINATING = new Set(['LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CT', 'TRACE', 'AUDIT', 'NOTRACK', 'CLASSIFY', 'TOS', 'TTL', 'DSCP']);
const MAX_DEPTH = 64;
const MAX_STEPS = 100_000;

export function walkPacket(table: NatTable, packet: Packet, options: WalkOptions): PacketWalk {
  return new PacketWalker(table, packet, options).walk();
}

interface Frame {
  chain: string;
  index: number;
}

/** A rule that matched, with what the step for it carries whatever its target. */
interface MatchedRule {
  chain: Chain;
  rule: Rule;
  ref: RuleRef;
  why: string;
  base: Pick<WalkStep, 'chain' | 'rule' | 'matched' | 'assumed'>;
}

/** One walk's state: the chain stack, the steps so far, what was assumed, the last explicit RETURN. */
class PacketWalker {
  private readonly hook: Hook;
  private readonly pkt: Packet;
  private readonly steps: WalkStep[] = [];
  private readonly path: string[];
  private readonly assumptions: string[] = [];
  private readonly stack: Frame[];
  private lastReturn: RuleRef | undefined;

  constructor(
    private readonly table: NatTable,
    private readonly packet: Packet,
    private readonly options: WalkOptions,
  ) {
    this.hook = options.hook;
    this.path = [this.hook];
    this.stack = [{ chain: this.hook, index: 0 }];
    this.pkt = { ...packet, proto: (packet.proto ?? 'tcp').toLowerCase() };
    if (this.hook === 'OUTPUT' && this.pkt.outInterface === undefined && isLoopback(this.pkt.dst)) {
      this.pkt.outInterface = 'lo';
      this.assumptions.push(`out interface taken as lo (destination ${this.pkt.dst} is a loopback address)`);
    }
  }

  walk(): PacketWalk {
    if (!this.table.chains.has(this.hook)) {
      this.steps.push({ chain: this.hook, matched: false, why: `chain ${this.hook} is not in the table: nothing in it can NAT the packet`, action: 'policy', assumed: true });
      return this.result({ kind: 'ACCEPT', chain: this.hook, by: 'policy', policyAssumed: true });
    }
    let count = 0;
    while (this.stack.length > 0) {
      if (++count > MAX_STEPS) return this.result({ kind: 'UNRESOLVED', reason: `gave up after ${MAX_STEPS} rules` });
      const frame = this.stack[this.stack.length - 1]!;
      const chain = this.table.chains.get(frame.chain)!;
      const rule = chain.rules[frame.index];
      const verdict = rule ? this.lookAt(frame, chain, rule) : this.endOfChain(chain);
      if (verdict) return this.result(verdict);
    }
    return this.result({ kind: 'UNRESOLVED', reason: 'walk ended without a verdict' });
  }

  /** End of chain: a user chain returns to its caller; a builtin chain applies its policy. */
  private endOfChain(chain: Chain): Verdict | undefined {
    if (this.stack.length > 1) {
      this.steps.push({ chain: chain.name, matched: true, why: `end of ${chain.name}: back to ${this.stack[this.stack.length - 2]!.chain}`, action: 'end-of-chain' });
      this.stack.pop();
      return undefined;
    }
    const policy = chain.policy ?? 'ACCEPT';
    const policyAssumed = chain.policy === undefined;
    if (policyAssumed) this.assumptions.push(`${chain.name} policy taken as ACCEPT (not in the input; the nat table does not allow DROP)`);
    this.steps.push({ chain: chain.name, matched: true, why: `end of ${chain.name}: policy ${policy}${policyAssumed ? ' (assumed)' : ''}`, action: 'policy' });
    if (policy === 'DROP') return { kind: 'DROP', chain: chain.name, by: 'policy' };
    if (this.lastReturn) return { kind: 'RETURN', returnedBy: this.lastReturn, chain: chain.name, policy, policyAssumed };
    return { kind: 'ACCEPT', chain: chain.name, by: 'policy', policyAssumed };
  }

  /** One rule: a step saying whether it matched, then its target's effect. */
  private lookAt(frame: Frame, chain: Chain, rule: Rule): Verdict | undefined {
    frame.index++;
    const ev = evaluate(rule, this.pkt, this.hook);
    const assumed = ev.assumed ? { assumed: true } : {};
    if (!ev.matched) {
      this.steps.push({ chain: chain.name, rule, matched: false, why: ev.why, action: 'next', ...assumed });
      return undefined;
    }
    const matched: MatchedRule = { chain, rule, ref: { chain: chain.name, position: rule.position, rule }, why: ev.why, base: { chain: chain.name, rule, matched: true, ...assumed } };
    const target = rule.target;
    if (target === undefined) {
      this.steps.push({ ...matched.base, why: `${ev.why}; no target (counts only)`, action: 'continue' });
      return undefined;
    }
    if (this.table.chains.has(target)) return this.jump(frame, matched, target);
    return this.builtinTarget(frame, matched, target);
  }

  /** -j/-g to a user chain. */
  private jump(frame: Frame, { chain, rule, why, base }: MatchedRule, target: string): Verdict | undefined {
    const stack = this.stack;
    if (stack.some((f) => f.chain === target)) return { kind: 'UNRESOLVED', reason: `jump loop: ${[...stack.map((f) => f.chain), target].join(' -> ')}` };
    if (stack.length >= MAX_DEPTH) return { kind: 'UNRESOLVED', reason: `chains nest deeper than ${MAX_DEPTH}` };
    this.steps.push({ ...base, why: `${why} -> ${rule.goto ? 'goto' : 'jump to'} ${target}`, action: rule.goto ? 'goto' : 'jump' });
    // -g: no return to this chain; at a builtin chain that means its policy applies when the target ends.
    if (rule.goto) {
      if (stack.length > 1) stack.pop();
      else frame.index = chain.rules.length;
    }
    stack.push({ chain: target, index: 0 });
    this.path.push(target);
    return undefined;
  }

  /** A target that is not a chain of the table: RETURN, a terminating verdict, or a non-terminating extension. */
  private builtinTarget(frame: Frame, { chain, rule, ref, why, base }: MatchedRule, target: string): Verdict | undefined {
    const stack = this.stack;
    switch (target) {
      case 'RETURN':
        this.lastReturn = ref;
        if (stack.length === 1) {
          this.steps.push({ ...base, why: `${why} -> RETURN in a builtin chain: policy applies`, action: 'return' });
          frame.index = chain.rules.length;
        } else {
          this.steps.push({ ...base, why: `${why} -> RETURN to ${stack[stack.length - 2]!.chain}`, action: 'return' });
          stack.pop();
        }
        return undefined;
      case 'ACCEPT':
        this.steps.push({ ...base, why: `${why} -> ACCEPT`, action: 'accept' });
        return { kind: 'ACCEPT', chain: chain.name, by: 'rule', rule: ref };
      case 'DROP':
      case 'REJECT':
        this.steps.push({ ...base, why: `${why} -> ${target}`, action: 'drop' });
        return { kind: 'DROP', chain: chain.name, by: 'rule', rule: ref };
      case 'REDIRECT': {
        // REDIRECT without --to-ports keeps the destination port (iptables-extensions(8)).
        const ports = rule.redirectPorts ?? (this.pkt.dport !== undefined ? { from: this.pkt.dport, to: this.pkt.dport } : undefined);
        const port = ports?.from ?? 0;
        this.steps.push({ ...base, why: `${why} -> REDIRECT to port ${port || '(unchanged)'}`, action: 'redirect' });
        return { kind: 'REDIRECT', port, ports: ports ?? { from: 0, to: 0 }, ...ref };
      }
      case 'DNAT': {
        const to = targetOption(rule, '--to-destination') ?? rule.targetOptions.join(' ');
        this.steps.push({ ...base, why: `${why} -> DNAT ${to}`, action: 'dnat' });
        return { kind: 'DNAT', to, ...ref };
      }
      case 'SNAT':
      case 'MASQUERADE':
        this.steps.push({ ...base, why: `${why} -> ${target} (source rewritten, destination unchanged)`, action: 'accept' });
        return { kind: 'ACCEPT', chain: chain.name, by: 'rule', rule: ref };
      default:
        if (NON_TERMINATING.has(target)) {
          this.steps.push({ ...base, why: `${why} -> ${target} (does not stop the walk)`, action: 'continue' });
        } else {
          this.assumptions.push(`target ${target} of ${chain.name} rule ${rule.position} is neither a chain in the input nor a known target; the walk went on past it`);
          this.steps.push({ ...base, why: `${why} -> ${target}: not in the input; treated as returning`, action: 'continue', assumed: true });
        }
        return undefined;
    }
  }

  /** The walk's result; a proxy packet redirected back to Envoy's capture ports is a loop. */
  private result(verdict: Verdict): PacketWalk {
    const { hook, packet, steps, path, assumptions, pkt } = this;
    const w: PacketWalk = { hook, packet, steps, verdict, path, loop: false, assumptions };
    if (verdict.kind !== 'REDIRECT' || hook !== 'OUTPUT') return w;
    const proxyUid = this.options.proxyUid ?? 1337;
    const proxyGid = this.options.proxyGid ?? 1337;
    const capturePorts = this.options.capturePorts ?? [15001, 15006];
    const byProxy = pkt.uid === proxyUid || pkt.gid === proxyGid;
    if (byProxy && (capturePorts.includes(verdict.port) || verdict.port === pkt.dport)) {
      w.loop = true;
      w.loopReason =
        `a packet the proxy itself sends (${pkt.uid === proxyUid ? `uid ${proxyUid}` : `gid ${proxyGid}`}) is redirected back to Envoy on ${verdict.port}` +
        ` by ${verdict.chain} rule ${verdict.position}: Envoy's forwarded connection comes back into Envoy (an iptables loop).` +
        ' This is only intended for the proxy calling its own pod through a Service VIP (app -> Envoy -> Envoy -> app).';
    }
    return w;
  }
}

function targetOption(rule: Rule, name: string): string | undefined {
  const i = rule.targetOptions.indexOf(name);
  return i >= 0 ? rule.targetOptions[i + 1] : undefined;
}

interface Evaluation {
  matched: boolean;
  why: string;
  assumed?: boolean;
}

const UNDERSTOOD_MODULES = new Set(['owner', 'tcp', 'udp', 'sctp', 'comment', 'multiport']);

function evaluate(rule: Rule, pkt: Packet, hook: Hook): Evaluation {
  const ok: string[] = [];
  let assumed = false;
  const no = (why: string, isAssumed = false): Evaluation => ({ matched: false, why, ...(isAssumed || assumed ? { assumed: true } : {}) });

  if (rule.protocol) {
    const is = pkt.proto === rule.protocol.value;
    if (is === rule.protocol.negated) return no(`protocol ${pkt.proto} ${rule.protocol.negated ? 'is' : 'is not'} ${rule.protocol.value}`);
    ok.push(`${rule.protocol.negated ? 'not ' : ''}${rule.protocol.value}`);
  }
  for (const dir of ['in', 'out'] as const) {
    const m = rule[dir];
    if (!rule.interfacesShown) continue;
    if (!m) continue;
    const ifName = dir === 'in' ? pkt.inInterface : pkt.outInterface;
    if (dir === 'in' && hook === 'OUTPUT') return no(`-i never matches in OUTPUT`);
    if (dir === 'out' && hook === 'PREROUTING') return no(`-o never matches in PREROUTING`);
    if (ifName === undefined) return no(`the packet's ${dir} interface is not given; the rule needs ${neg(m)}${m.value}`, true);
    const is = ifaceMatches(m.value, ifName);
    if (is === m.negated) return no(`${dir} interface ${ifName} ${m.negated ? 'is' : 'is not'} ${m.value}`);
    ok.push(`${dir} ${neg(m)}${m.value}`);
  }
  if (!rule.interfacesShown && (rule.in || rule.out)) assumed = true;

  for (const [label, am, addr] of [
    ['source', rule.source, pkt.src],
    ['destination', rule.destination, pkt.dst],
  ] as const) {
    if (!am) continue;
    const r = addressIn(addr, am);
    if (r === undefined) return no(`cannot tell whether ${label} ${addr} is ${am.host ?? am.cidr} (a name; give -n output); assumed not to match`, true);
    if (r === am.negated) {
      const net = `${am.cidr}${am.host ? ` (${am.host})` : ''}`;
      return no(r ? `${label} ${addr} is in ${net}; the rule wants any other ${label}` : `${label} ${addr} is not in ${net}`);
    }
    ok.push(`${label} ${addr} ${am.negated ? 'not in' : 'in'} ${am.cidr}`);
  }

  for (const [label, m, id] of [
    ['UID', rule.matches.uidOwner, pkt.uid],
    ['GID', rule.matches.gidOwner, pkt.gid],
  ] as const) {
    if (!m) continue;
    // The owner match looks at the local socket that sent the packet: none exists in PREROUTING,
    // and then the match fails even when negated (xt_owner: no skb->sk -> false).
    if (hook === 'PREROUTING') return no(`owner ${label} match never matches in PREROUTING (no local socket)`);
    if (id === undefined) return no(`the packet's ${label.toLowerCase()} is not given; owner ${label} match treated as not matching`, true);
    const inRange = ownerMatches(m.value, id);
    if (inRange === undefined) return no(`owner ${label} ${m.value} is a name this tool cannot resolve; assumed not to match`, true);
    if (inRange === m.negated) {
      const l = label.toLowerCase();
      return no(inRange ? `${l} ${id} is ${m.value}; the rule wants any other ${l}` : `${l} ${id} is not ${m.value}`);
    }
    ok.push(`${label.toLowerCase()} ${id} ${m.negated ? 'is not' : 'is'} ${m.value}`);
  }

  for (const [label, m, port] of [
    ['source port', rule.matches.sport, pkt.sport],
    ['destination port', rule.matches.dport, pkt.dport],
  ] as const) {
    if (!m) continue;
    if (pkt.proto !== 'tcp' && pkt.proto !== 'udp' && pkt.proto !== 'sctp') return no(`${label} match needs tcp/udp; packet is ${pkt.proto}`);
    if (port === undefined) return no(`the packet's ${label} is not given; the rule needs ${m.negated ? '!' : ''}${m.text}`, true);
    if (m.unresolved && m.ranges.length === 0) return no(`${label} ${m.text} is a service name this tool does not know; assumed not to match`, true);
    const is = portIn(port, m);
    if (is === m.negated) return no(is ? `${label} ${port} is ${m.text}; the rule wants any other port` : `${label} ${port} is not ${m.text}`);
    ok.push(`${label} ${port} ${m.negated ? 'not ' : ''}${m.text}`);
  }

  const unknownModules = rule.matches.modules.filter((mod) => !UNDERSTOOD_MODULES.has(mod));
  if (rule.matches.other.length > 0) return no(`cannot evaluate \`${rule.matches.other.join(' ')}\`; assumed not to match`, true);
  if (unknownModules.length > 0) return no(`cannot evaluate -m ${unknownModules.join(', ')}; assumed not to match`, true);

  return { matched: true, why: ok.length > 0 ? ok.join(', ') : 'matches every packet', ...(assumed ? { assumed: true } : {}) };
}

function neg(m: Negatable<string>): string {
  return m.negated ? '!' : '';
}

function ifaceMatches(pattern: string, name: string): boolean {
  // iptables: a trailing '+' matches any interface name with that prefix.
  if (pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

function ownerMatches(value: string, id: number): boolean | undefined {
  const range = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (range) {
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    return id >= lo && id <= hi;
  }
  // `iptables -L` without -n prints the user name when /etc/passwd has it; Istio's proxy image names 1337 istio-proxy.
  if (value === 'istio-proxy') return id === 1337;
  return undefined;
}

function portIn(port: number, m: PortMatch): boolean {
  return m.ranges.some(([a, b]) => port >= a && port <= b);
}

function addressIn(addr: string, am: AddressMatch): boolean | undefined {
  if (am.cidr === '') return undefined;
  try {
    const ip = ipaddr.process(addr);
    const [net, prefix] = ipaddr.parseCIDR(am.cidr);
    const candidate = ip.kind() === net.kind() ? ip : undefined;
    if (!candidate) return false;
    return candidate.match([net, prefix]);
  } catch {
    return undefined;
  }
}

function isLoopback(addr: string): boolean {
  try {
    return ipaddr.process(addr).range() === 'loopback';
  } catch {
    return false;
  }
}

/**
 * Parse a packet written the way people say it:
 * `src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo` (also `dport=`, `sport=`,
 * `proto=`, `gid=`, `in=`; `dst=[::1]:8080`; `localhost` = 127.0.0.1).
 */
export function parsePacketSpec(spec: unknown): Packet {
  const what = 'packet spec';
  if (typeof spec !== 'string') throw new ParseError(what, 'expected text like "src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo"');
  const fields = new Map<string, string>();
  for (const part of spec.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ParseError(what, `"${part}" is not key=value`, { suggestion: 'Write it like: src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo' });
    const key = part.slice(0, eq).toLowerCase();
    const value = part.slice(eq + 1);
    if (!KNOWN_KEYS.has(key)) throw new ParseError(what, `unknown field "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
    if (fields.has(key)) throw new ParseError(what, `field "${key}" given twice`);
    if (value === '') throw new ParseError(what, `field "${key}" has no value`);
    fields.set(key, value);
  }
  const src = fields.get('src');
  const dstField = fields.get('dst');
  if (!src || !dstField) throw new ParseError(what, 'needs at least src= and dst=', { suggestion: 'Write it like: src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo' });
  // `host:port`; an IPv6 address with a port needs brackets (`[::1]:15000`), a bare one is all address.
  const srcHostPort = splitHostPort(src);
  const packet: Packet = { src: ipOf(srcHostPort.host, 'src'), dst: '' };
  if (srcHostPort.port !== undefined) packet.sport = portOf(srcHostPort.port, 'src port');
  const hostPort = splitHostPort(dstField);
  packet.dst = ipOf(hostPort.host, 'dst');
  if (hostPort.port !== undefined) packet.dport = portOf(hostPort.port, 'dst port');
  const dport = fields.get('dport');
  if (dport !== undefined) {
    const p = portOf(dport, 'dport');
    if (packet.dport !== undefined && packet.dport !== p) throw new ParseError(what, `dst port ${packet.dport} and dport=${p} disagree`);
    packet.dport = p;
  }
  const sport = fields.get('sport');
  if (sport !== undefined) {
    const p = portOf(sport, 'sport');
    if (packet.sport !== undefined && packet.sport !== p) throw new ParseError(what, `src port ${packet.sport} and sport=${p} disagree`);
    packet.sport = p;
  }
  const proto = fields.get('proto');
  if (proto !== undefined) {
    if (!/^(tcp|udp|icmp|sctp)$/i.test(proto)) throw new ParseError(what, `proto "${proto}" is not tcp, udp, sctp or icmp`);
    packet.proto = proto.toLowerCase();
  }
  const uid = fields.get('uid');
  if (uid !== undefined) packet.uid = idOf(uid, 'uid');
  const gid = fields.get('gid');
  if (gid !== undefined) packet.gid = idOf(gid, 'gid');
  const inIf = fields.get('in');
  if (inIf !== undefined) packet.inInterface = ifOf(inIf, 'in');
  const outIf = fields.get('out');
  if (outIf !== undefined) packet.outInterface = ifOf(outIf, 'out');
  return packet;

  function ipOf(v: string, field: string): string {
    if (v === 'localhost') return '127.0.0.1';
    if (!ipaddr.isValid(v)) throw new ParseError(what, `${field} "${v}" is not an IP address`);
    return ipaddr.process(v).toString();
  }
  function portOf(v: string, field: string): number {
    if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new ParseError(what, `${field} "${v}" is not a port (1-65535)`);
    return Number(v);
  }
  function idOf(v: string, field: string): number {
    if (!/^\d{1,10}$/.test(v) || Number(v) > 4294967295) throw new ParseError(what, `${field} "${v}" is not a numeric id`);
    return Number(v);
  }
  function ifOf(v: string, field: string): string {
    if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(v)) throw new ParseError(what, `${field} "${v}" is not an interface name`);
    return v;
  }
}

const KNOWN_KEYS = new Set(['src', 'dst', 'dport', 'sport', 'proto', 'uid', 'gid', 'in', 'out']);

function splitHostPort(v: string): { host: string; port?: string } {
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
  if (bracket) return bracket[2] === undefined ? { host: bracket[1]! } : { host: bracket[1]!, port: bracket[2] };
  const colons = (v.match(/:/g) ?? []).length;
  if (colons === 1) {
    const i = v.indexOf(':');
    return { host: v.slice(0, i), port: v.slice(i + 1) };
  }
  return { host: v };
}

/** The walk as text, one line per rule looked at, then the verdict. */
export function formatWalk(walk: PacketWalk): string {
  const p = walk.packet;
  const lines: string[] = [];
  const pkt = [
    `src=${p.src}${p.sport ? `:${p.sport}` : ''}`,
    `dst=${p.dst}${p.dport ? `:${p.dport}` : ''}`,
    p.proto ? `proto=${p.proto}` : '',
    p.uid !== undefined ? `uid=${p.uid}` : '',
    p.gid !== undefined ? `gid=${p.gid}` : '',
    p.inInterface ? `in=${p.inInterface}` : '',
    p.outInterface ? `out=${p.outInterface}` : '',
  ].filter(Boolean);
  lines.push(`packet ${pkt.join(' ')} at ${walk.hook}`);
  for (const s of walk.steps) {
    const where = s.rule ? `${s.chain} #${s.rule.position}` : s.chain;
    const spec = s.rule ? `  ${ruleToSave(s.rule)}` : '';
    const mark = s.rule ? (s.matched ? 'match' : 'no   ') : 'end  ';
    lines.push(`  ${mark} ${where}${spec}`);
    lines.push(`        ${s.why}${s.assumed ? ' [assumed]' : ''}`);
  }
  lines.push(`verdict: ${verdictText(walk.verdict)}`);
  if (walk.loop) lines.push(`LOOP: ${walk.loopReason}`);
  for (const a of walk.assumptions) lines.push(`assumed: ${a}`);
  return lines.join('\n') + '\n';
}

export function verdictText(v: Verdict): string {
  switch (v.kind) {
    case 'REDIRECT':
      return `REDIRECT to port ${v.port} (${v.chain} rule ${v.position})`;
    case 'DNAT':
      return `DNAT to ${v.to} (${v.chain} rule ${v.position})`;
    case 'RETURN':
      return `RETURN by ${v.returnedBy.chain} rule ${v.returnedBy.position}, then ${v.chain} policy ${v.policy}${v.policyAssumed ? ' (assumed)' : ''}: not redirected, the packet goes to its original destination`;
    case 'ACCEPT':
      return v.by === 'rule' && v.rule
        ? `ACCEPT by ${v.rule.chain} rule ${v.rule.position}: not redirected`
        : `${v.chain} policy ACCEPT${v.policyAssumed ? ' (assumed)' : ''}: not redirected`;
    case 'DROP':
      return v.rule ? `DROP by ${v.rule.chain} rule ${v.rule.position}` : `${v.chain} policy DROP`;
    case 'UNRESOLVED':
      return `unresolved: ${v.reason}`;
  }
}
