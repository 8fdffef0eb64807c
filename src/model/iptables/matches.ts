/**
 * The match parts of a rule, shared by the iptables-save and the -L parsers: protocols,
 * ports and port ranges (service names as iptables prints them), addresses and CIDRs.
 */
import ipaddr from 'ipaddr.js';
import { type AddressFamily, type AddressMatch, type PortMatch, type PortRange } from './types.js';

export function quoteIfNeeded(s: string): string {
  return /\s/.test(s) || s === '' ? JSON.stringify(s) : s;
}

export function isAllProtocol(p: string): boolean {
  return p === 'all' || p === '0';
}

export function protocolName(p: string): string {
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

export function portMatch(text: string, negated: boolean): PortMatch {
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

export function portRange(s: string): PortRange | undefined {
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
