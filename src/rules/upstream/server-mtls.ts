/**
 * What a server sidecar demands on an inbound port: read from its inbound
 * listener's filter chains (STRICT leaves only `transport_protocol: tls`
 * chains that require a client certificate; PERMISSIVE adds raw_buffer
 * chains), and from the effective PeerAuthentication (mesh, namespace,
 * workload, port level; the legacy MeshPolicy of seed 004's era).
 */
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import { formatCidr, type FilterChain, type Listener } from '../../model/envoy/listeners.js';
import { effectiveMtls, type EffectiveMtls } from '../../model/istio/peer-authentication.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import type { ResourceSet } from '../../model/k8s/resources.js';

export type ServerRequirement = 'mtls' | 'tls' | 'plaintext-accepted' | 'unknown';

export interface InboundChain {
  listener: string;
  name: string;
  /** `Trans: tls`, `port 8080`, ... in istioctl's words. */
  match: string;
  terminatesTls: boolean;
  requireClientCertificate: boolean;
  acceptsPlaintext: boolean;
}

export interface ServerDemand {
  port: number;
  requires: ServerRequirement;
  basis: 'config' | 'peer-authentication';
  chains: InboundChain[];
  mtls: EffectiveMtls;
  because: string;
}

function describeMatch(chain: FilterChain): string {
  const m = chain.match;
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`port ${m.destinationPort}`);
  if (m.prefixRanges.length) parts.push(`Addr: ${m.prefixRanges.map(formatCidr).join(',')}`);
  if (m.transportProtocol) parts.push(`Trans: ${m.transportProtocol}`);
  if (m.applicationProtocols.length) parts.push(`App: ${m.applicationProtocols.join(',')}`);
  return parts.join('; ') || 'ALL';
}

function view(listener: Listener, chain: FilterChain): InboundChain {
  const tls = chain.transportSocket?.tls;
  const transport = chain.match.transportProtocol;
  return {
    listener: listener.name,
    name: chain.name,
    match: describeMatch(chain),
    terminatesTls: Boolean(tls),
    requireClientCertificate: Boolean(tls?.requireClientCertificate),
    acceptsPlaintext: !tls && transport !== 'tls',
  };
}

/**
 * The inbound chains a connection to `port` can land on: virtualInbound's
 * chains for that port, else its port-less chains (the passthrough ones);
 * before virtualInbound (Istio < 1.5ish) a listener `<podIP>_<port>`.
 */
export function inboundChains(dump: ConfigDump, port: number, podIp?: string): InboundChain[] {
  const virtual = dump.listener('virtualInbound');
  if (virtual) {
    const chains = virtual.allFilterChains.filter((c) => c.match.destinationPort === port);
    const fallback = chains.length > 0 ? chains : virtual.allFilterChains.filter((c) => c.match.destinationPort === undefined);
    return fallback.map((c) => view(virtual, c));
  }
  const perPort = dump.listeners.find((l) => l.port === port && (l.trafficDirection === 'INBOUND' || (podIp !== undefined && l.address?.address === podIp)));
  return perPort ? perPort.allFilterChains.map((c) => view(perPort, c)) : [];
}

export function serverDemand(input: {
  dump?: ConfigDump;
  port: number;
  podIp?: string;
  workload: { namespace: string; labels: Record<string, string> };
  resources: ResourceSet;
  mesh: MeshConfigView;
}): ServerDemand {
  const mtls = effectiveMtls(input.resources, input.workload, input.port, { mesh: input.mesh });
  const chains = input.dump ? inboundChains(input.dump, input.port, input.podIp) : [];
  if (chains.length > 0) {
    const plaintext = chains.filter((c) => c.acceptsPlaintext);
    const requires: ServerRequirement = plaintext.length > 0 ? 'plaintext-accepted' : chains.every((c) => c.requireClientCertificate) ? 'mtls' : 'tls';
    const because = requires === 'plaintext-accepted'
      ? `inbound chain ${plaintext[0].name} (${plaintext[0].match}) accepts plaintext on port ${input.port}`
      : `every inbound chain for port ${input.port} terminates TLS${requires === 'mtls' ? ' and requires a client certificate' : ''} (${chains.map((c) => `${c.name}: ${c.match}`).join('; ')})`;
    return { port: input.port, requires, basis: 'config', chains, mtls, because: `${because}; PeerAuthentication: ${mtls.because}` };
  }
  const requires: ServerRequirement = mtls.mode === 'STRICT' ? 'mtls' : 'plaintext-accepted';
  return {
    port: input.port,
    requires,
    basis: 'peer-authentication',
    chains,
    mtls,
    because: `${mtls.because} (the server's inbound listener was not available)`,
  };
}
