/**
 * An outbound connection as the app makes it, the input of the simulation:
 * where it goes (the original destination the iptables REDIRECT to 15001
 * preserves), and what Envoy's listener filters can see in its first bytes
 * (tls_inspector: transport `tls`, SNI, ALPN; http_inspector: `http/1.1` or
 * `h2c` for plaintext HTTP).
 */
export type Transport = 'tls' | 'plaintext';

export interface OutboundConnection {
  /**
   * The destination IP the app connected to. Undefined: an address no
   * per-VIP listener claims (an external host resolved by DNS), which is what
   * an app reaching a public host gets.
   */
  readonly destinationIp?: string;
  readonly port: number;
  readonly transport: Transport;
  /** TLS server name (SNI). curl sends the URL's host. */
  readonly sni?: string;
  /** HTTP Host / :authority, for plaintext HTTP (and for HTTP inside TLS when Envoy terminates it, which sidecars do not outbound). */
  readonly host?: string;
  /** ALPN offered in the ClientHello (TLS), e.g. curl's `h2, http/1.1`. */
  readonly alpn?: readonly string[];
  /** HTTP request path, default `/`. */
  readonly path?: string;
  /** HTTP/1.1 unless told (`h2c` when the app speaks cleartext HTTP/2). */
  readonly httpVersion?: 'http/1.1' | 'h2c' | 'http/1.0';
  /** Source address of the app (the pod IP), for source criteria. */
  readonly sourceIp?: string;
  readonly sourcePort?: number;
}

/** `curl https://H` from an app container: TLS, SNI H, ALPN h2 + http/1.1, port 443 unless given. */
export function httpsConnection(host: string, options: { port?: number; ip?: string; sourceIp?: string } = {}): OutboundConnection {
  // TLS clients send no SNI for an IP literal (RFC 6066 section 3), and the literal is the destination.
  const literal = isIpLiteral(host);
  const ip = options.ip ?? (literal ? host.replace(/^\[|\]$/g, '') : undefined);
  return {
    ...(ip ? { destinationIp: ip } : {}),
    port: options.port ?? 443,
    transport: 'tls',
    ...(literal ? {} : { sni: host }),
    alpn: ['h2', 'http/1.1'],
    ...(options.sourceIp ? { sourceIp: options.sourceIp } : {}),
  };
}

/** `curl http://H/path` from an app container: plaintext HTTP/1.1 with Host H, port 80 unless given. */
export function httpConnection(host: string, options: { port?: number; ip?: string; path?: string; sourceIp?: string } = {}): OutboundConnection {
  const port = options.port ?? 80;
  const ip = options.ip ?? (isIpLiteral(host) ? host.replace(/^\[|\]$/g, '') : undefined);
  return {
    ...(ip ? { destinationIp: ip } : {}),
    port,
    transport: 'plaintext',
    host: port === 80 ? host : `${host}:${port}`,
    path: options.path ?? '/',
    httpVersion: 'http/1.1',
    ...(options.sourceIp ? { sourceIp: options.sourceIp } : {}),
  };
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || /^\[?[0-9a-fA-F:]*:[0-9a-fA-F:.]*\]?$/.test(host);
}

export function describeConnection(c: OutboundConnection): string {
  const dest = `${c.destinationIp ?? '<external IP>'}:${c.port}`;
  if (c.transport === 'tls') return `TLS to ${dest}${c.sni ? ` with SNI ${c.sni}` : ' without SNI'}${c.alpn?.length ? `, ALPN ${c.alpn.join(',')}` : ''}`;
  return `plaintext to ${dest}${c.host ? `, Host ${c.host}` : ''}${c.path ? `, path ${c.path}` : ''}`;
}
