/**
 * Listening TCP sockets of a pod, from whatever the user or the snapshot has:
 * - `ss -ltn` / `ss -ltnH` / `ss -ltnp` (with or without the Netid column,
 *   `users:(("envoy",pid=18,fd=38))`, `[::]:15020`, `*:15020`, `127.0.0.1%lo:53`);
 * - `netstat -ltn` / `-tlnp` / `-natpw` (only LISTEN rows; `PID/Program name`;
 *   `:::15020`; without -n: `localhost:15053`, `[::]:15001`);
 * - `/proc/net/tcp` and `/proc/net/tcp6` (hex addresses, st 0A = LISTEN; what
 *   distroless proxies still have), both files concatenated is fine.
 *
 * Why it matters (incident 2): before Istio 1.10 the sidecar forwarded inbound
 * requests to 127.0.0.1:PORT, from 1.10 to POD_IP:PORT. An app bound only to
 * 127.0.0.1 is reachable in the first case and not in the second.
 */
import ipaddr from 'ipaddr.js';
import { ParseError } from '../errors.js';

export type SocketSource = 'ss' | 'netstat' | 'proc-net-tcp';

export interface ListeningSocket {
  /** Normalized address: `0.0.0.0`, `::`, `127.0.0.1`, `10.0.0.5`; a name netstat printed without -n stays as printed. */
  address: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  process?: string;
  pid?: number;
  /** /proc/net/tcp gives the socket owner's uid (1337 = istio-proxy). */
  uid?: number;
  /** Accepts only connections to a loopback address (127.0.0.0/8, ::1, ::ffff:127.x). */
  loopbackOnly: boolean;
  /** Bound to every address (0.0.0.0, ::, *). On Linux `::` also takes IPv4 unless bindv6only=1. */
  wildcard: boolean;
  /** Scope interface (`127.0.0.53%lo`). */
  interface?: string;
  source: SocketSource;
  raw: string;
  lineNumber: number;
}

export function parseListeningSockets(text: unknown, what = 'listening sockets'): ListeningSocket[] {
  if (typeof text !== 'string') throw new ParseError(what, `expected text, got ${text === null ? 'null' : typeof text}`);
  const lines = text.split(/\r?\n/);
  const out: ListeningSocket[] = [];
  let recognized = false;
  let procHeader = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\s+$/, '');
    const t = raw.trim();
    if (t === '') continue;
    if (/^sl\s+local_address\s+rem_address\s+st\b/.test(t)) {
      procHeader = recognized = true;
      continue;
    }
    if (/^(Netid\s+)?State\s+Recv-Q\s+Send-Q\s+Local\s+Address:Port/.test(t) || /^Proto\s+Recv-Q\s+Send-Q\s+Local Address/.test(t) || /^Active (Internet|UNIX)/.test(t)) {
      recognized = true;
      continue;
    }
    const proc = procLine(t, i + 1, raw);
    if (proc !== undefined) {
      recognized = true;
      if (proc) out.push(proc);
      continue;
    }
    if (procHeader && /^\d+:/.test(t)) continue; // a /proc row we could not read: not fatal
    const ns = netstatLine(t, i + 1, raw);
    if (ns !== undefined) {
      recognized = true;
      if (ns) out.push(ns);
      continue;
    }
    const s = ssLine(t, i + 1, raw);
    if (s !== undefined) {
      recognized = true;
      if (s) out.push(s);
    }
  }
  if (!recognized) {
    throw new ParseError(what, 'no ss, netstat or /proc/net/tcp output found', {
      suggestion: 'Capture it with `ss -ltnp`, `netstat -ltnp` or `cat /proc/net/tcp /proc/net/tcp6` in the istio-proxy container.',
    });
  }
  return out;
}

// --- ss -------------------------------------------------------------------

const SS_STATES = new Set(['LISTEN', 'ESTAB', 'UNCONN', 'TIME-WAIT', 'CLOSE-WAIT', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'LAST-ACK', 'CLOSING', 'CLOSED']);

