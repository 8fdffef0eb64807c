/**
 * An oracle config dump (Istio's own generator) with ISTIO_META_IDLE_TIMEOUT's
 * effect added: Istio writes the inbound HTTP connection managers'
 * `common_http_protocol_options.idle_timeout` only for a proxy with that
 * metadata (pilot/pkg/networking/core/listener_builder.go), which the
 * keepalive-race scenarios do not set. The field has the shape of Envoy's
 * HttpConnectionManager proto (a Duration string, as the dump's cluster
 * idle_timeout "0.500s").
 */
type Json = Record<string, any>;

export function withInboundIdle(raw: Json, idle: string): Json {
  for (const l of (raw.configs as Json[]).flatMap((c) => (c.dynamic_listeners ?? []) as Json[]).filter((x) => x.name === 'virtualInbound')) {
    for (const f of (l.active_state.listener.filter_chains as Json[]).flatMap((c) => c.filters as Json[])) {
      if (f.name === 'envoy.filters.network.http_connection_manager') f.typed_config.common_http_protocol_options = { idle_timeout: idle };
    }
  }
  return raw;
}
