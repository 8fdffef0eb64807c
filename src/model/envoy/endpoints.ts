/**
 * Endpoints (envoy.config.endpoint.v3.ClusterLoadAssignment) from an
 * EndpointsConfigDump, present only when the dump was taken with
 * `/config_dump?include_eds`. Shapes from Envoy's admin/v3/config_dump.proto
 * and endpoint/v3/endpoint_components.proto.
 */
import { type JsonObject, type SocketAddress, field, num, obj, objs, readAddress, str } from './json.js';

export interface Endpoint {
  readonly address: SocketAddress;
  /** `HEALTHY`, `UNHEALTHY`, `DRAINING`... (`UNKNOWN` when Envoy printed none). */
  readonly healthStatus: string;
  readonly priority: number;
  readonly weight?: number;
  readonly locality?: { region?: string; zone?: string; subZone?: string };
  /** `envoy.transport_socket_match.tlsMode` (Istio labels endpoints that run a sidecar `istio`). */
  readonly tlsMode?: string;
  readonly raw: JsonObject;
}

export class ClusterLoadAssignment {
  readonly raw: JsonObject;
  readonly state: 'static' | 'dynamic';
  constructor(raw: JsonObject, state: 'static' | 'dynamic') {
    this.raw = raw;
    this.state = state;
  }
  get clusterName(): string {
    return str(this.raw, 'cluster_name') ?? '';
  }
  get endpoints(): Endpoint[] {
    const out: Endpoint[] = [];
    for (const group of objs(this.raw, 'endpoints')) {
      const priority = num(group, 'priority') ?? 0;
      const loc = obj(group, 'locality');
      const locality = loc ? { region: str(loc, 'region'), zone: str(loc, 'zone'), subZone: str(loc, 'sub_zone') } : undefined;
      for (const lb of objs(group, 'lb_endpoints')) {
        const address = readAddress(field(obj(lb, 'endpoint'), 'address'));
        if (!address) continue;
        const weight = num(lb, 'load_balancing_weight');
        const tlsMode = str(obj(obj(obj(lb, 'metadata'), 'filter_metadata'), 'envoy.transport_socket_match'), 'tlsMode');
        out.push({
          address,
          healthStatus: str(lb, 'health_status') ?? 'UNKNOWN',
          priority,
          ...(weight !== undefined ? { weight } : {}),
          ...(locality ? { locality } : {}),
          ...(tlsMode !== undefined ? { tlsMode } : {}),
          raw: lb,
        });
      }
    }
    return out;
  }
}

/** Reads an EndpointsConfigDump (static_endpoint_configs and dynamic_endpoint_configs). */
export function readEndpointsConfigDump(dump: JsonObject): ClusterLoadAssignment[] {
  const out: ClusterLoadAssignment[] = [];
  for (const [key, state] of [
    ['static_endpoint_configs', 'static'],
    ['dynamic_endpoint_configs', 'dynamic'],
  ] as const) {
    for (const e of objs(dump, key)) {
      const cla = obj(e, 'endpoint_config');
      if (cla) out.push(new ClusterLoadAssignment(cla, state));
    }
  }
  return out;
}
