/**
 * The server sidecar's inbound idle timeout: how long its inbound HTTP
 * connection manager keeps an idle downstream connection (the client
 * sidecar's pooled one) before closing it. Envoy's field is the HCM's
 * `common_http_protocol_options.idle_timeout` (envoy/config/core/v3/
 * protocol.proto, default 1h); Istio sets it on inbound listeners from
 * ISTIO_META_IDLE_TIMEOUT (pilot/pkg/networking/core/listener_builder.go).
 * A client whose cluster keeps connections longer races this close, as it
 * races an app's keep-alive (MD3009).
 */
import type { ConfigDump } from './config-dump.js';
import { durationSeconds } from './json.js';

export interface InboundIdleTimeout {
  ms: number;
  /** The listener it was read from (`virtualInbound`). */
  listener: string;
  /** The field as the dump has it, for the finding's evidence. */
  excerpt: string;
}

export function inboundIdleTimeout(dump: ConfigDump, port: number): InboundIdleTimeout | undefined {
  const inbound = dump.listeners.filter((l) => l.name === 'virtualInbound');
  for (const listener of inbound) {
    for (const chain of listener.filterChains.filter((c) => c.match.destinationPort === port)) {
      const options = chain.terminalFilter?.httpConnectionManager ? chain.terminalFilter.typedConfig?.common_http_protocol_options : undefined;
      const raw = (options as { idle_timeout?: unknown } | undefined)?.idle_timeout;
      const seconds = durationSeconds(raw);
      if (seconds === undefined) continue;
      return { ms: Math.round(seconds * 1000), listener: listener.name, excerpt: JSON.stringify({ common_http_protocol_options: { idle_timeout: raw } }, null, 2) };
    }
  }
  return undefined;
}