/** undefined: not an ss row; null: an ss row that is not a listening TCP socket. */
function ssLine(t: string, n: number, raw: string): ListeningSocket | null | undefined {
  const toks = t.split(/\s+/);
  let k = 0;
  let netid: string | undefined;
  if (/^(tcp|udp|raw|u_str|u_dgr|u_seq|nl|p_raw|p_dgr|mptcp|sctp|tcp6|udp6)$/.test(toks[0]!) && SS_STATES.has(toks[1] ?? '')) {
    netid = toks[0];
    k = 1;
  }
  const state = toks[k];
  if (!state || !SS_STATES.has(state)) return undefined;
  if (!/^\d+$/.test(toks[k + 1] ?? '') || !/^\d+$/.test(toks[k + 2] ?? '')) return undefined;
  const local = toks[k + 3];
  if (!local) return undefined;
  if (state !== 'LISTEN' || (netid && !netid.startsWith('tcp'))) return null;
  const ep = endpoint(local);
  if (!ep) return undefined;
  const rest = toks.slice(k + 5).join(' ');
  const users = /users:\(\("([^"]*)",pid=(\d+)/.exec(rest);
  return socket(ep, { process: users?.[1], pid: users ? Number(users[2]) : undefined }, 'ss', raw, n);
}

// --- netstat ----------------------------------------------------------------

function netstatLine(t: string, n: number, raw: string): ListeningSocket | null | undefined {
  const m = /^(tcp6?|udp6?|raw6?)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+(.*))?$/.exec(t);
  if (!m) return undefined;
  const proto = m[1]!;
  const state = m[6];
  if (!proto.startsWith('tcp') || state !== 'LISTEN') return null;
  const ep = endpoint(m[4]!, proto === 'tcp6' ? 'ipv6' : 'ipv4');
  if (!ep) return undefined;
  const pp = /^(\d+)\/(.+)$/.exec((m[7] ?? '').trim());
  return socket(ep, { process: pp?.[2]?.trim(), pid: pp ? Number(pp[1]) : undefined }, 'netstat', raw, n);
}

// --- /proc/net/tcp ------------------------------------------------------------

function procLine(t: string, n: number, raw: string): ListeningSocket | null | undefined {
  const m = /^\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+[0-9A-Fa-f]+:[0-9A-Fa-f]{4}\s+([0-9A-Fa-f]{2})\s+\S+\s+\S+\s+\S+\s+(\d+)/.exec(t);
  if (!m) return undefined;
  if (m[3]!.toUpperCase() !== '0A') return null; // 0A = TCP_LISTEN
  const hex = m[1]!;
  const address = hex.length === 8 ? procIPv4(hex) : procIPv6(hex);
  const ep = { address, port: parseInt(m[2]!, 16), family: (hex.length === 8 ? 'ipv4' : 'ipv6') as 'ipv4' | 'ipv6' };
  return socket(ep, { uid: Number(m[4]) }, 'proc-net-tcp', raw, n);
}

/**
 * The kernel prints each 32-bit word of the address in host byte order; every
 * platform Kubernetes nodes run on (x86-64, arm64) is little-endian, so the
 * bytes of each word are reversed: 0100007F = 127.0.0.1.
 */
function procIPv4(hex: string): string {
  const b = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)).reverse();
  return b.join('.');
}

function procIPv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const wb = [0, 2, 4, 6].map((i) => parseInt(word.slice(i, i + 2), 16)).reverse();
    bytes.push(...wb);
  }
  return displayAddress(ipaddr.fromByteArray(bytes));
}

/** Keep IPv4-mapped addresses readable (::ffff:127.0.0.1, not ::ffff:7f00:1). */
function displayAddress(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return `::ffff:${(ip as ipaddr.IPv6).toIPv4Address().toString()}`;
  return ip.toString();
}

// --- common -------------------------------------------------------------------

interface Endpoint {
  address: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  iface?: string;
}

