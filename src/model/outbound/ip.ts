/**
 * Just enough IP arithmetic for Envoy's destination-IP and source-IP matching
 * (CidrRange: address_prefix + prefix_len). IPv4 and IPv6, as BigInt.
 */
export interface ParsedIp {
  family: 4 | 6;
  value: bigint;
}

export function parseIp(text: string | undefined): ParsedIp | undefined {
  if (!text) return undefined;
  const s = text.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (!s.includes(':')) return undefined;
  // IPv6, possibly with an embedded IPv4 tail and one `::`.
  let head = s;
  let tail4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const four = parseIp(s.slice(lastColon + 1));
    if (!four || four.family !== 4) return undefined;
    tail4 = four.value;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 && missing !== 0) return undefined;
  if (missing < 0) return undefined;
  const groups = [...left, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tail4 !== undefined) value = (value & ~0xffffffffn) | tail4;
  return { family: 6, value };
}

/** True when `ip` is inside `prefix/len`; false for different families or unparsable input. */
export function cidrContains(prefix: string, prefixLen: number, ip: string): boolean {
  const p = parseIp(prefix);
  const a = parseIp(ip);
  if (!p || !a || p.family !== a.family) return false;
  const bits = p.family === 4 ? 32 : 128;
  const len = Math.max(0, Math.min(bits, prefixLen));
  if (len === 0) return true;
  const shift = BigInt(bits - len);
  return p.value >> shift === a.value >> shift;
}

export function isWildcardAddress(address: string | undefined): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::0';
}

export function sameIp(a: string | undefined, b: string | undefined): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}
