/**
 * A port's protocol as Istio derives it.
 *
 * Kubernetes Service ports: pkg/config/kube/conversion.go ConvertProtocol —
 *   1. `protocol: UDP` -> UDP;
 *   2. `appProtocol`, when set, replaces the port name as the input (an
 *      unrecognised appProtocol does NOT fall back to the name);
 *   3. the input is `grpc-web...` -> GRPC-Web, else the part before the first
 *      `-` is parsed case-insensitively (pkg/config/protocol/instance.go Parse):
 *      `http`, `http-foo`, `HTTP2`, `https-443`, `tls`, `grpc`, `mongo`...;
 *      `httpfoo` is not a protocol;
 *   4. nothing recognised -> "unsupported", which Istio treats as protocol
 *      auto-detection (sniffing), except well-known ports 25, 53, 3306, 27017,
 *      which are TCP.
 * ServiceEntry ports: pilot/pkg/serviceregistry/serviceentry/conversion.go
 *   convertPort uses `protocol.Parse(port.protocol)` only — the port name is
 *   NOT consulted; an empty protocol means auto-detection
 *   (pkg/config/validation: "Empty string is used for protocol sniffing").
 */
export type IstioProtocol =
  | 'HTTP'
  | 'HTTP2'
  | 'HTTPS'
  | 'HTTP_PROXY'
  | 'GRPC'
  | 'GRPC-Web'
  | 'TCP'
  | 'TLS'
  | 'UDP'
  | 'Mongo'
  | 'Redis'
  | 'MySQL';

export type ProtocolSource = 'appProtocol' | 'name' | 'protocol' | 'default';

export interface DerivedProtocol {
  /** undefined: Istio has no declared protocol and detects it (sniffing), or treats it as TCP where it cannot sniff. */
  protocol: IstioProtocol | undefined;
  /** Where the protocol came from. ServiceEntry `ports[].protocol` reports 'protocol'. */
  from: ProtocolSource;
  /** One sentence for a human: `port name "http" -> HTTP`. */
  detail: string;
}

const PARSE: Record<string, IstioProtocol> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

/** protocol.Parse: case-insensitive, exact names only. */
export function parseProtocol(value: string): IstioProtocol | undefined {
  return PARSE[value.toLowerCase()];
}

/** The protocol a port name (or appProtocol value) declares: `grpc-web*`, else the prefix before the first `-`. */
export function protocolFromName(name: string): IstioProtocol | undefined {
  if (name.length >= 8 && name.slice(0, 8).toLowerCase() === 'grpc-web') return 'GRPC-Web';
  const dash = name.indexOf('-');
  return parseProtocol(dash >= 0 ? name.slice(0, dash) : name);
}

/** Ports Istio never sniffs (pkg/config/kube/conversion.go wellKnownPorts). */
export const WELL_KNOWN_TCP_PORTS: ReadonlySet<number> = new Set([25, 53, 3306, 27017]);

export interface ServicePortInput {
  name?: string;
  port?: number;
  appProtocol?: string;
  /** Kubernetes transport protocol: TCP (default), UDP, SCTP. */
  protocol?: string;
}

/** ConvertProtocol for a Kubernetes Service port. */
export function serviceProtocol(port: ServicePortInput): DerivedProtocol {
  if (typeof port.protocol === 'string' && port.protocol.toUpperCase() === 'UDP') {
    return { protocol: 'UDP', from: 'protocol', detail: 'protocol: UDP' };
  }
  const appProtocol = typeof port.appProtocol === 'string' && port.appProtocol !== '' ? port.appProtocol : undefined;
  const input = appProtocol ?? port.name;
  const from: ProtocolSource = appProtocol !== undefined ? 'appProtocol' : 'name';
  const parsed = input !== undefined ? protocolFromName(input) : undefined;
  if (parsed !== undefined && parsed !== 'UDP') {
    return { protocol: parsed, from, detail: `${from === 'appProtocol' ? 'appProtocol' : 'port name'} "${input}" -> ${parsed}` };
  }
  if (parsed === 'UDP') {
    // A port *named* udp on a TCP port: Parse gives UDP, which Istio keeps; the listener code then skips it.
    return { protocol: 'UDP', from, detail: `${from === 'appProtocol' ? 'appProtocol' : 'port name'} "${input}" -> UDP` };
  }
  if (port.port !== undefined && WELL_KNOWN_TCP_PORTS.has(port.port)) {
    return { protocol: 'TCP', from: 'default', detail: `${describeInput(appProtocol, port.name)}; port ${port.port} is a well-known port, treated as TCP` };
  }
  return { protocol: undefined, from: 'default', detail: `${describeInput(appProtocol, port.name)}; Istio auto-detects the protocol` };
}

function describeInput(appProtocol: string | undefined, name: string | undefined): string {
  if (appProtocol !== undefined) return `appProtocol "${appProtocol}" is not an Istio protocol (the port name is not consulted when appProtocol is set)`;
  if (name === undefined || name === '') return 'unnamed port, no appProtocol';
  return `port name "${name}" has no protocol prefix, no appProtocol`;
}

/** convertPort for a ServiceEntry port: `protocol` only; the name does not count. */
export function serviceEntryProtocol(port: { name?: string; protocol?: string }): DerivedProtocol {
  const declared = typeof port.protocol === 'string' && port.protocol !== '' ? port.protocol : undefined;
  if (declared !== undefined) {
    const parsed = parseProtocol(declared);
    if (parsed) return { protocol: parsed, from: 'protocol', detail: `protocol: ${declared}` };
    return { protocol: undefined, from: 'protocol', detail: `protocol "${declared}" is not an Istio protocol (validation would reject it)` };
  }
  const byName = port.name ? protocolFromName(port.name) : undefined;
  const note = byName ? ` (the name "${port.name}" suggests ${byName}, but Istio does not read ServiceEntry port names)` : '';
  return { protocol: undefined, from: 'default', detail: `no protocol; Istio auto-detects it${note}` };
}

/** protocol.Instance.IsHTTP: HTTP, HTTP2, HTTP_PROXY, GRPC, GRPC-Web. */
export function isHttpFamily(protocol: IstioProtocol | undefined): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'HTTP_PROXY' || protocol === 'GRPC' || protocol === 'GRPC-Web';
}

/** protocol.Instance.IsTLS: HTTPS, TLS. */
export function isTlsProtocol(protocol: IstioProtocol | undefined): boolean {
  return protocol === 'HTTPS' || protocol === 'TLS';
}

/**
 * Opaque TCP as the outbound listener sees it: TCP, Mongo, Redis, MySQL, and an
 * unset protocol (auto-detection puts a TCP chain on the listener too).
 */
export function isOpaqueTcp(protocol: IstioProtocol | undefined): boolean {
  return protocol === undefined || protocol === 'TCP' || protocol === 'Mongo' || protocol === 'Redis' || protocol === 'MySQL';
}

/** Coarse class for listener conflicts: http | tls | tcp | udp. */
export function protocolClass(protocol: IstioProtocol | undefined): 'http' | 'tls' | 'tcp' | 'udp' {
  if (isHttpFamily(protocol)) return 'http';
  if (isTlsProtocol(protocol)) return 'tls';
  if (protocol === 'UDP') return 'udp';
  return 'tcp';
}

export function describeProtocol(protocol: IstioProtocol | undefined): string {
  return protocol ?? 'unset (auto-detect)';
}