/** `0.0.0.0:15001`, `[::]:15020`, `:::15020`, `*:15020`, `127.0.0.53%lo:53`, `[fe80::1]%eth0:80`, `localhost:15053`. */
function endpoint(s: string, hint?: 'ipv4' | 'ipv6'): Endpoint | undefined {
  const i = s.lastIndexOf(':');
  if (i <= 0 && !s.startsWith('*')) return undefined;
  const portText = s.slice(i + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined;
  let host = s.slice(0, i);
  let iface: string | undefined;
  const pct = /^(.*?)%([^\]]+)$/.exec(host);
  if (pct) {
    host = pct[1]!;
    iface = pct[2];
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  let address: string;
  let family: 'ipv4' | 'ipv6';
  if (host === '*' || host === '') {
    address = hint === 'ipv4' ? '0.0.0.0' : '::';
    family = hint ?? 'ipv6';
  } else if (ipaddr.isValid(host)) {
    const ip = ipaddr.parse(host);
    address = displayAddress(ip);
    family = ip.kind();
  } else if (/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host)) {
    // netstat without -n prints names; localhost is the one we can resolve without the pod's /etc/hosts.
    address = host === 'localhost' ? (hint === 'ipv6' ? '::1' : '127.0.0.1') : host;
    family = hint ?? (address.includes(':') ? 'ipv6' : 'ipv4');
  } else return undefined;
  return { address, port: Number(portText), family, ...(iface ? { iface } : {}) };
}

function socket(
  ep: Endpoint,
  who: { process?: string; pid?: number; uid?: number },
  source: SocketSource,
  raw: string,
  lineNumber: number,
): ListeningSocket {
  const s: ListeningSocket = {
    address: ep.address,
    port: ep.port,
    family: ep.family,
    loopbackOnly: isLoopback(ep.address),
    wildcard: ep.address === '0.0.0.0' || ep.address === '::',
    source,
    raw,
    lineNumber,
  };
  if (who.process !== undefined && who.process !== '-' && who.process !== '') s.process = who.process;
  if (who.pid !== undefined) s.pid = who.pid;
  if (who.uid !== undefined) s.uid = who.uid;
  if (ep.iface) s.interface = ep.iface;
  return s;
}

function isLoopback(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'loopback';
}

export interface PortListeners {
  port: number;
  /** Every socket listening on the port. */
  sockets: ListeningSocket[];
  /** Something listens on 0.0.0.0 / :: (every address: the pod IP and 127.0.0.1). */
  wildcard: boolean;
  /**
   * The specific non-loopback address a socket is bound to: the pod IP when `options.podIp` is given and
   * matches; without `options.podIp`, the first such address (assumed to be the pod IP).
   */
  podIp?: string;
  /** Sockets exist and every one is bound to a loopback address: unreachable from other pods, and from Istio 1.10+ sidecars. */
  loopbackOnly: boolean;
  /** Specific non-loopback addresses other than the given pod IP. */
  otherAddresses: string[];
  /** Istio 1.10+ forwards inbound traffic to POD_IP:port; true when something accepts it there. */
  reachableAtPodIp: boolean;
  /** Istio before 1.10 forwarded to 127.0.0.1:port; true when something accepts it there. */
  reachableAtLocalhost: boolean;
}

/** Who listens on `port`, in the terms Istio's inbound forwarding cares about. */
export function whoListensOn(sockets: readonly ListeningSocket[], port: number, options: { podIp?: string } = {}): PortListeners {
  const wantedPodIp = options.podIp !== undefined && ipaddr.isValid(options.podIp) ? ipaddr.process(options.podIp).toString() : undefined;
  const on = sockets.filter((s) => s.port === port);
  const specific = on.filter((s) => !s.wildcard && !s.loopbackOnly).map((s) => normalized(s.address));
  const podIp = wantedPodIp !== undefined ? specific.find((a) => a === wantedPodIp) : specific[0];
  const r: PortListeners = {
    port,
    sockets: on,
    wildcard: on.some((s) => s.wildcard),
    loopbackOnly: on.length > 0 && on.every((s) => s.loopbackOnly),
    otherAddresses: [...new Set(specific.filter((a) => a !== podIp))],
    reachableAtPodIp: false,
    reachableAtLocalhost: false,
  };
  if (podIp !== undefined) r.podIp = podIp;
  r.reachableAtPodIp = r.wildcard || podIp !== undefined;
  r.reachableAtLocalhost = r.wildcard || on.some((s) => s.loopbackOnly && normalized(s.address) === '127.0.0.1');
  return r;
}

function normalized(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}
